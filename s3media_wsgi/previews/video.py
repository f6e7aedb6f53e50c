"""Video (MP4, WebM, QuickTime) and audio through PyAV: ``pip install 's3media_wsgi[video]'``.

Each file is opened with the demuxer of its sniffed kind only (never
FFmpeg's guess: a playlist or concat script could name other files), with a
bounded probe, one decoding thread, and every count checked before a frame
is decoded: the claimed duration, the frame size (``max_pixels``), the pixels
decoded so far (``max_decoded_pixels``) and the time spent (``max_seconds``).

The poster: without ``frame=``, the first frame within ``search_seconds``
that is neither black nor blank (a fade-in, a title card's white), judged
on a 16x16 grey copy; past the window, the liveliest frame seen.  With
``frame=``, the frame shown at that time: a seek to the keyframe before it,
then frames decoded forward (a time past the end gives the last frame).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from typing import Any, ClassVar

from PIL import Image

from ..errors import ImageTooLarge, NotAnImage
from .base import Facts, Previewer, StillRequest, Work

#: The demuxer FFmpeg is told to use for each kind.
DEMUXERS = {"mp4": "mov", "quicktime": "mov", "webm": "matroska", "mp3": "mp3", "ogg": "ogg", "wav": "wav"}
#: FFmpeg's own probing of a stream, bounded (bytes, microseconds).
PROBE_OPTIONS = {"probesize": "5000000", "analyzeduration": "5000000"}
#: Peak bytes per pixel of a frame while decoding: the decoder's reference frames (YUV 4:2:0 is
#: 1.5 bytes a pixel; H.264 keeps up to 16), the frame turned RGB and its copy in Pillow.
DECODE_BYTES_PER_PIXEL = 32
#: A frame whose 16x16 grey copy has a mean below this is black; one whose spread is below
#: :data:`BLANK_SPREAD` is blank (one flat colour).
BLACK_MEAN = 20
BLANK_SPREAD = 6.0


def _open(data: bytes, kind: str) -> Any:
    import av

    try:
        return av.open(
            io.BytesIO(data),
            mode="r",
            format=DEMUXERS[kind],
            options=dict(PROBE_OPTIONS),
            metadata_errors="ignore",
        )
    except av.error.FFmpegError as exc:
        raise NotAnImage(f"cannot read this file: {exc}") from exc


def _duration(container: Any, stream: Any) -> float | None:
    if container.duration is not None and container.duration > 0:
        return float(container.duration) / 1_000_000
    if stream is not None and stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return None


def _check_duration(duration: float | None, work: Work) -> None:
    if duration is not None and (not math.isfinite(duration) or duration > work.limits.max_duration):
        raise ImageTooLarge(f"it claims to last {duration:g} s, over PreviewLimits.max_duration")


def _display_size(stream: Any) -> tuple[int, int]:
    ctx = stream.codec_context
    width, height = int(ctx.width or 0), int(ctx.height or 0)
    sar = stream.sample_aspect_ratio
    if sar is not None and sar > 0 and sar != 1:
        width = max(1, round(width * float(sar)))
    return width, height


def _rotation(stream: Any, frame: Any = None) -> int:
    """Degrees (0, 90, 180, 270) the picture is turned counter-clockwise when shown."""
    value = getattr(frame, "rotation", None) if frame is not None else None
    if value is None:
        value = 0
    return int(round(float(value) / 90)) % 4 * 90


class _Frames:
    """The frames of one video stream, decoded one packet at a time within *work*'s bounds."""

    def __init__(self, container: Any, stream: Any, work: Work) -> None:
        self.container, self.stream, self.work = container, stream, work
        width, height = stream.codec_context.width or 0, stream.codec_context.height or 0
        work.check_pixels(width, height, "a video frame")
        self.frame_pixels = width * height
        self.decoded = 0

    def __iter__(self) -> Iterator[Any]:
        work = self.work
        for packet in self.container.demux(self.stream):
            work.check_time("decoding the video")
            for frame in packet.decode():
                self.decoded += frame.width * frame.height
                work.check_pixels(frame.width, frame.height, "a video frame")
                if self.decoded > work.limits.max_decoded_pixels:
                    raise ImageTooLarge(
                        f"the preview would decode over PreviewLimits.max_decoded_pixels="
                        f"{work.limits.max_decoded_pixels}"
                    )
                yield frame


def _liveliness(frame: Any) -> tuple[float, float]:
    """Mean and spread of a 16x16 grey copy of *frame*."""
    grey = frame.reformat(width=16, height=16, format="gray")
    plane = grey.planes[0]
    raw = bytes(plane)
    values = [raw[row * plane.line_size + col] for row in range(16) for col in range(16)]
    mean = sum(values) / len(values)
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return mean, spread


def _pick(frames: _Frames, request: StillRequest, work: Work) -> Any:
    stream = frames.stream
    time_base = stream.time_base
    if request.frame is not None:
        target = request.frame
        if time_base is not None and target > 0:
            start = stream.start_time or 0
            frames.container.seek(start + int(target / time_base), stream=stream, backward=True, any_frame=False)
        last = None
        for frame in frames:
            if last is not None and frame.time is not None and frame.time > target + 1e-6:
                return last
            last = frame
            if frame.time is not None and abs(frame.time - target) < 1e-6:
                return frame
        if last is None:
            raise NotAnImage("the video has no frame to show")
        return last
    best, best_spread, first_time = None, -1.0, None
    for count, frame in enumerate(frames, 1):
        mean, spread = _liveliness(frame)
        if mean >= BLACK_MEAN and spread >= BLANK_SPREAD:
            return frame
        if spread > best_spread:
            best, best_spread = frame, spread
        if first_time is None:
            first_time = frame.time
        late = (
            frame.time is not None and first_time is not None and frame.time - first_time >= work.limits.search_seconds
        )
        if late or count >= work.limits.search_frames:
            break
    if best is None:
        raise NotAnImage("the video has no frame to show")
    return best


def _to_image(frame: Any, stream: Any) -> Image.Image:
    image: Image.Image = frame.to_image()
    width, height = _display_size(stream)
    if (width, height) != image.size and width > 0 and height > 0:
        image = image.resize((width, height), Image.Resampling.BICUBIC)
    turn = _rotation(stream, frame)
    if turn:
        # FFmpeg's rotation is counter-clockwise; Pillow's rotate() is too.
        image = image.rotate(turn, expand=True)
    return image


class VideoPreviewer(Previewer):
    """A video's poster frame (or the frame at ``frame=`` seconds) and its facts, with PyAV."""

    kinds: ClassVar[frozenset[str]] = frozenset({"mp4", "webm", "quicktime"})
    module: ClassVar[str] = "av"
    extra: ClassVar[str] = "video"
    options: ClassVar[frozenset[str]] = frozenset({"frame"})

    def _video(self, data: bytes, kind: str, work: Work, request: StillRequest) -> tuple[Image.Image, Any, Any]:
        container = _open(data, kind)
        try:
            if not container.streams.video:
                raise NotAnImage("the file has no video stream")
            stream = container.streams.video[0]
            _check_duration(_duration(container, stream), work)
            stream.thread_type = "SLICE"
            stream.codec_context.thread_count = 1
            frames = _Frames(container, stream, work)
            width, height = _display_size(stream)
            work.check_pixels(width, height, "a video frame")
            cost = frames.frame_pixels * DECODE_BYTES_PER_PIXEL + width * height * 4
            with work.reserve(cost, f"a {width}x{height} video frame"):
                frame = _pick(frames, request, work)
                image = _to_image(frame, stream)
            return image, container, stream
        except BaseException:
            container.close()
            raise

    def still(self, data: bytes, kind: str, request: StillRequest, work: Work) -> Image.Image:
        image, container, _ = self._video(data, kind, work, request)
        container.close()
        return image

    def facts(self, data: bytes, kind: str, work: Work) -> Facts:
        image, container, stream = self._video(data, kind, work, StillRequest())
        try:
            audio = container.streams.audio[0] if container.streams.audio else None
            rate = stream.average_rate or stream.guessed_rate
            duration = _duration(container, stream)
            poster = image.copy()
            poster.thumbnail((64, 64))
            return Facts(
                width=image.width,
                height=image.height,
                duration=round(duration, 3) if duration is not None else None,
                video_codec=stream.codec_context.name,
                audio_codec=audio.codec_context.name if audio is not None else None,
                frame_rate=round(float(rate), 3) if rate else None,
                poster=poster,
            )
        finally:
            container.close()


class AudioAnalyzer(Previewer):
    """An audio file's duration and codec, read from its header with PyAV (no still)."""

    kinds: ClassVar[frozenset[str]] = frozenset({"mp3", "ogg", "wav"})
    module: ClassVar[str] = "av"
    extra: ClassVar[str] = "video"
    has_still: ClassVar[bool] = False

    def facts(self, data: bytes, kind: str, work: Work) -> Facts:
        container = _open(data, kind)
        try:
            audio = container.streams.audio[0] if container.streams.audio else None
            duration = _duration(container, audio)
            _check_duration(duration, work)
            return Facts(
                duration=round(duration, 3) if duration is not None else None,
                audio_codec=audio.codec_context.name if audio is not None else None,
            )
        finally:
            container.close()


__all__ = ["AudioAnalyzer", "VideoPreviewer"]
