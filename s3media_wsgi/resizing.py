"""Making resizes: one path for both ways a resize is asked for, behind one single-flight.

:meth:`Media.create_resize <s3media_wsgi.Media.create_resize>` wants the key
of the stored resize (it looks with ``exists``), :meth:`Media.fetch_resize
<s3media_wsgi.Media.fetch_resize>` its bytes (it looks with ``get``); when it
is missing, both read the smallest rung of the original's source ladder that
serves it (:mod:`s3media_wsgi.ladder`) or else the original (bounded by
``max_upload_bytes``), resize it and store it with a conditional write, so across processes the first
writer wins and every other one succeeds without overwriting.  Within a
process identical requests share one computation (:class:`SingleFlight`);
one that waits longer than :data:`FOLLOWER_WAIT` is answered 503.
"""

from __future__ import annotations

import logging
import time

from . import ids
from .errors import ImageTooLarge, NotAnImage, NotFound
from .imaging import CONTENT_TYPES, ImageEngine, Rendered
from .ladder import Ladder
from .resilience import StorageGuard
from .singleflight import SingleFlight
from .storage.base import ObjectStorage, Storage, put_remakeable
from .variants import ResizeSpec

log = logging.getLogger("s3media_wsgi")

#: Seconds a request for a resize another request is already making waits for
#: it, before a 503: identical requests must not hold every server thread
#: while storage hangs.  A resize takes milliseconds to a second or two.
FOLLOWER_WAIT = 3.0

#: What a resize request answers: its key, and its bytes and type when they were asked for.
Made = tuple[str, bytes | None, str]


class Resizer:
    """Makes the resizes of one :class:`~s3media_wsgi.Media`, stored in *storage*."""

    def __init__(
        self,
        storage: Storage,
        engine: ImageEngine,
        guard: StorageGuard,
        max_upload_bytes: int,
        ladder: Ladder | None = None,
    ) -> None:
        self.storage = storage
        self.engine = engine
        self.guard = guard
        self.max_upload_bytes = max_upload_bytes
        #: Where cold resizes look first (None: always the original).
        self.ladder = ladder
        self._flight: SingleFlight[Made] = SingleFlight()

    def create(self, key: str, media_id: str, spec: ResizeSpec) -> str:
        """The key of the resize *spec* of *media_id* at *key*, made and stored if missing."""
        return self._do(key, media_id, spec, with_bytes=False)[0]

    def fetch(self, key: str, media_id: str, spec: ResizeSpec) -> tuple[str, bytes, str]:
        """``(key, bytes, content type)`` of that resize, made and stored if missing."""
        key, data, content_type = self._do(key, media_id, spec, with_bytes=True)
        assert data is not None  # with_bytes: always the bytes
        return key, data, content_type

    def _do(self, key: str, media_id: str, spec: ResizeSpec, *, with_bytes: bool) -> Made:
        # A request for the bytes and one for the key are different answers: two flights of one key each.
        flight = ("bytes:" if with_bytes else "key:") + key
        return self._flight.do(flight, lambda: self._make(key, media_id, spec, with_bytes), wait=FOLLOWER_WAIT)

    def _make(self, key: str, media_id: str, spec: ResizeSpec, with_bytes: bool) -> Made:
        # Only the leader of identical concurrent calls gets here; its three
        # storage calls share one time budget, each needs a storage slot.
        guard = self.guard
        with guard.request():
            if with_bytes:
                try:
                    with guard.call():
                        return key, self.storage.get(key), CONTENT_TYPES[spec.format]
                except NotFound:
                    pass
            else:
                with guard.call():
                    if self.storage.exists(key):
                        return key, None, CONTENT_TYPES[spec.format]
            started = time.perf_counter()
            rendered = self.ladder.resize(media_id, spec) if self.ladder is not None else None
            source = "a rung"
            if rendered is None:
                source = "the original"
                with guard.call():
                    original = self._read_original(media_id)
                rendered = self.engine.resize(original, spec)
            with guard.call():
                # A resize can be made again: a backend may skip what makes a
                # write survive a crash (local storage: the folder fsync; never atomicity).
                written = put_remakeable(self.storage, key, rendered.data, rendered.content_type)
        log.info(
            "resize %s %s from %s in %.1f ms, %d bytes",
            key,
            "made" if written else "made (another process stored it first)",
            source,
            (time.perf_counter() - started) * 1000,
            len(rendered.data),
        )
        return key, rendered.data, rendered.content_type

    def create_many(self, media_id: str, wanted: list[tuple[str, ResizeSpec]]) -> list[str]:
        """Store each missing resize of *wanted* (``(key, spec)`` pairs) of *media_id*, each source decoded once.

        The keys it made (or found stored by another writer meanwhile); a
        resize that cannot be made is logged and left to its first request.
        One storage request: an ``exists`` per key, one read of each rung of
        the source ladder that serves some of them (each decoded once) and
        of the original for the rest, a conditional write per resize made.
        """
        guard = self.guard
        with guard.request():
            missing = []
            for key, spec in wanted:
                with guard.call():
                    if not self.storage.exists(key):
                        missing.append((key, spec))
            if not missing:
                return []
            started = time.perf_counter()
            specs = [spec for _, spec in missing]
            rendered: list[Rendered | Exception | None] = [None] * len(missing)
            if self.ladder is not None:
                # Each rung that serves some of them decoded once; what none serves, from the original.
                for data, source, indexes in self.ladder.sources(media_id, specs):
                    if data is None:
                        continue
                    try:
                        outputs = self.engine.resize_many(data, [specs[i] for i in indexes], original=source)
                    except NotAnImage as exc:
                        log.warning("a rung of %s does not decode (%s): resized from the original", media_id, exc)
                        self.ladder.forget(media_id)
                        continue
                    for i, output in zip(indexes, outputs):
                        rendered[i] = output
            todo = [i for i, r in enumerate(rendered) if r is None]
            if todo:
                with guard.call():
                    original = self._read_original(media_id)
                for i, output in zip(todo, self.engine.resize_many(original, [specs[i] for i in todo])):
                    rendered[i] = output
            made = []
            for (key, _), result in zip(missing, rendered):
                if result is None or isinstance(result, Exception):
                    log.warning("eager resize %s not made: %s", key, result)
                    continue
                with guard.call():
                    put_remakeable(self.storage, key, result.data, result.content_type)
                made.append(key)
        log.info(
            "eager resizes of %s: %d of %d made in %.1f ms", media_id, len(made), len(missing),
            (time.perf_counter() - started) * 1000,
        )  # fmt: skip
        return made

    def _read_original(self, media_id: str) -> bytes:
        """The original of *media_id*, to resize: :class:`ImageTooLarge` when over ``max_upload_bytes``.

        No upload path stores a larger one, but a limit lowered later or
        another writer of the bucket can leave one: it is refused after
        reading at most ``max_upload_bytes`` + 1 bytes, never read whole.
        (A storage that cannot read part of an object is read whole.)
        """
        key = ids.original_key(media_id)
        if isinstance(self.storage, ObjectStorage):
            data = self.storage.read(key, self.max_upload_bytes + 1)
        else:
            data = self.storage.get(key)
        if len(data) > self.max_upload_bytes:
            raise ImageTooLarge(
                f"the original of {media_id} is over max_upload_bytes={self.max_upload_bytes}: not resized"
            )
        return data


__all__ = ["FOLLOWER_WAIT", "Resizer"]
