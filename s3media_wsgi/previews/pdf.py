"""PDF pages through PDFium (pypdfium2): ``pip install 's3media_wsgi[pdf]'``.

Before PDFium reads a byte, one walk over the file inflates every
Flate-compressed stream, in 1 MiB steps and never keeping more than a step,
and refuses the file when they inflate to more than
``PreviewLimits.max_pdf_inflated`` together (a decompression bomb), or
when an image it declares (here or inside an object stream) is over
``max_pixels``.  Then the page count (``max_pages``) and the page's size
(``max_page_points`` a side) are checked, and the page is rendered just
large enough for its resize (at most ``max_render_dpi``, at most
``max_pixels``), its bitmap's memory reserved first.  PDFium is not
thread-safe: one page is worked on at a time per process.
"""

from __future__ import annotations

import math
import re
import threading
import zlib
from typing import Any, ClassVar

from PIL import Image

from ..errors import ImageTooLarge, NotAnImage
from .base import Facts, Previewer, StillRequest, Work

#: Bytes one inflate step may produce (what the walk keeps at most).
INFLATE_STEP = 1024 * 1024
#: Bytes per pixel of a rendered page while it is drawn and handed to Pillow (BGRA bitmap, RGB copy).
RENDER_BYTES_PER_PIXEL = 8
#: The side in pixels of the page rendered for the upload pass's placeholder.
POSTER_SIDE = 64

_STREAM = re.compile(rb"stream\r?\n")
_OBJ = re.compile(rb"\bobj\b")
_WIDTH = re.compile(rb"/Width\s+(\d{1,12})")
_HEIGHT = re.compile(rb"/Height\s+(\d{1,12})")
_PDFIUM = threading.Lock()


def _check_images(text: bytes, work: Work) -> None:
    """Refuse an image dictionary in *text* (one stream's header, or an object stream) over ``max_pixels``."""
    if b"/Image" not in text:
        return
    widths = [int(w) for w in _WIDTH.findall(text)]
    heights = [int(h) for h in _HEIGHT.findall(text)]
    if widths and heights and max(widths) * max(heights) > work.max_pixels:
        raise ImageTooLarge(
            f"the PDF holds an image of {max(widths)}x{max(heights)}, over max_pixels={work.max_pixels}"
        )


def scan(data: bytes, work: Work) -> None:
    """The walk before PDFium: inflate every Flate stream within ``max_pdf_inflated``; check declared images."""
    limit = work.limits.max_pdf_inflated
    inflated = 0
    searched = 0
    for match in _STREAM.finditer(data):
        start = match.end()
        # The stream's dictionary: from the object header before it.
        header_from = max(0, start - 4096, searched)
        header = data[header_from:start]
        objects = [m.end() for m in _OBJ.finditer(header)]
        if objects:
            header = header[objects[-1] :]
        _check_images(header, work)
        searched = start
        if b"/FlateDecode" not in header and b"/Fl " not in header and b"/Fl]" not in header:
            continue
        is_object_stream = b"/ObjStm" in header
        inflater = zlib.decompressobj()
        pending = data[start:]
        try:
            while pending:
                work.check_time("reading the PDF")
                chunk = inflater.decompress(pending, INFLATE_STEP)
                inflated += len(chunk)
                if inflated > limit:
                    raise ImageTooLarge(
                        f"the PDF's streams inflate to over PreviewLimits.max_pdf_inflated={limit} bytes"
                    )
                if is_object_stream:
                    _check_images(chunk, work)
                if inflater.eof:
                    break
                tail = inflater.unconsumed_tail
                if not chunk and not tail:
                    break
                pending = tail
        except zlib.error:
            continue  # PDFium will say what it makes of a broken stream


def _open(data: bytes) -> Any:
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise NotAnImage(f"cannot read this PDF: {exc}") from exc


def _page(document: Any, number: int, work: Work) -> tuple[Any, float, float]:
    pages = len(document)
    if pages > work.limits.max_pages:
        raise ImageTooLarge(f"the PDF has {pages} pages, over PreviewLimits.max_pages={work.limits.max_pages}")
    if pages < 1:
        raise NotAnImage("the PDF has no pages")
    if number > pages:
        raise NotAnImage(f"the PDF has {pages} pages: there is no page {number}")
    page = document[number - 1]
    width, height = page.get_size()
    most = work.limits.max_page_points
    if not (width > 0 and height > 0):
        page.close()
        raise NotAnImage(f"page {number} has no area ({width:g}x{height:g} points)")
    if width > most or height > most:
        page.close()
        raise ImageTooLarge(
            f"page {number} is {width:g}x{height:g} points, over PreviewLimits.max_page_points={most:g}"
        )
    return page, float(width), float(height)


def _scale(width: float, height: float, request: StillRequest, work: Work) -> float:
    """Pixels per point: enough for the resize's box, at most ``max_render_dpi`` and ``max_pixels``."""
    box_w, box_h = request.box
    wanted = [w / width for w in (box_w,) if w] + [h / height for h in (box_h,) if h]
    if not wanted:
        scale = 1.0
    elif request.fill:
        scale = max(wanted)
    else:
        scale = min(wanted)
    scale = min(scale, work.limits.max_render_dpi / 72)
    most = (work.max_pixels / (width * height)) ** 0.5
    return float(max(min(scale, most), 1 / 72))


def _pause_at_once(_: Any) -> bool:
    return True


def _render(page: Any, width: float, height: float, scale: float, work: Work) -> Image.Image:
    """Draw *page* at *scale* progressively: PDFium stops every hundred or so page objects and the deadline is
    checked before it goes on (a page of a million shapes is cut off at ``max_seconds``, not drawn for minutes)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    size = (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale)))
    with work.reserve(
        size[0] * size[1] * RENDER_BYTES_PER_PIXEL, f"a {width:g}x{height:g} pt page at {scale * 72:.0f} dpi"
    ):
        bitmap = pdfium.PdfBitmap.new_native(*size, format=pdfium_c.FPDFBitmap_BGR, rev_byteorder=False)
        try:
            bitmap.fill_rect((255, 255, 255, 255), 0, 0, *size)
            pause = pdfium_c.IFSDK_PAUSE(version=1)
            pause.NeedToPauseNow = type(pause.NeedToPauseNow)(_pause_at_once)
            flags = pdfium_c.FPDF_ANNOT
            status = pdfium_c.FPDF_RenderPageBitmap_Start(bitmap, page, 0, 0, *size, 0, flags, pause)
            try:
                while status == pdfium_c.FPDF_RENDER_TOBECONTINUED:
                    work.check_time("drawing the PDF page")
                    status = pdfium_c.FPDF_RenderPage_Continue(page, pause)
                # PDFium may draw a page in one go without pausing: the limit holds for it all the same,
                # so a page is refused (not sometimes kept) whenever it took longer than max_seconds.
                work.check_time("drawing the PDF page")
            finally:
                pdfium_c.FPDF_RenderPage_Close(page)
            if status != pdfium_c.FPDF_RENDER_DONE:
                raise NotAnImage("PDFium could not draw this page")
            image: Image.Image = bitmap.to_pil().convert("RGB")
        finally:
            bitmap.close()
    return image


class PdfPreviewer(Previewer):
    """A PDF's page (the first, or ``page=``) and its facts, with PDFium."""

    kinds: ClassVar[frozenset[str]] = frozenset({"pdf"})
    module: ClassVar[str] = "pypdfium2"
    extra: ClassVar[str] = "pdf"
    options: ClassVar[frozenset[str]] = frozenset({"page"})

    def still(self, data: bytes, kind: str, request: StillRequest, work: Work) -> Image.Image:
        scan(data, work)
        with _PDFIUM:
            document = _open(data)
            try:
                page, width, height = _page(document, request.page, work)
                try:
                    return _render(page, width, height, _scale(width, height, request, work), work)
                finally:
                    page.close()
            finally:
                document.close()

    def facts(self, data: bytes, kind: str, work: Work) -> Facts:
        scan(data, work)
        with _PDFIUM:
            document = _open(data)
            try:
                pages = len(document)
                page, width, height = _page(document, 1, work)
                try:
                    poster = _render(page, width, height, POSTER_SIDE / max(width, height), work)
                finally:
                    page.close()
            finally:
                document.close()
        return Facts(
            width=round(width),
            height=round(height),
            pages=pages,
            page_width=round(width, 2),
            page_height=round(height, 2),
            poster=poster,
        )


__all__ = ["PdfPreviewer", "scan"]
