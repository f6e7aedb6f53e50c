"""What the example galleries share, so each example shows only its framework's part.

The examples import it as a top-level module: run as scripts they find it next
to themselves, and the Django project adds this folder to ``sys.path`` in its
settings.  It needs nothing but the standard library and s3media_wsgi::

    >>> from gallery_common import media_settings
    >>> media_settings({"S3MEDIA_SECRET_KEY": "demo-secret-0123456789-abcdefghijk"}, "media/demo")["LOCAL_ROOT"]
    'media/demo'

Its examples run as doctests (``tests/test_examples.py``).
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

from s3media_wsgi import MediaId
from s3media_wsgi.errors import ImageTooLarge, MediaError, NotAnImage, UnsupportedMediaType, UploadTooLarge
from s3media_wsgi.imaging import ImageEngine
from s3media_wsgi.sniff import TYPES

PREFIX = "S3MEDIA_"

#: What every gallery says when the form was sent without a file.
NO_FILE = "Choose a file to upload."

# Refusals whose own message (str(exc)) is written for the person uploading:
# it says what was wrong with the file.  Any other error shows its class's
# public_message, which never names a key, a path or a setting.
_TOLD_AS_IS = (UnsupportedMediaType, UploadTooLarge, ImageTooLarge, NotAnImage)


def dev_secret(path: str | Path = ".dev-secret", environ: Mapping[str, str] | None = None) -> str:
    """``S3MEDIA_SECRET_KEY``, else a random development secret made once and kept in *path*.

    The file is created readable by its owner only (it is git-ignored), and
    later calls read it back::

        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = Path(folder) / ".dev-secret"
        ...     secret = dev_secret(path, environ={})
        ...     len(secret), dev_secret(path, environ={}) == secret, oct(path.stat().st_mode & 0o777)
        (64, True, '0o600')
    """
    environ = os.environ if environ is None else environ
    if environ.get("S3MEDIA_SECRET_KEY"):
        return environ["S3MEDIA_SECRET_KEY"]
    path = Path(path)
    try:
        # O_EXCL: two processes starting at once cannot both write a secret.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48) + "\n")
    return path.read_text().strip()


def image_types() -> list[str]:
    """The kinds a gallery accepts: images this machine can decode, nothing else.

    A gallery shows every upload as resized ``<picture>``s, so a PDF, a video
    or a sound (which the library would store) would only give broken images.
    ``heic`` is in the list only when pillow-heif is installed::

        >>> {"jpeg", "png", "gif", "webp"} <= set(image_types()) and "pdf" not in image_types()
        True
    """
    engine = ImageEngine()
    return [kind for kind, filetype in TYPES.items() if filetype.is_image and engine.can_read(kind)]


def media_settings(environ: Mapping[str, str], default_root: str | Path) -> dict[str, str]:
    """Every ``S3MEDIA_*`` variable of *environ*, prefix removed, plus the secret.

    With local storage (the default) files go to *default_root* unless
    ``S3MEDIA_LOCAL_ROOT`` says otherwise.  Uploads are limited to
    :func:`image_types` unless ``S3MEDIA_ALLOWED_TYPES`` says otherwise.  Each
    example spells the keys its framework's way (``S3MEDIA_BUCKET``,
    ``s3media.bucket``, ``S3MEDIA["BUCKET"]``)::

        >>> secret = "demo-secret-0123456789-abcdefghijk"
        >>> settings = media_settings({"S3MEDIA_STORAGE": "s3", "S3MEDIA_SECRET_KEY": secret}, "media")
        >>> sorted(settings), settings["SECRET_KEY"], settings["STORAGE"]
        (['ALLOWED_TYPES', 'SECRET_KEY', 'STORAGE'], 'demo-secret-0123456789-abcdefghijk', 's3')
        >>> settings["ALLOWED_TYPES"].split(",") == image_types()
        True
    """
    settings = {key[len(PREFIX) :]: value for key, value in environ.items() if key.startswith(PREFIX)}
    settings["SECRET_KEY"] = dev_secret(environ=environ)
    settings.setdefault("ALLOWED_TYPES", ",".join(image_types()))
    if settings.get("STORAGE", "local").lower() == "local":
        settings.setdefault("LOCAL_ROOT", str(default_root))
    return settings


def refusal_message(exc: MediaError) -> str:
    """The sentence a gallery page shows when :meth:`Media.put` refuses an upload.

    The same in every example.  A refused file is described by the error's
    own message, written for the person uploading; anything else (storage
    trouble, say) by the short public message of its class, which gives
    nothing away::

        >>> from s3media_wsgi.errors import StorageUnavailable
        >>> refusal_message(UnsupportedMediaType("File type not accepted: PDF document. Accepted: JPEG image."))
        'Upload refused. File type not accepted: PDF document. Accepted: JPEG image.'
        >>> refusal_message(StorageUnavailable("timed out after 2.0 s reaching bucket photos"))
        'Upload refused. Storage unavailable, try again shortly.'
    """
    detail = str(exc).strip() if isinstance(exc, _TOLD_AS_IS) else ""
    detail = (detail or exc.public_message).rstrip(".")
    return f"Upload refused. {detail[:1].upper()}{detail[1:]}."


def uploads_file(environ: Mapping[str, str], local_root: str | Path) -> Path:
    """Where the list of uploads lives: ``GALLERY_FILE``, else next to the media folder.

    >>> uploads_file({}, "examples/media/flask").name
    'flask.json'
    """
    return Path(environ.get("GALLERY_FILE") or f"{local_root}.json")


def listen_address(environ: Mapping[str, str]) -> tuple[str, int]:
    """The ``HOST`` and ``PORT`` to serve on; 127.0.0.1:8000 by default.

    >>> listen_address({"PORT": "8080"})
    ('127.0.0.1', 8080)
    """
    return environ.get("HOST", "127.0.0.1"), int(environ.get("PORT", "8000"))


class Uploads:
    """The gallery's list of uploaded images, newest first, in a JSON file.

    Each entry keeps the id with its name and pixel size, so pages need no I/O.
    Writes replace the file atomically, one thread at a time::

        >>> folder = tempfile.TemporaryDirectory()
        >>> uploads = Uploads(Path(folder.name) / "gallery.json")
        >>> media_id = MediaId("3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg", 800, 600)   # as Media.put returns it
        >>> uploads.add(media_id, "Cat.JPG")
        >>> uploads.items()
        [{'id': '3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg', 'name': 'Cat.JPG', 'width': 800, 'height': 600}]
        >>> uploads.remove(media_id), uploads.remove(media_id), uploads.items()
        (True, False, [])
        >>> folder.cleanup()
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def items(self) -> list[dict[str, Any]]:
        """The entries: ``{"id", "name", "width", "height"}`` each."""
        try:
            return list(json.loads(self.path.read_text()))
        except FileNotFoundError:
            return []

    def add(self, media_id: MediaId, name: str) -> None:
        """Put a new upload first in the list."""
        item = {"id": media_id, "name": name, "width": media_id.width, "height": media_id.height}
        with self._lock:
            self._save([item, *self.items()])

    def remove(self, media_id: str) -> bool:
        """Take *media_id* off the list; False if it was not on it."""
        with self._lock:
            items = self.items()
            kept = [item for item in items if item["id"] != media_id]
            if len(kept) == len(items):
                return False
            self._save(kept)
            return True

    def _save(self, items: list[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Readers never see a half-written file: write aside, then rename over.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".gallery-")
        with os.fdopen(fd, "w") as fh:
            json.dump(items, fh, indent=1)
        os.replace(tmp, self.path)


#: The gallery page as a Jinja2 template (Flask and Pyramid).  It expects
#: ``framework``, ``items`` (from :class:`Uploads`) and ``error``, plus the
#: ``picture`` and ``media_url`` globals each framework's adapter provides.
#: Django's ``templates/gallery.html`` is the same page in Django's language.
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Gallery ({{ framework }})</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
    ul { list-style: none; padding: 0; display: grid; gap: 1rem;
         grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); }
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
