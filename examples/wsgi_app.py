"""A plain-WSGI gallery: upload straight to storage, see every resize the library makes, on one page.

Run it with ``make demo`` (or ``python examples/wsgi_app.py``) and open
http://127.0.0.1:8000/ (``HOST`` and ``PORT`` change that).  Files go to
``./media`` through :class:`LocalStorage` and the middleware serves them,
making each resize on its first request; the list of uploads is ``./media.json``
(or ``GALLERY_FILE``).  It accepts what it can show as a picture (images, and
videos and PDFs with the ``video`` and ``pdf`` extras; ``S3MEDIA_ALLOWED_TYPES``
changes that), and the library's log lines -- every upload stored or
confirmed, every resize made and how long it took -- print to the terminal.

The page: a responsive grid of ``media.picture()``s, each titled by its
file's name, its ThumbHash placeholder shown until the image fades in.  Drop
files on the page, or choose several: each goes straight to storage with
``uploader.js`` (served by the middleware, whose upload routes
``MediaMiddleware(..., uploads=hook)`` turns on) and gets a card with its
progress, then "Added to the gallery" or the refusal in the library's words
(the same words as the form's page without JavaScript).  Once the middleware has
confirmed an upload, the page POSTs its receipt (the id, signed: a bare id is
not taken) to ``/register``, which checks it and answers the new photo's HTML.
Without JavaScript the form posts the files to ``/upload``, which stores them
with ``media.put``.  Delete asks first.

``/photo?id=...``, a photo's detail view, is the tour of the library: sizes,
formats (JPEG, WebP, AVIF), ``fill`` crops centred and with ``focus="auto"``
and ``focus="faces"`` (a video's or PDF's are of its poster frame or first
page), each with its signed URL, its bytes and milliseconds (the Resource
Timing API, in the page), and whether it was cold (made by that request: the
page checks storage before it is sent) or warm (stored already).  Its focus
picker (the Django widget's ``focus_picker.js``, read from the adapter's
package data: no Django needed) sets where the subject is with a click, a tap
or the arrow keys; "Save focus" POSTs it to ``/focus``, which keeps it in the
entry's stored value (``MediaInfo.focus``), and a fourth crop, "your focus",
is the ``fill`` built from that value.  "Reset" clears it.

With S3 instead, set ``S3MEDIA_STORAGE=s3``, ``S3MEDIA_BUCKET``, ``S3MEDIA_REGION``
and ``S3MEDIA_BASE_URL`` (plus ``S3MEDIA_ENDPOINT_URL`` for an S3-compatible
service); credentials come from boto3's usual places (``make demo-s3`` runs it
against moto's S3).  In the ``serve`` delivery mode the bucket is private, for a
CDN to read: the original's own URL answers a browser 403, so the demo hands
originals out itself (``/original``).  Every other setting
(``S3MEDIA_PRESETS``, ``S3MEDIA_MAX_PIXELS``, ...) works the same way.  The
secret, the list of uploads, the styles and the upload script come from
``gallery_common.py``, shared by all the examples.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable
from importlib.resources import files
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote
from wsgiref.simple_server import WSGIRequestHandler, make_server

from gallery_common import (
    FAVICON_LINK,
    FAVICON_SVG,
    GALLERY_CSS,
    NO_FILE,
    UPLOAD_SCRIPT,
    Refused,
    ThreadingServer,
    Uploads,
    anyone_may_upload,
    dev_secret,
    kind_of,
    listen_address,
    media_settings,
    refusal_message,
    register,
    shown_id,
    uploads_file,
)
from webob import Request, Response
from webob.exc import HTTPBadRequest, HTTPForbidden, HTTPMethodNotAllowed, HTTPNotFound, HTTPSeeOther

from s3media_wsgi import Media, MediaId, MediaMiddleware
from s3media_wsgi.errors import MediaError
from s3media_wsgi.responder import uploader_url

__all__ = ["PREFIX", "VARIANTS", "Gallery", "dev_secret", "make_app", "media_from_env", "setup_logging"]

#: ``make demo`` runs from the repository root, so uploads land in ./media.
DEFAULT_ROOT = Path("media")
#: Where the middleware answers: stored files, resizes, uploader.js and the upload routes.
PREFIX = "/media/"

#: What the detail view of a photo shows, group by group: (group, label, size, options).  Every
#: one is a signed resize URL built with no I/O; each is made on its first request.
VARIANTS = [
    ("Sizes", "320 wide", "320x", {}),
    ("Sizes", "640 wide", "640x", {}),
    ("Sizes", "1280 wide", "1280x", {}),
    ("Formats", "JPEG", "480x", {"format": "jpg"}),
    ("Formats", "WebP", "480x", {"format": "webp"}),
    ("Formats", "AVIF", "480x", {"format": "avif"}),
    ("Crops", "fill, centred", "300x300", {"mode": "fill", "focus": "centre"}),
    ("Crops", 'fill, focus="auto"', "300x300", {"mode": "fill", "focus": "auto"}),
    ("Crops", 'fill, focus="faces"', "300x300", {"mode": "fill", "focus": "faces"}),
]

#: How the gallery's grid draws each photo: the widths made, and how wide it is shown.
GRID_WIDTHS = [320, 640, 960]
GRID_SIZES = "(min-width: 75rem) 18rem, (min-width: 40rem) 45vw, 100vw"

#: The focus picker's script, as the Django widget ships it (package data of the adapter, whose package
#: imports no Django): a click or a tap sets the point, the arrow keys move it, Escape takes it away.
FOCUS_SCRIPT = files("s3media_wsgi.adapters.django").joinpath("focus_picker.js").read_text(encoding="utf-8")
#: The box of the picture the picker shows (a ``fit`` resize).
FOCUS_PICKER_SIZE = "480x480"
#: The crop the detail view adds once a focus is saved: a ``fill`` built from the stored value, which carries it.
FOCUS_CROP = ("Crops", "fill, your focus", "300x300", {"mode": "fill"})

#: What a still of a non-image is: the resizes of a video or a PDF are of one frame or page.
STILL_OF = {"video": "its poster frame", "pdf": "its first page"}


def media_from_env() -> Media:
    """Built by the shared settings parser from ``S3MEDIA_*`` variables."""
    settings = media_settings(os.environ, DEFAULT_ROOT)
    return Media.from_settings({f"S3MEDIA_{key}": value for key, value in settings.items()}, prefix="S3MEDIA_")


class Gallery:
    """The host application: knows nothing about serving media, only ids."""

    def __init__(self, media: Media, index_file: str | Path, delivery: str | None = None) -> None:
        self.media = media
        self.uploads = Uploads(Path(index_file))
        # In the serve mode the bucket is private and meant to sit behind a CDN: the original's S3 URL
        # answers 403 to a browser, so this demo hands the original out itself (see original()).
        self.serve_originals = delivery == "serve"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        req = Request(environ)
        try:
            if req.path == "/":
                resp = self.page(req)
            elif req.path == "/photo":
                resp = self.detail(req)
            elif req.path == "/original" and self.serve_originals:
                resp = self.original(req)
            elif req.path == "/favicon.ico":
                # Browsers ask for it on their own (an image opened alone, say): the same icon as the pages'.
                resp = Response(FAVICON_SVG, content_type="image/svg+xml", charset="utf-8")
                resp.cache_control.max_age = 86400
            elif req.path == "/register":
                resp = self.register(req)
            elif req.path == "/upload":
                resp = self.upload(req)
            elif req.path == "/delete":
                resp = self.delete(req)
            elif req.path == "/focus":
                resp = self.focus(req)
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
        if not _same_origin(req):
            return HTTPForbidden("This form can only be sent from the demo's own pages.")
        media_id = req.POST.get("id", "")
        # Only ids of this gallery: the form must not delete anything else in storage.
        if not self.uploads.remove(media_id):
            return HTTPBadRequest("unknown id")
        self.media.delete(media_id)
        return HTTPSeeOther(location="/")

    def focus(self, req: Request) -> Response:
        """Save where a photo's subject is (``focus=x,y``, fractions 0-1), or clear it (``reset``); back to its page.

        Only ids of this gallery, only a point (``MediaId.with_focus`` reads it, bounded): anything else
        is a 400 saying why, and the entry is left as it was.  A form of another site may not post it.
        """
        if req.method != "POST":
            return HTTPMethodNotAllowed()
        if not _same_origin(req):
            return HTTPForbidden("This form can only be sent from the demo's own pages.")
        item = self.uploads.get(req.POST.get("id", ""))
        if item is None:
            return HTTPBadRequest("unknown id")
        try:
            focus = None if req.POST.get("reset") else req.POST.get("focus", "")
            MediaId(item["id"]).with_focus(focus)  # refused here (a 400) before the gallery file is touched
            self.uploads.update(item["id"], lambda value: MediaId.from_stored(value).with_focus(focus).stored)
        except MediaError as exc:
            return self.detail_page(item, error=f"Focus not saved: {exc}.", status=400)
        return HTTPSeeOther(location=f"/photo?id={quote(item['id'])}#focus")

    def original(self, req: Request) -> Response:
        """The original of a photo of this gallery, through the app (the serve mode's bucket is private).

        Only ids on the list; the bytes were checked when they were stored, and are sent as a download
        of their own type that the browser may not sniff or run.
        """
        item = self.uploads.get(req.GET.get("id", ""))
        if item is None:
            return HTTPNotFound()
        data = self.media.get(item["id"])
        kind = kind_of(item["id"])
        response = Response(body=data, content_type=kind.mime if kind else "application/octet-stream")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "sandbox"
        return response

    def original_url(self, media_id: str) -> str:
        if self.serve_originals:
            return f"/original?id={quote(media_id)}"
        return self.media.url(media_id)

    def section(self, item: dict[str, Any]) -> str:
        """One photo of the grid: its responsive picture over its placeholder, its title, a delete button."""
        media_id = item["id"]
        kept = shown_id(item)
        title = item["name"] or media_id.rsplit("/", 1)[-1]
        shown = self.media.picture(kept, sizes=GRID_WIDTHS, sizes_attr=GRID_SIZES, alt=title, placeholder=True)
        detail = f"/photo?id={quote(media_id)}"
        return (
            f'<li class="photo"><a class="frame" href="{html.escape(detail)}"{_placeholder_of(shown)}>{shown}</a>'
            f'<div class="meta"><a class="title" href="{html.escape(detail)}">{html.escape(title)}</a>'
            f"<small>{_dimensions(kept)}</small>"
            f"{self.delete_form(media_id, title)}</div></li>"
        )

    def delete_form(self, media_id: str, title: str) -> str:
        confirm = f"Delete “{title}” and all its resizes? This cannot be undone."
        return (
            f'<form method="post" action="/delete" data-confirm="{html.escape(confirm)}">'
            f'<input type="hidden" name="id" value="{html.escape(media_id)}">'
            f'<button class="delete" title="Delete this photo and its resizes">Delete</button></form>'
        )

    def detail(self, req: Request) -> Response:
        """One photo and what the library makes of it: each variant's URL, bytes, cold or warm, and time.

        Cold or warm is known here, before the page is sent: a resize that is not stored yet is made
        by the browser's request for it (cold), else it is served as stored (warm).  Bytes and time
        are measured in the page (the Resource Timing API).
        """
        item = self.uploads.get(req.GET.get("id", ""))
        if item is None:
            return self.page(req, error="No such photo in this gallery.", status=404)
        return self.detail_page(item)

    def detail_page(self, item: dict[str, Any], error: str | None = None, status: int = 200) -> Response:
        """The detail view of the gallery entry *item*, with *error* over its focus picker."""
        media_id = item["id"]
        kept = shown_id(item)
        title = item["name"] or media_id.rsplit("/", 1)[-1]
        kind = kind_of(media_id)
        still = STILL_OF.get(kind.mime.split("/")[0], STILL_OF.get(kind.kind)) if kind else None
        groups: dict[str, list[str]] = {}
        # The stored value's focus, when one was saved: its crop is built from the stored value itself.
        focused = kept.info is not None and kept.info.focus is not None
        shown: list[tuple[MediaId | str, tuple[str, str, str, dict[str, Any]]]] = [(media_id, v) for v in VARIANTS]
        for source, (group, label, size, options) in shown + ([(kept, FOCUS_CROP)] if focused else []):
            url = self.media.resize_url(source, size, **options)
            key = self.media.resize_key(source, size, **options)
            warm = self.media.storage.exists(key)
            groups.setdefault(group, []).append(
                f'<figure class="variant" data-state="{"warm" if warm else "cold"}">'
                f'<div class="swatch"><img src="{html.escape(url)}" alt="{html.escape(f"{title}, {label}")}"></div>'
                f"<figcaption><strong>{html.escape(label)}</strong> <code>{html.escape(size)}</code>"
                f'<span class="measure">{"warm" if warm else "cold"}</span>'
                f'<a class="url" href="{html.escape(url)}">{html.escape(url.rsplit("/", 1)[-1])}</a></figcaption>'
                "</figure>"
            )
        blocks = "".join(
            f'<section class="variants"><h2>{html.escape(group)}</h2>'
            f'<div class="strip">{"".join(cells)}</div></section>'
            for group, cells in groups.items()
        )
        note = (
            f'<p class="note">{html.escape(kind.label)}: every picture below is a resize of {still}.</p>'
            if kind and still
            else ""
        )
        hero = self.media.picture(
            kept, sizes=[640, 1280], sizes_attr="(min-width: 60rem) 40rem, 100vw", alt=title, placeholder=True
        )
        body = DETAIL.format(
            title=html.escape(title),
            hero=hero,
            placeholder=_placeholder_of(hero),
            dimensions=_dimensions(kept),
            original=html.escape(self.original_url(media_id)),
            kind=html.escape(kind.label if kind else "file"),
            note=note,
            delete=self.delete_form(media_id, title),
            picker=self.focus_form(item, kept, title, error),
            blocks=blocks,
        )
        return Response(layout(html.escape(title), body), status=status, content_type="text/html", charset="utf-8")

    def focus_form(self, item: dict[str, Any], kept: MediaId, title: str, error: str | None) -> str:
        """The focus picker over a ``fit`` resize of the photo, in a form that saves the point (``POST /focus``).

        The markup is what ``focus_picker.js`` reads (``data-s3media-focus-*``); its hidden input holds
        ``"x,y"`` or ``""``.  "Reset" clears the point in the page and the saved one.
        """
        point = kept.info.focus if kept.info is not None else None
        value = f"{point[0]:g},{point[1]:g}" if point else ""
        src = self.media.resize_url(item["id"], FOCUS_PICKER_SIZE)
        width, height = kept.width, kept.height
        ratio = f"aspect-ratio: {width} / {height}; " if width and height else ""
        return FOCUS_FORM.format(
            error=f'<p class="error" role="alert">{html.escape(error)}</p>' if error else "",
            id=html.escape(item["id"]),
            value=html.escape(value),
            src=html.escape(src),
            alt=html.escape(f"{title}, where its focus point is set"),
            ratio=ratio,
            script=FOCUS_SCRIPT,
        )

    def page(self, req: Request, error: str | None = None, status: int = 200) -> Response:
        body = PAGE.format(
            error=f'<p class="error">{html.escape(error)}</p>' if error else "",
            rows="".join(self.section(item) for item in self.uploads.items())
            or '<li class="empty">No images yet: drop some on the page.</li>',
            endpoint=html.escape(PREFIX.rstrip("/")),
            uploader=html.escape(uploader_url(PREFIX)),
            script=UPLOAD_SCRIPT,
        )
        return Response(layout("Gallery", body), status=status, content_type="text/html", charset="utf-8")


def _same_origin(req: Request) -> bool:
    """False when the browser says the request comes from another site (``Sec-Fetch-Site``, else ``Origin``).

    A form of another site could otherwise post to the demo (it has no session to protect, so no token):
    browsers send these headers with every POST; a client that sends neither (a test, curl) is let through.
    """
    site = req.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = req.headers.get("Origin")
    return origin is None or origin == req.host_url


def _dimensions(media_id: MediaId) -> str:
    return f"{media_id.width}×{media_id.height}" if media_id.width and media_id.height else ""


def _placeholder_of(picture: str) -> str:
    """The ``style`` of *picture*'s ``<img>`` (its placeholder) for the frame under it: the image fades in over it."""
    found = re.search(r' style="([^"]*)"', picture)
    return f' style="{found.group(1)}"' if found else ""


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, content_type="application/json", charset="utf-8")


def layout(title: str, body: str) -> str:
    """A page of the demo: its head (the favicon, the styles), *body*, and the little script every page shares."""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title} · s3media_wsgi</title>\n{FAVICON_LINK}\n<style>{GALLERY_CSS}</style>\n"
        # Without scripts nothing marks an image loaded: show them at once.
        "<noscript><style>.frame img { opacity: 1; }</style></noscript></head>\n"
        f'<body>{body}\n<script type="module">{PAGE_SCRIPT}</script>\n</body></html>'
    )


PAGE_SCRIPT = """
// Each image fades in over its placeholder once loaded (CSS does the fade).
const shown = (img) => img.classList.add("loaded");
document.addEventListener("load", (event) => event.target.tagName === "IMG" && shown(event.target), true);
document.querySelectorAll("img").forEach((img) => img.complete && img.naturalWidth && shown(img));
"""

PAGE = """<header class="top"><h1>s3media<span>_wsgi</span></h1>
<p>Drop photos, videos or PDFs. Each goes straight to storage; every size below is made on its first request.</p>
</header>
<form id="upload" class="drop" method="post" action="/upload" enctype="multipart/form-data"
 data-endpoint="{endpoint}" data-register="/register">
<label><strong>Drop files anywhere</strong> or choose some:
<input type="file" name="photo" accept="image/*,video/*,application/pdf" multiple required></label>
<button>Upload</button></form>
<ul id="queue" aria-live="polite"></ul>
{error}<ul id="gallery">{rows}</ul>
<script type="module">
import {{uploadDetailed}} from "{uploader}";
{script}
</script>"""

FOCUS_FORM = """<section class="variants" id="focus"><h2>Focus point</h2>{error}
<form method="post" action="/focus" class="focus-form">
<input type="hidden" name="id" value="{id}">
<div class="s3media-focus" data-s3media-focus>
<input type="hidden" name="focus" value="{value}" data-s3media-focus-value>
<p id="focus-help" class="how">Click or tap the picture where its subject is, or select it and move the point with
the arrow keys (Shift: small steps); Escape takes it away. Saved, every <code>fill</code> crop built from this photo's
stored value keeps the point in view.</p>
<div class="s3media-focus-frame" data-s3media-focus-frame tabindex="0" role="application"
 aria-label="Focus point of the picture" aria-describedby="focus-help focus-status"
 style="position: relative; display: inline-block; max-width: 100%; cursor: crosshair; touch-action: none">
<img src="{src}" alt="{alt}" data-s3media-focus-image draggable="false"
 style="display: block; max-width: 100%; height: auto; max-height: 480px; {ratio}">
<span data-s3media-focus-marker aria-hidden="true" hidden style="position: absolute; box-sizing: border-box;
 width: 1.5rem; height: 1.5rem; margin: -0.75rem 0 0 -0.75rem; border: 2px solid #fff; border-radius: 50%;
 box-shadow: 0 0 0 2px #000, inset 0 0 0 2px #000; pointer-events: none"></span></div>
<p><span id="focus-status" data-s3media-focus-status role="status" aria-live="polite"></span></p>
</div>
<p><button>Save focus</button> <button name="reset" value="1">Reset</button></p>
</form>
<script>{script}</script>
</section>"""

DETAIL = """<header class="top"><a class="back" href="/">← Gallery</a></header>
<article class="detail">
<div class="hero"><div class="frame"{placeholder}>{hero}</div></div>
<div class="facts"><h1>{title}</h1>
<p>{kind}, {dimensions}. <a href="{original}">Original</a></p>{note}
<p class="how">Each picture is a signed URL built without I/O. <b>cold</b>: made by your browser's request
for it; <b>warm</b>: stored already. Bytes and milliseconds are measured in this page.</p>
{delete}</div></article>
{picker}
{blocks}
<script type="module">
// Bytes and time of each variant, from the Resource Timing API, once it has loaded.
function measure(img) {{
  const label = img.closest("figure").querySelector(".measure");
  const entry = performance.getEntriesByName(img.currentSrc || img.src).at(-1);
  if (!entry || label.dataset.done) return;
  label.dataset.done = "1";
  const bytes = entry.encodedBodySize || entry.transferSize;
  const size = bytes ? (bytes < 1024 ? bytes + " B" : (bytes / 1024).toFixed(1) + " KiB") : "size not shared";
  label.textContent = label.textContent + ", " + Math.round(entry.duration) + " ms, " + size;
}}
// Deleting asks first (as on the gallery, whose upload script does the same).
document.addEventListener("submit", (event) => {{
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
}});
document.querySelectorAll(".variant img").forEach((img) => {{
  if (img.complete && img.naturalWidth) measure(img);
  else img.addEventListener("load", () => measure(img));
}});
</script>"""


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
    # How resizes are answered when storage is S3 (S3MEDIA_DELIVERY: website, serve or private).
    delivery = os.environ.get("S3MEDIA_DELIVERY") or None
    gallery = Gallery(media, index_file or uploads_file(os.environ, local_root), delivery)
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
