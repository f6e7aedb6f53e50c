"""A small Flask gallery: upload images, list them as responsive <picture>s, delete them.

Run it (from the repository root) and open http://127.0.0.1:8000::

    .venv/bin/python examples/flask_app.py

Local storage in ``examples/media/flask/`` by default.  Every ``S3MEDIA_*``
environment variable goes into ``app.config`` unchanged, so S3 is::

    S3MEDIA_STORAGE=s3 S3MEDIA_BUCKET=my-bucket S3MEDIA_REGION=eu-west-1 \\
        .venv/bin/python examples/flask_app.py

The secret is ``S3MEDIA_SECRET_KEY``, or a development secret kept in
``.dev-secret`` in the working directory.  The gallery's list of ids is a JSON
file next to the media folder; no database.  There is no login and no CSRF
protection: this is a demo for your own machine, not a site.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, redirect, render_template_string, request

from s3media_wsgi.adapters.flask import S3Media, current_media
from s3media_wsgi.errors import MediaError

HERE = Path(__file__).resolve().parent
DEFAULT_ROOT = HERE / "media" / "flask"

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Gallery (Flask)</title>
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

    def _save(self, items: list[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".gallery-")
        with os.fdopen(fd, "w") as fh:
            json.dump(items, fh, indent=1)
        os.replace(tmp, self.path)

    def add(self, item: dict[str, Any]) -> None:
        with self._lock:
            self._save([item, *self.items()])

    def contains(self, media_id: str) -> bool:
        return any(item["id"] == media_id for item in self.items())

    def remove(self, media_id: str) -> bool:
        with self._lock:
            items = self.items()
            kept = [item for item in items if item["id"] != media_id]
            self._save(kept)
            return len(kept) != len(items)


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    """The gallery app, configured from *environ* (default: ``os.environ``)."""
    environ = os.environ if environ is None else environ
    app = Flask(__name__)
    app.config.update({k: v for k, v in environ.items() if k.startswith("S3MEDIA_")})
    app.config["S3MEDIA_SECRET_KEY"] = load_secret(environ)
    local = app.config.get("S3MEDIA_STORAGE", "local").lower() == "local"
    if local:
        app.config.setdefault("S3MEDIA_LOCAL_ROOT", str(DEFAULT_ROOT))
    S3Media(app)
    root = Path(app.config.get("S3MEDIA_LOCAL_ROOT", DEFAULT_ROOT))
    gallery = Gallery(Path(environ.get("GALLERY_FILE") or f"{root}.json"))

    def page(error: str = "", status: int = 200) -> tuple[str, int]:
        return render_template_string(PAGE, items=gallery.items(), error=error), status

    @app.get("/")
    def index() -> tuple[str, int]:
        return page()

    @app.post("/upload")
    def upload() -> Any:
        photo = request.files.get("photo")
        if photo is None or not photo.filename:
            return page("Choose a file to upload.", 400)
        try:
            media_id = current_media.put(photo)
        except MediaError as exc:
            return page(f"Upload refused: {exc.public_message}.", exc.status_code)
        gallery.add({"id": media_id, "name": photo.filename, "width": media_id.width, "height": media_id.height})
        return redirect("/", 303)

    @app.post("/delete")
    def delete() -> Any:
        media_id = request.form.get("id", "")
        # Only ids of this gallery: the form must not delete anything else in storage.
        if not gallery.contains(media_id):
            return page("No such image.", 404)
        current_media.delete(media_id)
        gallery.remove(media_id)
        return redirect("/", 303)

    return app


if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=8000)
