"""What the upload pass costs over the plain pixel check, per format, and how big its placeholders are.

The pixel check alone is ``probe(decode=True)``; the pass is ``probe(decode=True,
facts=True)`` (ThumbHash and dominant colour from the same decode) plus
:func:`s3media_wsgi.cleaning.clean`.  Median of rounds (each round runs the check
and the pass side by side), process CPU time, one decode slot.  Goals: the pass at
most +30 % over the check for every format; a placeholder of at most 40 bytes as
stored (the info record holds the ThumbHash in base64).

Run: ``.venv/bin/python benchmarks/bench_upload_pass.py [rounds]`` (default 7).
"""

from __future__ import annotations

import base64
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from images import gradient, photo, srgb_icc
from PIL import Image, ImageDraw, features

from s3media_wsgi.cleaning import clean
from s3media_wsgi.imaging import ImageEngine

try:  # HEIC only where pillow-heif is installed (imaging registers it)
    import pillow_heif
except ImportError:  # pragma: no cover - depends on the environment
    pillow_heif = None

GOAL_PERCENT = 30.0
GOAL_PLACEHOLDER_BYTES = 40


def _save(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def _line_art(width: int, height: int) -> Image.Image:
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    for i in range(0, width, 12):
        draw.line([(i, 0), (width - i, height)], fill=(i % 200, 0, 120), width=1 + i % 3)
    return img


def _with_alpha(img: Image.Image) -> Image.Image:
    img = img.convert("RGBA")
    img.putalpha(Image.radial_gradient("L").resize(img.size))
    return img


def files() -> dict[str, bytes]:
    """One upload of each format, at a size phones and cameras make (GIF: what a GIF usually is)."""
    big = photo(4000, 3000)
    out = {
        "JPEG 12 MP q90": _save(big, "JPEG", quality=90, icc_profile=srgb_icc()),
        "PNG 3 MP": _save(photo(2000, 1500), "PNG"),
        "PNG RGBA 3 MP": _save(_with_alpha(photo(2000, 1500)), "PNG"),
        "WebP 12 MP q80": _save(big, "WEBP", quality=80),
        "GIF 0.5 MP": _save(photo(800, 600).quantize(256), "GIF"),
    }
    if features.check("avif"):
        out["AVIF 12 MP q60"] = _save(big, "AVIF", quality=60, speed=8)
    if pillow_heif is not None:
        out["HEIC 12 MP q60"] = _save(big, "HEIF", quality=60)
    return out


def _median_ms(works: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    for work in works.values():
        work()  # warm up
    times: dict[str, list[float]] = {name: [] for name in works}
    for _ in range(rounds):
        for name, work in works.items():
            started = time.process_time()
            work()
            times[name].append((time.process_time() - started) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def run(rounds: int = 7) -> list[dict[str, object]]:
    engine = ImageEngine(max_concurrency=1)
    rows: list[dict[str, object]] = []
    for name, data in files().items():

        def check(data: bytes = data) -> object:
            return engine.probe(data, decode=True)

        def full(data: bytes = data) -> object:
            return clean(data, engine.probe(data, decode=True, facts=True).orientation)

        ms = _median_ms({"check": check, "pass": full}, rounds)
        extra = (ms["pass"] / ms["check"] - 1) * 100
        rows.append(
            {"file": name, "MB": len(data) / 1e6, "check_ms": ms["check"], "pass_ms": ms["pass"], "extra": extra}
        )
    return rows


def placeholder_set() -> dict[str, bytes]:
    """Photos, line art and images with alpha, in several shapes (the ThumbHash's size follows the aspect ratio)."""
    shapes = [(1600, 1200), (1200, 1600), (2000, 1000), (1000, 1000), (3000, 800)]
    out: dict[str, bytes] = {}
    for w, h in shapes:
        out[f"photo {w}x{h}"] = _save(photo(w, h), "JPEG", quality=90)
        out[f"smooth {w}x{h}"] = _save(gradient(w, h), "JPEG", quality=90)
        out[f"line art {w}x{h}"] = _save(_line_art(w, h), "PNG")
        out[f"alpha {w}x{h}"] = _save(_with_alpha(photo(w, h)), "PNG")
        out[f"alpha line art {w}x{h}"] = _save(_with_alpha(_line_art(w, h)), "PNG")
    flat = Image.new("RGB", (800, 600), (40, 90, 200))
    out["flat colour"] = _save(flat, "PNG")
    return out


def placeholder_sizes() -> dict[str, int]:
    """Stored bytes of each image's placeholder: its ThumbHash as the info record holds it, base64 text."""
    engine = ImageEngine(max_concurrency=1)
    sizes = {}
    for name, data in placeholder_set().items():
        code = engine.probe(data, decode=True, facts=True).placeholder
        assert code is not None
        sizes[name] = len(base64.b64encode(code))
    return sizes


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    print(f"CPU ms, median of {rounds} rounds side by side; goal: pass <= +{GOAL_PERCENT:.0f} % over the check")
    for row in run(rounds):
        met = "met" if float(row["extra"]) <= GOAL_PERCENT else "MISSED"  # type: ignore[arg-type]
        print(
            f"{row['file']:16} {row['MB']:5.1f} MB  check {row['check_ms']:7.1f} ms  "
            f"pass {row['pass_ms']:7.1f} ms  {row['extra']:+5.1f} %  [{met}]"
        )
    sizes = placeholder_sizes()
    values = sorted(sizes.values())
    met = "met" if values[-1] <= GOAL_PLACEHOLDER_BYTES else "MISSED"
    print(
        f"\nplaceholder bytes stored (base64 ThumbHash), {len(values)} images: min {values[0]}, "
        f"median {statistics.median(values):g}, max {values[-1]} (goal <= {GOAL_PLACEHOLDER_BYTES}) [{met}]"
    )
    largest = max(sizes, key=lambda k: sizes[k])
    print(f"  largest: {largest} ({sizes[largest]} bytes)")


if __name__ == "__main__":
    main()
