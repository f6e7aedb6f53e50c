"""s3media_wsgi: a media layer for WSGI apps.

Store an upload and get an id; turn the id into signed URLs for any size of the
image without a network call; the first request for a size makes it, every
later one is served by S3, a CDN, or (in development) the middleware from disk.

    from s3media_wsgi import Media, LocalStorage, MediaMiddleware

    media = Media(LocalStorage("media", base_url="/media/"), secret_key=SECRET)
    app = MediaMiddleware(app, media, prefix="/media/")
    media_id = media.put(request.files["photo"])
    media.resize_url(media_id, "400x300", mode="fill")

The public API is this package's ``__all__`` and the modules listed in
:data:`PUBLIC_MODULES` (each with its own ``__all__``).  Every other module is
internal: its names may change in any release.
"""

from .errors import MediaError
from .ids import MediaInfo
from .media import Media, MediaId
from .middleware import MediaMiddleware
from .storage import LocalStorage, S3Storage, Storage

__version__ = "0.1.0"

#: Modules whose ``__all__`` is public API; the rest of the package is internal.
PUBLIC_MODULES = (
    "s3media_wsgi.errors",
    "s3media_wsgi.settings",
    "s3media_wsgi.factory",
    "s3media_wsgi.storage",
    "s3media_wsgi.storage.base",
    "s3media_wsgi.storage.contract_suite",
    "s3media_wsgi.imaging",
    "s3media_wsgi.picture",
    "s3media_wsgi.previews",
    "s3media_wsgi.responder",
    "s3media_wsgi.response",
    "s3media_wsgi.wsgi",
    "s3media_wsgi.adapters.flask",
    "s3media_wsgi.adapters.pyramid",
    "s3media_wsgi.adapters.django",
    "s3media_wsgi.adapters.django.middleware",
    "s3media_wsgi.adapters.django.fields",
    "s3media_wsgi.adapters.django.lists",
    "s3media_wsgi.adapters.django.permissions",
    "s3media_wsgi.adapters.django.widgets",
    "s3media_wsgi.adapters.django.templatetags.s3media",
    "s3media_wsgi.adapters.django.tasks",
    "s3media_wsgi.adapters.django.storage",
    "s3media_wsgi.adapters.django.thumbnails",
    "s3media_wsgi.adapters.django.rest",
)

__all__ = [
    "LocalStorage",
    "Media",
    "MediaError",
    "MediaId",
    "MediaInfo",
    "MediaMiddleware",
    "S3Storage",
    "Storage",
    "__version__",
]
