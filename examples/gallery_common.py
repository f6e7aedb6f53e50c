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
from collections.abc import Callable, Mapping
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import quote
from wsgiref.simple_server import WSGIServer

from s3media_wsgi import Media, MediaId, MediaInfo
from s3media_wsgi.errors import (
    InvalidUpload,
    MediaError,
    NotAnImage,
)
from s3media_wsgi.formats import by_ext
from s3media_wsgi.ids import extension, is_id
from s3media_wsgi.imaging import ImageEngine
from s3media_wsgi.previews import find as find_previewer
from s3media_wsgi.sniff import TYPES

PREFIX = "S3MEDIA_"

#: What every gallery says when the form was sent without a file.
NO_FILE = "Choose a file to upload."

#: The galleries' ``uploads`` setting: the hook that turns the middleware's upload routes on.
UPLOAD_HOOK = "gallery_common:anyone_may_upload"

#: The script that uploads straight to storage, shared by every gallery page.  A page puts it in a
#: ``<script type="module">`` right after ``import {uploadDetailed} from "<uploader_url>";``.
UPLOAD_SCRIPT = (Path(__file__).resolve().parent / "gallery_upload.js").read_text(encoding="utf-8")


#: The galleries' styles (``gallery.css``), inline in each page.
GALLERY_CSS = (Path(__file__).resolve().parent / "gallery.css").read_text(encoding="utf-8")

#: The galleries' icon, small enough to sit in every page (no request, so no 404 for /favicon.ico).
FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2f6fde"/>'
    '<path d="M5 25l7-9 5 6 4-4 6 7z" fill="#fff"/><circle cx="22" cy="10" r="3.5" fill="#ffd54a"/></svg>'
)
#: The ``<link>`` of :data:`FAVICON_SVG` for a page's ``<head>``.
FAVICON_LINK = f'<link rel="icon" type="image/svg+xml" href="data:image/svg+xml,{quote(FAVICON_SVG)}">'


class ThreadingServer(ThreadingMixIn, WSGIServer):
    """wsgiref's server with a thread per request: a slow resize never holds up the page or the other images."""

    daemon_threads = True


def kind_of(media_id: str) -> Any:
    """The file type of *media_id*, by its extension (which the server chose from the checked bytes).

    >>> kind_of("3c72aedc/ba25/41e6/a569/406c8f413974/clip.mp4").kind, kind_of("x/report.pdf").label
    ('mp4', 'PDF document')
    """
    return by_ext(str(media_id).rsplit(".", 1)[-1])


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
    """The kinds a gallery accepts: what this machine can show as a picture, nothing else.

    A gallery shows every upload as resized ``<picture>``s: images this
    machine decodes, and videos and PDFs when their previewer's extra is
    installed (``s3media_wsgi[video]``, ``s3media_wsgi[pdf]``): a video by
    its poster frame, a PDF by its first page.  A sound (which the library
    would store) would only give broken images.  ``heic`` is in the list only
    when pillow-heif is installed::

        >>> {"jpeg", "png", "gif", "webp"} <= set(image_types()) and "mp3" not in image_types()
        True
        >>> ("pdf" in image_types()) == find_previewer("pdf").available()
        True
    """
    engine = ImageEngine()
    return [kind for kind, filetype in TYPES.items() if _shown(kind, filetype.is_image, engine)]


def _shown(kind: str, is_image: bool, engine: ImageEngine) -> bool:
    if is_image:
        return engine.can_read(kind)
    previewer = find_previewer(kind)
    return previewer is not None and previewer.has_still and previewer.available()


def media_settings(environ: Mapping[str, str], default_root: str | Path) -> dict[str, str]:
    """Every ``S3MEDIA_*`` variable of *environ*, prefix removed, plus the secret.

    With local storage (the default) files go to *default_root* unless
    ``S3MEDIA_LOCAL_ROOT`` says otherwise.  Uploads are limited to
    :func:`image_types` unless ``S3MEDIA_ALLOWED_TYPES`` says otherwise, and
    the upload routes are on for everyone (:func:`anyone_may_upload`) unless
    ``S3MEDIA_UPLOADS`` names another hook.  Each example spells the keys its
    framework's way (``S3MEDIA_BUCKET``, ``s3media.bucket``, ``S3MEDIA["BUCKET"]``)::

        >>> secret = "demo-secret-0123456789-abcdefghijk"
        >>> settings = media_settings({"S3MEDIA_STORAGE": "s3", "S3MEDIA_SECRET_KEY": secret}, "media")
        >>> sorted(settings), settings["SECRET_KEY"], settings["STORAGE"]
        (['ALLOWED_TYPES', 'SECRET_KEY', 'STORAGE', 'UPLOADS'], 'demo-secret-0123456789-abcdefghijk', 's3')
        >>> settings["ALLOWED_TYPES"].split(",") == image_types(), settings["UPLOADS"]
        (True, 'gallery_common:anyone_may_upload')
    """
    settings = {key[len(PREFIX) :]: value for key, value in environ.items() if key.startswith(PREFIX)}
    settings["SECRET_KEY"] = dev_secret(environ=environ)
    settings.setdefault("ALLOWED_TYPES", ",".join(image_types()))
    settings.setdefault("UPLOADS", UPLOAD_HOOK)
    if settings.get("STORAGE", "local").lower() == "local":
        settings.setdefault("LOCAL_ROOT", str(default_root))
    return settings


def refusal_message(exc: MediaError) -> str:
    """The sentence a gallery page shows when :meth:`Media.put` refuses an upload.

    The same in every example.  A refused file is described by the error's
    own message, written for the person uploading; anything else (storage
    trouble, say) by the short public message of its class, which gives
    nothing away::

        >>> from s3media_wsgi.errors import StorageUnavailable, UnsupportedMediaType
        >>> refusal_message(UnsupportedMediaType("File type not accepted: PDF document. Accepted: JPEG image."))
        'Upload refused. File type not accepted: PDF document. Accepted: JPEG image.'
        >>> refusal_message(StorageUnavailable("timed out after 2.0 s reaching bucket photos"))
        'Upload refused. Storage unavailable, try again shortly.'
    """
    # exc.shown: the error's class says its own message (str(exc)) is written for the person
    # uploading; any other error shows its class's public_message, which never names a key,
    # a path or a setting.  The same attribute the middleware's upload routes read.
    detail = str(exc).strip() if exc.shown else ""
    detail = (detail or exc.public_message).rstrip(".")
    return f"Upload refused. {detail[:1].upper()}{detail[1:]}."


def anyone_may_upload(request: object) -> bool:
    """The galleries' upload hook: may the user of *request* upload?  Here: yes, everyone.

    These demos have no users, so the upload routes (``s3/params``,
    ``s3/multipart``, ``s3/confirm`` under ``/media/``) are open to anyone
    who can reach the page.  A real site checks its session instead.  The
    hook runs in the media middleware, before the framework's own session or
    login machinery, and gets that layer's request:

    * WSGI and Flask: a ``webob.Request`` of the raw environ.  With Flask's
      cookie session::

          def may_upload(request):
              session = app.session_interface.open_session(app, app.request_class(request.environ))
              return session is not None and "user_id" in session

    * Pyramid: the Pyramid request, with its security policy and session
      (``return request.authenticated_userid is not None``).
    * Django: the ``HttpRequest``, before ``SessionMiddleware`` and
      ``AuthenticationMiddleware`` (the media middleware is first), so
      ``request.user`` is not set yet.  The adapter's ready-made hooks load
      the user from the session: ``"UPLOADS":
      "s3media_wsgi.adapters.django.permissions.is_authenticated"`` (or
      ``.is_staff``).

    A hook may answer a ``str`` instead of ``True``: the user's key.  The
    upload receipts ``s3/confirm`` answers are then bound to it, and
    ``/register`` must check them with what the hook answers for its own
    request (:func:`register`'s *bound_to*; Django's field asks the hook
    itself).  This demo's ``True`` makes receipts bound to no one.

        >>> anyone_may_upload(None)
        True
    """
    return True


class Refused(Exception):
    """A register request a gallery refuses: an HTTP status and a sentence the page shows."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def confirmed_image(media: Media, value: object) -> MediaId:
    """The image *value* names, when this server has stored and confirmed it; else :class:`Refused`.

    The id comes from a checked receipt (:func:`received_image`) or a model
    form's field; the gallery trusts none of it.  The id must be well formed,
    its original must be stored (``media.exists``: only ``put`` and
    ``confirm_upload`` store originals, after checking the bytes; a pending
    upload, never confirmed, is not one), and it must be an image, or a
    video or PDF shown by its still (its extension is the real type's,
    chosen by the server).  Its width and height come with it when *value*
    carries its info (a receipt's id: the server signed it; an id from
    ``put``); else from the stored file: confirming an id again reads it
    back (one GET on S3)::

        >>> from s3media_wsgi import LocalStorage
        >>> folder = tempfile.TemporaryDirectory()
        >>> storage = LocalStorage(folder.name, base_url="/media/")
        >>> media = Media(storage, secret_key="demo-secret-0123456789-abcdefghijk")
        >>> confirmed_image(media, "../../etc/passwd")
        Traceback (most recent call last):
        gallery_common.Refused: Not an upload of this gallery.
        >>> confirmed_image(media, "3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg")
        Traceback (most recent call last):
        gallery_common.Refused: This upload was never confirmed, or was deleted: upload the file again.
        >>> folder.cleanup()
    """
    if not is_id(value):
        raise Refused(400, "Not an upload of this gallery.")
    media_id = value if isinstance(value, MediaId) else MediaId(str(value))
    kind = by_ext(extension(media_id))
    try:
        if not media.exists(media_id):
            raise Refused(404, "This upload was never confirmed, or was deleted: upload the file again.")
        if kind is None or kind.kind not in image_types():
            raise NotAnImage(f"{kind.label if kind else 'this file'} is not an image")
        if media_id.width and media_id.height:
            return media_id  # its info came signed with it: nothing to read back
        return media.confirm_upload(media_id)  # confirmed already: the same id, with its size read back
    except MediaError as exc:
        raise Refused(exc.status_code, refusal_message(exc)) from None


def received_image(media: Media, receipt: object, bound_to: str | None = None) -> MediaId:
    """The image an upload *receipt* names, for the user *bound_to* names; else :class:`Refused`.

    A page sends the receipt ``s3/confirm`` answered, never a bare id: ids are
    in every URL of a file, so anyone may know one, while a receipt is signed
    (refused with a 400 otherwise) for its uploader (*bound_to*: what the ``uploads`` hook answered, when a
    ``str``) and expires.  Its id is then checked as :func:`confirmed_image` does::

        >>> from s3media_wsgi import LocalStorage
        >>> folder = tempfile.TemporaryDirectory()
        >>> storage = LocalStorage(folder.name, base_url="/media/")
        >>> media = Media(storage, secret_key="demo-secret-0123456789-abcdefghijk")
        >>> media_id = "3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg"
        >>> received_image(media, media_id)   # an id is no receipt
        Traceback (most recent call last):
        gallery_common.Refused: This upload receipt is not valid here: upload the file again.
        >>> received_image(media, media.upload_receipt(media_id, "user-7"), "user-8")   # someone else's
        Traceback (most recent call last):
        gallery_common.Refused: This upload receipt is not valid here: upload the file again.
        >>> received_image(media, media.upload_receipt(media_id, "user-7"), "user-7")   # theirs: now the id
        Traceback (most recent call last):
        gallery_common.Refused: This upload was never confirmed, or was deleted: upload the file again.
        >>> folder.cleanup()
    """
    try:
        media_id = media.check_receipt(receipt if isinstance(receipt, str) else "", bound_to)
    except InvalidUpload as exc:
        raise Refused(400, str(exc)) from None
    return confirmed_image(media, media_id)


def register(media: Media, uploads: Uploads, payload: object, bound_to: str | None = None) -> dict[str, Any]:
    """Check the upload a page reports (``{"receipt": ..., "name": ...}``) and list it; its entry.

    Shared by every gallery's ``POST /register``: :func:`received_image`
    checks the receipt (for the user *bound_to* names: these demos' hook
    answers ``True``, so None) and the image; *name* (the file's name on the
    user's machine, shown as the ``alt`` text) is optional.  The size and the
    placeholder come signed inside the receipt: nothing else the page sends
    is read.  Reporting an upload twice lists it once.  Raises :class:`Refused`.
    """
    if not isinstance(payload, dict):
        raise Refused(400, "Send a JSON object: {receipt, name}.")
    media_id = received_image(media, payload.get("receipt"), bound_to)
    name = payload.get("name")
    uploads.add(media_id, name[:200] if isinstance(name, str) and name.strip() else media_id.rsplit("/", 1)[-1])
    entry = uploads.get(media_id)
    assert entry is not None
    return entry


def shown_id(item: Mapping[str, Any]) -> MediaId:
    """The :class:`MediaId` of a gallery *item*, read from its stored value, for ``picture``.

    ``picture(shown_id(item), ..., placeholder=True)`` then sizes the image
    and gives it the blurred placeholder as its background until it loads,
    with no I/O (``picture`` reads a stored value itself too: this only
    makes the size at hand for the page)::

        >>> media_id = shown_id({"value": "3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg;w=800;h=600;"
        ...                               "p=1QcSHQRnh493V4dIh4eXh1h4kJUI;c=#7f8a3c"})
        >>> media_id, media_id.width, media_id.info.placeholder, media_id.info.colour
        ('3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg', 800, '1QcSHQRnh493V4dIh4eXh1h4kJUI', '#7f8a3c')
    """
    return MediaId.from_stored(item["value"])


def _entry(item: Mapping[str, Any]) -> dict[str, Any]:
    """An entry of the gallery file as the pages use it: ``{"id", "value", "name"}``.

    A file written before the galleries kept stored values has ``id``,
    ``width``, ``height``, ``placeholder`` and ``colour`` instead: they are
    read into the stored value (``picture`` ignores a placeholder that is no
    ThumbHash, and a colour that is no ``#rrggbb``).
    """
    value = item.get("value")
    if not isinstance(value, str):
        width, height = item.get("width"), item.get("height")
        info = MediaInfo(None, None, width, height, item.get("placeholder"), item.get("colour"))
        value = MediaId(str(item["id"]), width, height, None, info).stored
    return {"id": str(MediaId.from_stored(value)), "value": value, "name": str(item.get("name") or "")}


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

    Each entry keeps what an app keeps in one text column: the id's stored
    value (:attr:`MediaId.stored <s3media_wsgi.MediaId.stored>`: the id, its
    size, placeholder and colour), and the file's name.  Pages read the
    entries with no I/O.  Writes replace the file atomically, one thread at a time::

        >>> folder = tempfile.TemporaryDirectory()
        >>> uploads = Uploads(Path(folder.name) / "gallery.json")
        >>> media_id = MediaId("3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg", 800, 600)   # as Media.put returns it
        >>> uploads.add(media_id, "Cat.JPG"), uploads.add(media_id, "Cat.JPG")   # listed once
        (True, False)
        >>> (item,) = uploads.items()
        >>> item["value"], item["name"]
        ('3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg;w=800;h=600', 'Cat.JPG')
        >>> item["id"]
        '3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg'
        >>> uploads.get(media_id)["name"], uploads.get("elsewhere")
        ('Cat.JPG', None)
        >>> uploads.update(media_id, lambda value: value + ";f=0.3,0.25"), uploads.update("elsewhere", str)
        (True, False)
        >>> uploads.get(media_id)["value"]
        '3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg;w=800;h=600;f=0.3,0.25'
        >>> uploads.remove(media_id), uploads.remove(media_id), uploads.items()
        (True, False, [])
        >>> folder.cleanup()
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def items(self) -> list[dict[str, Any]]:
        """The entries: ``{"id", "value", "name"}`` each (the id read from the value)."""
        try:
            return [_entry(item) for item in json.loads(self.path.read_text())]
        except FileNotFoundError:
            return []

    def get(self, media_id: str) -> dict[str, Any] | None:
        """The entry of *media_id*, or None."""
        return next((item for item in self.items() if item["id"] == media_id), None)

    def add(self, media_id: MediaId, name: str) -> bool:
        """Put a new upload first in the list; False (and nothing changed) when it is listed already."""
        item = {"id": str(media_id), "value": media_id.stored, "name": name}
        with self._lock:
            items = self.items()
            if any(old["id"] == item["id"] for old in items):
                return False
            self._save([item, *items])
            return True

    def update(self, media_id: str, change: Callable[[str], str]) -> bool:
        """Replace the stored value of *media_id* by ``change(value)``; False (nothing changed) if it is not listed.

        *change* runs under the lock, on the value as it is now: two changes at once never lose one.
        It may raise, and then nothing is written.
        """
        with self._lock:
            items = self.items()
            item = next((item for item in items if item["id"] == media_id), None)
            if item is None:
                return False
            item["value"] = change(item["value"])
            self._save(items)
            return True

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
        # Readers never see a half-written file: write aside, then rename over.  The file keeps the
        # stored value and the name; the id is read from the value.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".gallery-")
        with os.fdopen(fd, "w") as fh:
            json.dump([{"value": item["value"], "name": item["name"]} for item in items], fh, indent=1)
        os.replace(tmp, self.path)


#: One image of the gallery as a Jinja2 template (Flask and Pyramid): the page
#: lists its ``items`` with it, and ``POST /register`` answers it for a new one.
#: It expects ``item`` (an entry of :class:`Uploads`: ``picture`` reads its stored
#: value, size and placeholder included, with no I/O) and the ``picture`` and
#: ``media_url`` globals each framework's adapter provides.
ITEM = """<li class="photo">
      <a class="frame" href="{{ media_url(item.id) }}">{{ picture(item.value, sizes=[320, 640, 1280],
         sizes_attr="(min-width: 60rem) 20rem, 100vw", alt=item.name, placeholder=True) }}</a>
      <div class="meta"><span class="title">{{ item.name }}</span>
      <form method="post" action="/delete"
            data-confirm="Delete {{ (item.name or 'this file')|e }} and all its resizes? This cannot be undone.">
        <input type="hidden" name="id" value="{{ item.id }}">
        <a href="{{ media_url(item.id) }}">original</a>
        <button class="delete">Delete</button>
      </form></div>
    </li>"""

#: The gallery page as a Jinja2 template (Flask and Pyramid).  It expects
#: ``framework``, ``items`` (from :class:`Uploads`), ``error`` and ``endpoint``
#: (the middleware's prefix without its last ``/``), plus the ``picture``,
#: ``media_url`` and ``uploader_url`` globals each framework's adapter provides.
#: Django's ``templates/gallery.html`` is the same page in Django's language.
#:
#: With JavaScript, files chosen or dropped go straight to storage
#: (:data:`UPLOAD_SCRIPT`); without it, the form posts them to ``/upload``.
PAGE = (
    """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Gallery ({{ framework }})</title>
  """
    + FAVICON_LINK
    + """
  <style>"""
    + GALLERY_CSS
    + """</style>
</head>
<body>
  <header class="top"><h1>Gallery <span>({{ framework }})</span></h1>
    <p>Drop photos, videos or PDFs: each goes straight to storage, and every size is made on its first request.</p>
  </header>
  {% if error %}<p class="error">{{ error }}</p>{% endif %}
  <form id="upload" class="drop" method="post" action="/upload" enctype="multipart/form-data"
        data-endpoint="{{ endpoint }}" data-register="/register">
    <label>Drop images, videos or PDFs anywhere on the page, or choose some:
      <input type="file" name="photo" accept="image/*,video/*,application/pdf" multiple required></label>
    <button>Upload</button>
  </form>
  <ul id="queue" aria-live="polite"></ul>
  <ul id="gallery">
  {% for item in items %}
    """
    + ITEM
    + """
  {% else %}
    <li class="empty">No images yet.</li>
  {% endfor %}
  </ul>
  <script type="module">
import {uploadDetailed} from "{{ uploader_url() }}";
{% raw %}"""
    + UPLOAD_SCRIPT
    + """{% endraw %}
  </script>
</body>
</html>
"""
)
