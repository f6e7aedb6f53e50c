"""The source ladder: smaller copies of an original, from which later cold resizes are made.

A cold resize decodes its source: a 12 MP JPEG is megabytes to read and,
even drafted by libjpeg, millions of pixels to decode.  When an image is
uploaded, the pixel check decodes it anyway; from that decode
:meth:`ImageEngine.probe <s3media_wsgi.imaging.ImageEngine.probe>` also makes
its *rungs*, copies at 1/2, 1/4 and 1/8 of its size, within
:data:`~s3media_wsgi.imaging.LADDER_SHARE` of the original's bytes (see
:data:`~s3media_wsgi.imaging.LADDER_DIVISORS`).  A JPEG's rungs are what
libjpeg decodes at 1/2 (the very pixels a drafted resize of the
original starts from, and 2x2 averages of it), stored as JPEG of quality 85
without chroma subsampling; any other source's are made by Lanczos and stored as lossless
WebP (alpha kept); :data:`~s3media_wsgi.imaging.RUNG_ENCODERS` has the
measurements.  They are stored beside the original, with a small manifest
written last::

    <id>/<filename>                 the original (4000x3000)
    <id>/_ladder-2000x1500.jpg      the rungs: stored orientation, ICC profile kept
    <id>/_ladder-1000x750.jpg
    <id>/_ladder-500x375.jpg
    <id>/_ladder.json               the original's size and orientation, and the rungs

Every later cold resize takes the smallest rung that still gives its output
format's resampling policy what it needs (:func:`factor`: the draft of
:data:`~s3media_wsgi.imaging.RESAMPLING`, at least :data:`MIN_FACTOR` times
the output a side), plans its size and crop box on the original's size and
maps the box onto the rung, so its output has exactly the size and framing
of a resize of the original.  A resize no rung serves (large outputs,
originals stored without a ladder) reads the original as before; so does one
whose rung is missing or does not decode (logged).

The keys start with ``_`` (:data:`~s3media_wsgi.ids.INTERNAL_MARK`): never a
variant, never an original, refused by the responder and denied to
anonymous readers by the website mode's bucket policy.  They go with the id
(:meth:`Media.delete <s3media_wsgi.Media.delete>` removes the prefix);
:meth:`Media.purge_resizes <s3media_wsgi.Media.purge_resizes>` keeps them, as
they are copies of the original, not resizes.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

from . import ids
from .errors import MediaError, NotAnImage, NotFound, StorageError, StorageUnavailable
from .imaging import RESAMPLING, ImageEngine, ImageLimits, Original, Rendered, layout
from .resilience import StorageGuard
from .storage.base import ObjectStorage, Storage, put_remakeable
from .variants import ResizeSpec

log = logging.getLogger("s3media_wsgi")

#: The manifest's name under the id's prefix.
MANIFEST = "_ladder.json"
#: Most bytes of a manifest read (a real one is about 150).
MANIFEST_MAX_BYTES = 4096
#: An output format that is never drafted (png, gif) still takes a rung of at least this many times its size a side.
MIN_FACTOR = 2.0
#: Manifests (and "no ladder") remembered per process: ids never change content.
CACHE_SIZE = 4096

_RUNG_NAME = re.compile(r"_ladder-[1-9][0-9]{0,5}x[1-9][0-9]{0,5}\.(?:jpg|webp|png)")
_EXT = {"image/jpeg": "jpg", "image/webp": "webp", "image/png": "png"}


@dataclass(frozen=True)
class Rung:
    """One stored copy: its name under the id's prefix and its size (stored orientation)."""

    name: str
    width: int
    height: int
    #: Every pixel of the decode kept (PNG, lossless WebP): only such a rung serves a lossless output.
    lossless: bool = False


@dataclass(frozen=True)
class Manifest:
    """What ``_ladder.json`` says: the original's size and orientation, and the rungs, smallest first.

    >>> m = Manifest(Original(4000, 3000, 1), (Rung("_ladder-500x375.jpg", 500, 375),))
    >>> Manifest.parse(m.to_bytes()) == m
    True
    """

    original: Original
    rungs: tuple[Rung, ...]
    #: The rungs are libjpeg's scaled decodes of a JPEG (the pixels a drafted
    #: resize of the original starts from); else each was made by a filter.
    drafted: bool = False

    def to_bytes(self) -> bytes:
        doc = {
            "v": 1,
            "width": self.original.width,
            "height": self.original.height,
            "orientation": self.original.orientation,
            "drafted": self.drafted,
            "rungs": [[r.name, r.width, r.height, r.lossless] for r in self.rungs],
        }
        return json.dumps(doc, separators=(",", ":")).encode("ascii")

    @classmethod
    def parse(cls, data: bytes) -> Manifest:
        """The manifest in *data*; ValueError unless it is one this version wrote."""
        if len(data) > MANIFEST_MAX_BYTES:
            raise ValueError("manifest too long")
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("v") != 1:
            raise ValueError("not a version 1 ladder manifest")
        width, height, turn = _count(doc.get("width")), _count(doc.get("height")), _count(doc.get("orientation"))
        drafted = doc.get("drafted")
        if turn > 8:
            raise ValueError("bad orientation")
        if not isinstance(drafted, bool):
            raise ValueError("bad drafted flag")
        rungs = []
        for item in doc.get("rungs") or ():
            if not (isinstance(item, list) and len(item) == 4 and isinstance(item[0], str)):
                raise ValueError("bad rung")
            name, w, h, lossless = item[0], _count(item[1]), _count(item[2]), item[3]
            if not _RUNG_NAME.fullmatch(name) or w > width or h > height:
                raise ValueError(f"bad rung {item!r}")
            if not isinstance(lossless, bool):
                raise ValueError(f"bad rung {item!r}")
            rungs.append(Rung(name, w, h, lossless))
        rungs.sort(key=lambda r: r.width * r.height)
        return cls(Original(width, height, turn), tuple(rungs), drafted)


def _count(value: object) -> int:
    """*value* when it is a positive int (not a bool), else ValueError."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"not a positive int: {value!r}")
    return value


def rung_name(rendered: Rendered) -> str:
    """The name a rung is stored under: ``_ladder-<w>x<h>.<ext>``."""
    return f"_ladder-{rendered.width}x{rendered.height}.{_EXT[rendered.content_type]}"


def factor(fmt: str, drafted: bool, jpeg_draft: int = ImageLimits.jpeg_draft) -> float | None:
    """How many times an output of *fmt* a side a rung must be, read from :data:`RESAMPLING` now; None: no rung.

    *drafted* rungs (libjpeg's scaled decodes of a JPEG) serve what a
    resize of the original would draft anyway: the format's draft factor
    (scaled by ``ImageLimits.jpeg_draft`` as for the original), at least
    :data:`MIN_FACTOR`; never a format the policy does not draft (a lossless
    output would inherit the rung's encoding).  Rungs made by a filter
    leave Lanczos at least the policy's ``reducing_gap`` (else
    :data:`MIN_FACTOR`): a second filter pass on less than that loses
    more than 0.1 dB (``python benchmarks/bench_ladder.py --formats``).
    """
    policy = RESAMPLING[fmt]
    if drafted:
        if policy.draft is None:
            return None
        return max(MIN_FACTOR, policy.draft * jpeg_draft / ImageLimits.jpeg_draft)
    return max(MIN_FACTOR, policy.reducing_gap or MIN_FACTOR)


def choose(manifest: Manifest, spec: ResizeSpec, jpeg_draft: int = ImageLimits.jpeg_draft) -> Rung | None:
    """The smallest rung of *manifest* that serves *spec*; None when only the original does.

    >>> rungs = (Rung("_ladder-500x375.jpg", 500, 375), Rung("_ladder-1000x750.jpg", 1000, 750))
    >>> m = Manifest(Original(4000, 3000), rungs, drafted=True)
    >>> choose(m, ResizeSpec(400, 300)).name, choose(m, ResizeSpec(200, 150)).name, choose(m, ResizeSpec(800, 600))
    ('_ladder-1000x750.jpg', '_ladder-500x375.jpg', None)
    """
    original = manifest.original
    plan = layout(original.width, original.height, spec, original.orientation)
    need = factor(spec.format, manifest.drafted, jpeg_draft)
    if need is None:
        return None
    # A lossless output (one the policy never drafts) must not inherit a lossy rung's error.
    lossless_only = RESAMPLING[spec.format].draft is None
    out_w, out_h = plan.size
    box_w, box_h = plan.box[2] - plan.box[0], plan.box[3] - plan.box[1]
    for rung in manifest.rungs:
        if lossless_only and not rung.lossless:
            continue
        scale_x, scale_y = rung.width / original.width, rung.height / original.height
        if box_w * scale_x >= need * out_w and box_h * scale_y >= need * out_h:
            return rung
    return None


class Ladder:
    """Stores the rungs of new originals and makes cold resizes from them, in *storage*.

    Every storage call runs under *guard* (``guard.call()``), within the
    request the caller holds open.
    """

    def __init__(self, storage: Storage, engine: ImageEngine, guard: StorageGuard, max_upload_bytes: int) -> None:
        self.storage = storage
        self.engine = engine
        self.guard = guard
        self.max_upload_bytes = max_upload_bytes
        self._known: OrderedDict[str, Manifest | None] = OrderedDict()
        self._lock = threading.Lock()

    def store(self, media_id: str, original: Original | None, rungs: tuple[Rendered, ...], drafted: bool) -> bool:
        """Store *rungs* of the original of *media_id*, then the manifest; True when the ladder is complete.

        Rungs are conditional writes of what can be made again (as resizes:
        :func:`~s3media_wsgi.storage.base.put_remakeable`).  A failure is
        logged, never raised: the upload is stored already, and an id
        without a manifest is resized from its original.
        """
        if not rungs or original is None:
            self._remember(media_id, None)  # this process knows: no ladder to look for
            return False
        try:
            stored = []
            for rendered in rungs:
                name = rung_name(rendered)
                with self.guard.call():
                    put_remakeable(self.storage, ids.internal_key(media_id, name), rendered.data, rendered.content_type)
                stored.append(Rung(name, rendered.width, rendered.height, rendered.lossless))
            manifest = Manifest(original, tuple(sorted(stored, key=lambda r: r.width * r.height)), drafted)
            key = ids.internal_key(media_id, MANIFEST)
            with self.guard.call():
                put_remakeable(self.storage, key, manifest.to_bytes(), "application/json")
        except MediaError as exc:
            log.warning("source ladder of %s not stored (%s): its resizes read the original", media_id, exc)
            return False
        self._remember(media_id, manifest)
        return True

    def resize(self, media_id: str, spec: ResizeSpec) -> Rendered | None:
        """*spec* of *media_id* made from the smallest rung that serves it; None when none does.

        A rung that is missing, refused by storage (a policy) or does not
        decode is logged and None returned: the caller resizes the original.
        Storage being unavailable, or the engine's limits (busy, over a
        budget), are raised, as a resize of the original would raise them.
        """
        manifest = self.manifest(media_id)
        if manifest is None:
            return None
        rung = choose(manifest, spec, self.engine.limits.jpeg_draft)
        if rung is None:
            return None
        key = ids.internal_key(media_id, rung.name)
        try:
            with self.guard.call():
                data = self._read(key, self.max_upload_bytes)
            return self.engine.resize(data, spec, original=manifest.original)
        except StorageUnavailable:
            raise
        except (NotFound, NotAnImage, StorageError) as exc:
            log.warning("rung %s not usable (%s): resized from the original", key, exc)
            self.forget(media_id)
            return None

    def sources(self, media_id: str, specs: list[ResizeSpec]) -> list[tuple[bytes | None, Original | None, list[int]]]:
        """Where to make each of *specs* from, each source read once: ``(rung bytes, original, indexes)``.

        ``(None, None, indexes)`` is the original, for the specs no rung
        serves and those whose rung is missing or too large (logged).  What
        eager presets run: each rung decoded once for the outputs it serves.
        """
        manifest = self.manifest(media_id)
        groups: dict[str, list[int]] = {}
        rest: list[int] = []
        for i, spec in enumerate(specs):
            rung = choose(manifest, spec, self.engine.limits.jpeg_draft) if manifest is not None else None
            if rung is None:
                rest.append(i)
            else:
                groups.setdefault(rung.name, []).append(i)
        found: list[tuple[bytes | None, Original | None, list[int]]] = []
        for name, indexes in groups.items():
            key = ids.internal_key(media_id, name)
            try:
                with self.guard.call():
                    data = self._read(key, self.max_upload_bytes)
            except StorageUnavailable:
                raise
            except (NotFound, NotAnImage, StorageError) as exc:
                log.warning("rung %s not usable (%s): resized from the original", key, exc)
                self.forget(media_id)
                rest += indexes
                continue
            assert manifest is not None
            found.append((data, manifest.original, indexes))
        if rest:
            found.append((None, None, sorted(rest)))
        return found

    def manifest(self, media_id: str) -> Manifest | None:
        """The manifest of *media_id* (remembered per process), or None when it has no usable ladder."""
        with self._lock:
            if media_id in self._known:
                self._known.move_to_end(media_id)
                return self._known[media_id]
        key = ids.internal_key(media_id, MANIFEST)
        try:
            with self.guard.call():
                data = self._read(key, MANIFEST_MAX_BYTES)
            manifest: Manifest | None = Manifest.parse(data)
        except NotFound:
            manifest = None
        except StorageUnavailable:
            raise  # storage is down: the original cannot be read either
        except StorageError as exc:
            # Refused (a policy denying what it should not, or storage misconfigured): the original
            # still serves, and a misconfiguration is logged once, by the original's read failing too.
            log.info("ladder manifest %s not read (%s): resizes read the original", key, exc)
            manifest = None
        except (ValueError, NotAnImage) as exc:
            log.warning("ladder manifest %s unreadable (%s): resizes read the original", key, exc)
            manifest = None
        self._remember(media_id, manifest)
        return manifest

    def forget(self, media_id: str) -> None:
        """Drop what this process remembers of *media_id*'s ladder (after a delete, a broken rung)."""
        with self._lock:
            self._known.pop(media_id, None)

    def _remember(self, media_id: str, manifest: Manifest | None) -> None:
        with self._lock:
            self._known[media_id] = manifest
            self._known.move_to_end(media_id)
            while len(self._known) > CACHE_SIZE:
                self._known.popitem(last=False)

    def _read(self, key: str, most: int) -> bytes:
        """*key*'s bytes: more than *most* is a broken object (:class:`NotAnImage`), never read whole."""
        if isinstance(self.storage, ObjectStorage):
            data = self.storage.read(key, most + 1)
        else:
            data = self.storage.get(key)
        if len(data) > most:
            raise NotAnImage(f"{key} is over {most} bytes")
        return data


__all__ = ["CACHE_SIZE", "MANIFEST", "MIN_FACTOR", "Ladder", "Manifest", "Rung", "choose", "factor", "rung_name"]
