"""A plain-WSGI gallery: upload an image, see its resizes made on first request.

Run it with ``make demo`` (or ``python examples/wsgi_app.py``) and open
http://127.0.0.1:8000/.  Files go to ``./media`` through :class:`LocalStorage`
and the middleware serves them, making each resize on its first request.

With S3 instead, set ``S3MEDIA_STORAGE=s3``, ``S3MEDIA_BUCKET``, ``S3MEDIA_REGION``
and ``S3MEDIA_BASE_URL`` (plus ``S3MEDIA_ENDPOINT_URL`` for an S3-compatible
service); credentials come from boto3's usual places.  Every other setting
(``S3MEDIA_PRESETS``, ``S3MEDIA_MAX_PIXELS``, ...) works the same way.
"""

from __future__ import annotations

import html
import json
import os
import secrets
import sys
import threading
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from webob import Request, Response
from webob.exc import HTTPBadRequest, HTTPMethodNotAllowed, HTTPNotFound, HTTPSeeOther

from s3media_wsgi import Media, MediaMiddleware
from s3media_wsgi.errors import MediaError

#: The resizes shown for every image: (label, size, options).
VARIANTS = [
    ("fit 400×300", "400x300", {}),
    ("fill 300×300", "300x300", {"mode": "fill"}),
    ("fit 400×300 webp", "400x300", {"format": "webp"}),
    ("fit 400×300 avif", "400x300", {"format": "avif"}),
]


def dev_secret(path: str = ".dev-secret") -> str:
    """The secret from ``S3MEDIA_SECRET_KEY``, else one generated once and kept in *path*."""
    env = os.environ.get("S3MEDIA_SECRET_KEY")
    if env:
        return env
    p = Path(path)
    if not p.exists():
        p.write_text(secrets.token_urlsafe(48) + "\n")
        p.chmod(0o600)
    return p.read_text().strip()


def media_from_env() -> Media:
    """Built by the shared settings parser from ``S3MEDIA_*`` variables; local ./media by default."""
    settings = {k: v for k, v in os.environ.items() if k.startswith("S3MEDIA_")}
    settings["S3MEDIA_SECRET_KEY"] = dev_secret()
    return Media.from_settings(settings, prefix="S3MEDIA_")


class Gallery:
    """The host application: knows nothing about serving media, only ids."""

    def __init__(self, media: Media, index_file: str = ".gallery.json") -> None:
        self.media = media
        self.index = Path(index_file)
        self.lock = threading.Lock()

    def _load(self) -> list[dict]:
        try:
            return json.loads(self.index.read_text())
        except (OSError, ValueError):
            return []

    def _save(self, items: list[dict]) -> None:
        tmp = self.index.with_suffix(".tmp")
        tmp.write_text(json.dumps(items, indent=1))
        os.replace(tmp, self.index)

    def __call__(self, environ, start_response):
        req = Request(environ)
        try:
            if req.path == "/":
                resp = self.page(req)
            elif req.path == "/upload":
                resp = self.upload(req)
            elif req.path == "/delete":
                resp = self.delete(req)
            else:
                resp = HTTPNotFound()
        except MediaError as exc:
            resp = self.page(req, error=str(exc), status=400)
        return resp(environ, start_response)

    def upload(self, req: Request) -> Response:
        if req.method != "POST":
            return HTTPMethodNotAllowed()
        field = req.POST.get("photo")
        if field is None or not hasattr(field, "file"):
            return self.page(req, error="Choose a file first.", status=400)
        media_id = self.media.put(field.file, filename=field.filename)
        with self.lock:
            items = self._load()
            items.insert(0, {"id": media_id, "width": media_id.width, "height": media_id.height})
            self._save(items)
        return HTTPSeeOther(location="/")

    def delete(self, req: Request) -> Response:
        if req.method != "POST":
            return HTTPMethodNotAllowed()
        media_id = req.POST.get("id", "")
        with self.lock:
            items = self._load()
            if not any(item["id"] == media_id for item in items):
                return HTTPBadRequest("unknown id")
            self.media.delete(media_id)
            self._save([item for item in items if item["id"] != media_id])
        return HTTPSeeOther(location="/")

    def page(self, req: Request, error: str | None = None, status: int = 200) -> Response:
        rows = []
        for item in self._load():
            media_id = item["id"]
            cells = "".join(
                f'<figure><img src="{html.escape(self.media.resize_url(media_id, size, **opts))}" '
                f'alt="{html.escape(label)}" loading="lazy"><figcaption>{html.escape(label)}</figcaption></figure>'
                for label, size, opts in VARIANTS
            )
            rows.append(
                f'<section><h2><a href="{html.escape(self.media.url(media_id))}">{html.escape(media_id)}</a>'
                f" <small>{item.get('width')}×{item.get('height')}</small></h2>"
                f'<div class="row">{cells}</div>'
                f'<form method="post" action="/delete"><input type="hidden" name="id" value="{html.escape(media_id)}">'
                f"<button>Delete</button></form></section>"
            )
        body = PAGE.format(
            error=f'<p class="error">{html.escape(error)}</p>' if error else "",
            rows="".join(rows) or "<p>No images yet: upload one.</p>",
        )
        return Response(body, status=status, content_type="text/html", charset="utf-8")


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>s3media_wsgi demo</title>
<style>
body {{ font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; }}
.row {{ display: flex; gap: 1rem; flex-wrap: wrap; align-items: flex-start; }}
figure {{ margin: 0; }} figure img {{ display: block; background: #eee; }}
figcaption {{ color: #555; font-size: 13px; }} .error {{ color: #b00; }}
section {{ border-top: 1px solid #ddd; padding: 1rem 0; }} h2 {{ font-size: 14px; font-weight: normal; }}
</style></head>
<body><h1>s3media_wsgi demo</h1>
<form method="post" action="/upload" enctype="multipart/form-data">
<input type="file" name="photo" accept="image/*" required> <button>Upload</button></form>
{error}{rows}
</body></html>"""


def make_app(media: Media | None = None, index_file: str = ".gallery.json"):
    """The gallery wrapped in the media middleware: what a server runs."""
    media = media or media_from_env()
    return MediaMiddleware(Gallery(media, index_file), media, prefix="/media/")


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def main() -> None:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    server = make_server(host, port, make_app(), server_class=ThreadingServer, handler_class=WSGIRequestHandler)
    print(f"s3media_wsgi demo on http://{host}:{port}/  (Ctrl-C to stop)", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
