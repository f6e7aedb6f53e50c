"""A plain-WSGI gallery: upload images straight to storage, see their resizes made on first request.

Run it with ``make demo`` (or ``python examples/wsgi_app.py``) and open
http://127.0.0.1:8000/ (``HOST`` and ``PORT`` change that).  Files go to
``./media`` through :class:`LocalStorage` and the middleware serves them,
making each resize on its first request; the list of ids is ``./media.json``
(or ``GALLERY_FILE``).  It accepts images only (``S3MEDIA_ALLOWED_TYPES``
changes that), and the library's log lines -- every upload stored or
confirmed, every resize made and how long it took -- print to the terminal.

Drop images on the page, or choose several: each goes straight to storage
with ``uploader.js`` (served by the middleware, whose upload routes
``MediaMiddleware(..., uploads=hook)`` turns on), with a progress bar; once
the middleware has confirmed it, the page POSTs its receipt (the id, signed:
a bare id is not taken) to ``/register``, which checks it and answers the new
section's HTML.  Without JavaScript the
form posts the files to ``/upload``, which stores them with ``media.put``.

With S3 instead, set ``S3MEDIA_STORAGE=s3``, ``S3MEDIA_BUCKET``, ``S3MEDIA_REGION``
and ``S3MEDIA_BASE_URL`` (plus ``S3MEDIA_ENDPOINT_URL`` for an S3-compatible
service); credentials come from boto3's usual places.  Every other setting
(``S3MEDIA_PRESETS``, ``S3MEDIA_MAX_PIXELS``, ...) works the same way.  The
secret and the list of ids come from ``gallery_common.py``, shared by all the
examples.
"""

from __future__ import annotations

import html
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import IO, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from gallery_common import (
    NO_FILE,
    UPLOAD_SCRIPT,
    Refused,
    Uploads,
    anyone_may_upload,
    dev_secret,
    listen_address,
    media_settings,
    refusal_message,
    register,
    shown_id,
    uploads_file,
)
from webob import Request, Response
from webob.exc import HTTPBadRequest, HTTPMethodNotAllowed, HTTPNotFound, HTTPSeeOther

from s3media_wsgi import Media, MediaMiddleware
from s3media_wsgi.errors import MediaError
from s3media_wsgi.responder import uploader_url

__all__ = ["PREFIX", "VARIANTS", "Gallery", "dev_secret", "make_app", "media_from_env", "setup_logging"]

#: ``make demo`` runs from the repository root, so uploads land in ./media.
DEFAULT_ROOT = Path("media")
#: Where the middleware answers: stored files, resizes, uploader.js and the upload routes.
PREFIX = "/media/"

#: The resizes shown for every image: (label, size, options).
VARIANTS = [
    ("fit 400×300", "400x300", {}),
    ("fill 300×300", "300x300", {"mode": "fill"}),
    ("fit 400×300 webp", "400x300", {"format": "webp"}),
    ("fit 400×300 avif", "400x300", {"format": "avif"}),
]


def media_from_env() -> Media:
    """Built by the shared settings parser from ``S3MEDIA_*`` variables."""
    settings = media_settings(os.environ, DEFAULT_ROOT)
    return Media.from_settings({f"S3MEDIA_{key}": value for key, value in settings.items()}, prefix="S3MEDIA_")


class Gallery:
    """The host application: knows nothing about serving media, only ids."""

    def __init__(self, media: Media, index_file: str | Path) -> None:
        self.media = media
        self.uploads = Uploads(Path(index_file))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        req = Request(environ)
        try:
            if req.path == "/":
                resp = self.page(req)
            elif req.path == "/register":
                resp = self.register(req)
            elif req.path == "/upload":
                resp = self.upload(req)
            elif req.path == "/delete":
                resp = self.delete(req)
            else:
                resp = HTTPNotFound()
        except MediaError as exc:
            # Not an upload refusal (those are answered in upload()): say little.
            resp = self.page(req, error=f"{exc.public_message}.", status=exc.status_code)
        body: Iterable[bytes] = resp(environ, start_response)
        return body

    def register(self, req: Request) -> Response:
        """The page reports an upload the middleware confirmed: check it, list it, answer its HTML.

        JSON only (``{"receipt", "name"}``), which a form on another site cannot
        send; the receipt and its image are checked here (``gallery_common.received_image``),
        and the size and placeholder come signed inside the receipt.
        """
        if req.method != "POST":
            return HTTPMethodNotAllowed()
        if req.content_type != "application/json":
            return _json({"error": "Send the upload as JSON."}, 415)
        try:
            payload = json.loads(req.body)
        except ValueError:
            payload = None
        try:
            item = register(self.media, self.uploads, payload)
        except Refused as refused:
            return _json({"error": str(refused)}, refused.status)
        return _json({"id": item["id"], "html": self.section(item)})

    def upload(self, req: Request) -> Response:
        """Without JavaScript: the form's files, stored by the app itself."""
        if req.method != "POST":
            return HTTPMethodNotAllowed()
        fields = [field for field in req.POST.getall("photo") if hasattr(field, "file")]
        if not fields:
            return self.page(req, error=NO_FILE, status=400)
        for field in fields:
            try:
                media_id = self.media.put(field.file, filename=field.filename)
            except MediaError as exc:
                return self.page(req, error=refusal_message(exc), status=exc.status_code)
            self.uploads.add(media_id, field.filename)
        return HTTPSeeOther(location="/")

    def delete(self, req: Request) -> Response:
        if req.method != "POST":
            return HTTPMethodNotAllowed()
        media_id = req.POST.get("id", "")
        # Only ids of this gallery: the form must not delete anything else in storage.
        if not self.uploads.remove(media_id):
            return HTTPBadRequest("unknown id")
        self.media.delete(media_id)
        return HTTPSeeOther(location="/")

    def section(self, item: dict[str, Any]) -> str:
        """One image of the page: its resizes side by side, a link to the original, a delete button."""
        media_id = item["id"]
        cells = "".join(
            f'<figure><img src="{html.escape(self.media.resize_url(media_id, size, **opts))}" '
            f'alt="{html.escape(label)}" loading="lazy"><figcaption>{html.escape(label)}</figcaption></figure>'
            for label, size, opts in VARIANTS
        )
        # The responsive <picture> of the kept stored value: sized, the blurred placeholder as its background.
        kept = shown_id(item)
        shown = self.media.picture(kept, sizes=[320, 640], sizes_attr="20rem", alt=media_id, placeholder=True)
        cells = f'<figure class="picture">{shown}<figcaption>picture, placeholder first</figcaption></figure>' + cells
        return (
            f'<section><h2><a href="{html.escape(self.media.url(media_id))}">{html.escape(media_id)}</a>'
            f" <small>{kept.width}×{kept.height}</small></h2>"
            f'<div class="row">{cells}</div>'
            f'<form method="post" action="/delete"><input type="hidden" name="id" value="{html.escape(media_id)}">'
            f"<button>Delete</button></form></section>"
        )

    def page(self, req: Request, error: str | None = None, status: int = 200) -> Response:
        body = PAGE.format(
            error=f'<p class="error">{html.escape(error)}</p>' if error else "",
            rows="".join(self.section(item) for item in self.uploads.items())
            or '<p class="empty">No images yet: upload one.</p>',
            endpoint=html.escape(PREFIX.rstrip("/")),
            uploader=html.escape(uploader_url(PREFIX)),
            script=UPLOAD_SCRIPT,
        )
        return Response(body, status=status, content_type="text/html", charset="utf-8")


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, content_type="application/json", charset="utf-8")


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>s3media_wsgi demo</title>
<style>
body {{ font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; }}
.row {{ display: flex; gap: 1rem; flex-wrap: wrap; align-items: flex-start; }}
figure {{ margin: 0; }} figure img {{ display: block; background: #eee; }}
.picture img {{ width: 20rem; height: auto; }}
figcaption {{ color: #555; font-size: 13px; }} .error {{ color: #b00; }}
section {{ border-top: 1px solid #ddd; padding: 1rem 0; }} h2 {{ font-size: 14px; font-weight: normal; }}
.drop {{ border: 2px dashed #aaa; border-radius: 6px; padding: 1rem; }}
.drop.dragging {{ border-color: #36c; background: #eef3ff; }}
#queue {{ list-style: none; padding: 0; }} #queue li {{ display: flex; gap: .5rem; align-items: center; }}
</style></head>
<body><h1>s3media_wsgi demo</h1>
<form id="upload" class="drop" method="post" action="/upload" enctype="multipart/form-data"
 data-endpoint="{endpoint}" data-register="/register">
<label>Drop images, videos or PDFs anywhere on the page, or choose some:
<input type="file" name="photo" accept="image/*,video/*,application/pdf" multiple required></label>
<button>Upload</button></form>
<ul id="queue" aria-live="polite"></ul>
{error}<div id="gallery">{rows}</div>
<script type="module">
import {{uploadDetailed}} from "{uploader}";
{script}
</script>
</body></html>"""


def make_app(
    media: Media | None = None,
    index_file: str | Path | None = None,
    uploads: Callable[[Request], bool] = anyone_may_upload,
) -> MediaMiddleware:
    """The gallery wrapped in the media middleware: what a server runs.

    By default *media* and *index_file* come from the environment, as in the
    other examples.  *uploads* is the hook that turns the middleware's upload
    routes on: it gets each upload request (a ``webob.Request``) and says
    whether its user may upload.  This demo has no users, so everyone may; a
    real app looks at its session, e.g.
    ``uploads=lambda request: sessions.user_of(request.cookies.get("session")) is not None``.
    """
    media = media or media_from_env()
    local_root = os.environ.get("S3MEDIA_LOCAL_ROOT", DEFAULT_ROOT)
    gallery = Gallery(media, index_file or uploads_file(os.environ, local_root))
    # How resizes are answered when storage is S3 (S3MEDIA_DELIVERY: website, serve or private).
    delivery = os.environ.get("S3MEDIA_DELIVERY") or None
    return MediaMiddleware(gallery, media, prefix=PREFIX, uploads=uploads, delivery=delivery)


#: The handler :func:`setup_logging` adds, found again by its name.
LOG_HANDLER_NAME = "s3media-demo"


def setup_logging(stream: IO[str] | None = None) -> logging.Handler:
    """Print the library's INFO lines ("stored ...", "resize ... made in ... ms") to *stream* (stderr).

    Only the ``s3media_wsgi`` logger is turned up, not boto3's or anyone
    else's.  Calling it again replaces the handler rather than adding one.
    """
    logger = logging.getLogger("s3media_wsgi")
    for old in [h for h in logger.handlers if h.name == LOG_HANDLER_NAME]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.name = LOG_HANDLER_NAME
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s", "%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def main() -> None:
    setup_logging()
    host, port = listen_address(os.environ)
    server = make_server(host, port, make_app(), server_class=ThreadingServer, handler_class=WSGIRequestHandler)
    print(f"s3media_wsgi demo on http://{host}:{port}/  (Ctrl-C to stop)", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
