"""The WSGI app ``bench_peers.py`` runs under gunicorn: MediaMiddleware over local storage.

Configured from the environment, so that gunicorn's workers build the same
Media as the benchmark that made the URLs:

* ``S3MEDIA_BENCH_ROOT``: the LocalStorage folder (the originals are already in it);
* ``S3MEDIA_BENCH_SECRET``: the signing secret;
* ``S3MEDIA_BENCH_JPEG_DRAFT``: ``ImageLimits.jpeg_draft`` (2 unless set).

    gunicorn -w 2 -b 127.0.0.1:8000 --chdir benchmarks peers_app:app
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

# thumbor's virtualenv has no pillow-heif, so it reads no HEIC; the dev extra
# installs it here.  Leave it out (as an install without the heic extra
# would): its codec libraries add ~5 MiB to each worker's RSS.
sys.modules.setdefault("pillow_heif", None)  # type: ignore[arg-type]

from s3media_wsgi import LocalStorage, Media, MediaMiddleware  # noqa: E402
from s3media_wsgi.imaging import ImageLimits  # noqa: E402


def not_found(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"not found"]


media = Media(
    LocalStorage(os.environ["S3MEDIA_BENCH_ROOT"], base_url="/media/"),
    secret_key=os.environ["S3MEDIA_BENCH_SECRET"],
    image_limits=ImageLimits(jpeg_draft=int(os.environ.get("S3MEDIA_BENCH_JPEG_DRAFT", "2"))),
)
app = MediaMiddleware(not_found, media, prefix="/media/")
