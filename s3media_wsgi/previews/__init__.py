"""Stills and facts of files that are not images: a video's poster frame, a PDF's page.

A resize URL of a video or a PDF answers an image, made the way every resize
is made: a previewer turns the original into one decoded still (a
:class:`PIL.Image.Image`), and the image engine resizes and encodes it with
its usual rules (output limits, memory budget, decode slots, encoders).  The
upload pass asks the same previewer for the file's facts (duration, size,
codecs, frame rate, pages) and a small poster for the placeholder.

Previewers are a list of small classes (:data:`PREVIEWERS`), each saying
which kinds it accepts and which extra installs what it needs; the core only
runs the list.  Without the extra, a preview is refused with a message that
names it (``pip install 's3media_wsgi[video]'``), as any file that does not
decode is.  A previewer of another kind is one class and one :func:`register`:

    >>> from s3media_wsgi.previews import Previewer, find
    >>> find("pdf").extra, find("mp4").extra, find("jpeg")
    ('pdf', 'video', None)

Each one is bounded first, before decoding, by :class:`PreviewLimits`.
"""

from __future__ import annotations

from ..errors import ConfigError, NotAnImage
from .base import Facts, Previewer, PreviewLimits, StillRequest, Work
from .pdf import PdfPreviewer
from .video import AudioAnalyzer, VideoPreviewer

#: The previewers the engine runs, in order: the first that accepts a kind makes its stills.
PREVIEWERS: list[type[Previewer]] = [VideoPreviewer, AudioAnalyzer, PdfPreviewer]


def register(previewer: type[Previewer]) -> type[Previewer]:
    """Add *previewer* at the front of :data:`PREVIEWERS` (a later one wins for a kind); usable as a decorator."""
    if not (isinstance(previewer, type) and issubclass(previewer, Previewer)):
        raise ConfigError(f"a previewer must be a Previewer subclass, not {previewer!r}")
    if previewer not in PREVIEWERS:
        PREVIEWERS.insert(0, previewer)
    return previewer


def find(kind: str) -> type[Previewer] | None:
    """The previewer class of *kind* (installed or not), or None when no previewer accepts it."""
    return next((p for p in PREVIEWERS if kind in p.kinds), None)


def previewable(kind: str) -> bool:
    """True when resize URLs of *kind* can answer a still (given its extra); no I/O.

    >>> previewable("webm"), previewable("mp3")
    (True, False)
    """
    previewer = find(kind)
    return previewer is not None and previewer.has_still


def options(kind: str) -> frozenset[str]:
    """The resize options (``"page"``, ``"frame"``) a file of *kind* takes."""
    previewer = find(kind)
    return previewer.options if previewer is not None else frozenset()


def load(kind: str) -> Previewer | None:
    """An instance of *kind*'s previewer; None when none accepts it; :class:`NotAnImage` naming the extra when
    its package is not installed."""
    previewer = find(kind)
    if previewer is None:
        return None
    if not previewer.available():
        raise NotAnImage(previewer.missing())
    return previewer()


__all__ = [
    "PREVIEWERS",
    "AudioAnalyzer",
    "PdfPreviewer",
    "VideoPreviewer",
    "Facts",
    "PreviewLimits",
    "Previewer",
    "StillRequest",
    "Work",
    "find",
    "load",
    "options",
    "previewable",
    "register",
]
