"""s3media_wsgi: a media layer for WSGI apps.

Store an upload and get an id; turn the id into signed URLs for any size of the
image without a network call; the first request for a size makes it, every
later one is served by S3, a CDN, or (in development) the middleware from disk.

    from s3media_wsgi import Media, LocalStorage, MediaMiddleware

    media = Media(LocalStorage("media", base_url="/media/"), secret_key=SECRET)
    app = MediaMiddleware(app, media, prefix="/media/")
    media_id = media.put(request.files["photo"])
    media.resize_url(media_id, "400x300", mode="fill")
"""

from .errors import MediaError
from .media import Media, MediaId
from .middleware import MediaMiddleware
from .storage import LocalStorage, S3Storage, Storage

__version__ = "0.1.0"

__all__ = [
    "LocalStorage",
    "Media",
    "MediaError",
    "MediaId",
    "MediaMiddleware",
    "S3Storage",
    "Storage",
    "__version__",
]
