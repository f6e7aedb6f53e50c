"""A small Pyramid gallery: upload images, list them as responsive <picture>s, delete them.

Run it (from the repository root) and open http://127.0.0.1:8000::

    .venv/bin/python examples/pyramid_app.py

Local storage in ``examples/media/pyramid/`` by default.  Every ``S3MEDIA_*``
environment variable becomes the ``s3media.*`` setting of the same name
(``S3MEDIA_BUCKET`` → ``s3media.bucket``), so S3 is::

    S3MEDIA_STORAGE=s3 S3MEDIA_BUCKET=my-bucket S3MEDIA_REGION=eu-west-1 \\
        .venv/bin/python examples/pyramid_app.py

In an ``.ini`` file the same settings read ``s3media.storage = s3`` etc.  The
secret is ``S3MEDIA_SECRET_KEY``, or a development secret kept in
``.dev-secret`` in the working directory.  The list of ids is a JSON file next
to the media folder.  No login, no CSRF protection: a demo for your own machine.

The page is a Jinja2 template drawn by a ten-line renderer; with pyramid_jinja2
or Chameleon the template would read ``picture(...)`` from the renderer
globals just the same.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from wsgiref.simple_server import make_server

import jinja2
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request

from s3media_wsgi.errors import MediaError

HERE = Path(__file__).resolve().parent
DEFAULT_ROOT = HERE / "media" / "pyramid"

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Gallery (Pyramid)</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
    ul { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: 1rem; }
    img { width: 100%; height: auto; display: block; }
    .error { color: #a00; }
  </style>
</head>
<body>
  <h1>Gallery</h1>
  {% if error %}<p class="error">{{ error }}</p>{% endif %}
  <form method="post" action="/upload" enctype="multipart/form-data">
    <input type="file" name="photo" accept="image/*" required>
    <button>Upload</button>
  </form>
  <ul>
  {% for item in items %}
    <li>
      {{ picture(item.id, sizes=[320, 640, 1280], width=item.width, height=item.height,
                 sizes_attr="(min-width: 60rem) 20rem, 100vw", alt=item.name) }}
      <form method="post" action="/delete">
        <input type="hidden" name="id" value="{{ item.id }}">
        <a href="{{ media_url(item.id) }}">original</a>
        <button>Delete</button>
      </form>
    </li>
  {% else %}
    <li>No images yet.</li>
  {% endfor %}
  </ul>
</body>
</html>
"""


def load_secret(environ: Mapping[str, str]) -> str:
    """``S3MEDIA_SECRET_KEY``, or a development secret saved in ``.dev-secret`` (made once)."""
    if environ.get("S3MEDIA_SECRET_KEY"):
        return environ["S3MEDIA_SECRET_KEY"]
    path = Path(".dev-secret")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48) + "\n")
    return path.read_text().strip()


class Gallery:
    """The list of uploaded images, kept in a JSON file (written atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def items(self) -> list[dict[str, Any]]:
        try:
            return list(json.loads(self.path.read_text()))
        except FileNotFoundError:
            return []

    def contains(self, media_id: str) -> bool:
        return any(item["id"] == media_id for item in self.items())

    def _save(self, items: list[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".gallery-")
        with os.fdopen(fd, "w") as fh:
            json.dump(items, fh, indent=1)
        os.replace(tmp, self.path)

    def add(self, item: dict[str, Any]) -> None:
        with self._lock:
            self._save([item, *self.items()])

    def remove(self, media_id: str) -> None:
        with self._lock:
            self._save([item for item in self.items() if item["id"] != media_id])


def jinja2_renderer(info: Any) -> Callable[[dict[str, Any], dict[str, Any]], str]:
    """Render :data:`PAGE` with the view's values over the renderer globals."""
    template = jinja2.Environment(autoescape=True).from_string(PAGE)

    def render(value: dict[str, Any], system: dict[str, Any]) -> str:
        return template.render({**system, **value})

    return render


def _gallery(request: Request) -> Gallery:
    return request.registry["gallery"]  # type: ignore[no-any-return]


def index(request: Request) -> dict[str, Any]:
    return {"items": _gallery(request).items(), "error": ""}


def _refused(request: Request, message: str, status: int) -> dict[str, Any]:
    request.response.status_int = status
    return {"items": _gallery(request).items(), "error": message}


def upload(request: Request) -> Any:
    photo = request.POST.get("photo")
    if photo is None or not getattr(photo, "filename", ""):
        return _refused(request, "Choose a file to upload.", 400)
    try:
        media_id = request.media.put(photo.file, filename=photo.filename)
    except MediaError as exc:
        return _refused(request, f"Upload refused: {exc.public_message}.", exc.status_code)
    _gallery(request).add({"id": media_id, "name": photo.filename, "width": media_id.width, "height": media_id.height})
    return HTTPSeeOther("/")


def delete(request: Request) -> Any:
    media_id = request.POST.get("id", "")
    # Only ids of this gallery: the form must not delete anything else in storage.
    if not _gallery(request).contains(media_id):
        return _refused(request, "No such image.", 404)
    request.media.delete(media_id)
    _gallery(request).remove(media_id)
    return HTTPSeeOther("/")


def settings_from_env(environ: Mapping[str, str]) -> dict[str, str]:
    """``S3MEDIA_FOO`` environment variables as ``s3media.foo`` settings."""
    settings = {"s3media." + k[len("S3MEDIA_"):].lower(): v for k, v in environ.items() if k.startswith("S3MEDIA_")}
    settings["s3media.secret_key"] = load_secret(environ)
    if settings.get("s3media.storage", "local").lower() == "local":
        settings.setdefault("s3media.local_root", str(DEFAULT_ROOT))
    return settings


def main(global_config: Mapping[str, Any] | None = None, **settings: Any) -> Any:
    """The WSGI app; *settings* (e.g. from an ``.ini`` file) override the environment."""
    settings = {**settings_from_env(os.environ), **settings}
    root = Path(settings.get("s3media.local_root", DEFAULT_ROOT))
    with Configurator(settings=settings) as config:
        config.include("s3media_wsgi.adapters.pyramid")
        config.registry["gallery"] = Gallery(Path(os.environ.get("GALLERY_FILE") or f"{root}.json"))
        config.add_renderer("gallery", jinja2_renderer)
        config.add_route("index", "/")
        config.add_route("upload", "/upload")
        config.add_route("delete", "/delete")
        config.add_view(index, route_name="index", request_method="GET", renderer="gallery")
        config.add_view(upload, route_name="upload", request_method="POST", renderer="gallery")
        config.add_view(delete, route_name="delete", request_method="POST", renderer="gallery")
        return config.make_wsgi_app()


if __name__ == "__main__":
    server = make_server("127.0.0.1", 8000, main())
    print("Serving on http://127.0.0.1:8000")
    server.serve_forever()
