"""Which resampling policy each output format can afford: quality measured after encoding.

Run from the repository root::

    python benchmarks/bench_quality.py            (the policy table; ~2 minutes)
    python benchmarks/bench_quality.py --crops DIR  (also writes 3x crops to look at)
    python benchmarks/bench_quality.py --by-ratio   (loss by the scale a draft leaves)

A JPEG source is never decoded at full size for a thumbnail: libjpeg scales
the DCT while decoding (a *draft*, to 1/2, 1/4 or 1/8), then one filter does
the rest.  How far to draft, and which filter to use after, is a trade of
time for quality; this script measures the quality side the way a visitor
sees it, *after* the output is encoded:

* the reference is the best Pillow can do: a full-size decode and one
  Lanczos pass, not encoded;
* the best pipeline's output (the same, then encoded at the output format's
  settings) scores ``PSNR(best)`` against it: the encoder's own loss;
* each candidate pipeline's encoded output scores ``PSNR(candidate)``;
  the table shows ``PSNR(candidate) - PSNR(best)`` in dB, the worst over the
  target sizes (fit 160x120 ... 2048x1536 and fill 300x300, so the scale
  that remains after the draft covers its whole range).

A lossy encoder already throws away most of what a gentler draft keeps, so
for JPEG, WebP and AVIF a deeper draft costs little once encoded; a lossless
output keeps every difference.  A policy is acceptable for a format when the
worst difference is within 0.1 dB on every image: a photo (gradients, a
fractal's edges, sensor grain), line art (1-3 px lines at many angles,
circles, a grid) and text (Pillow's default font, small).  ``--crops`` writes
the same crop of the best and each candidate output, enlarged 3x without
filtering, to check by eye that line art and text look the same.

Sources that are not JPEG (PNG, WebP...) are never drafted; for those the
table compares Lanczos all the way with ``reducing_gap`` (``reduce()``
averaging before Lanczos) on PNG sources.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_imaging import photo  # noqa: E402
from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageOps, ImageStat  # noqa: E402

from s3media_wsgi import imaging  # noqa: E402
from s3media_wsgi.imaging import ImageEngine, Resampling, layout  # noqa: E402
from s3media_wsgi.variants import ResizeSpec  # noqa: E402

LANCZOS, BICUBIC = Image.Resampling.LANCZOS, Image.Resampling.BICUBIC

#: The best pipeline: full decode, Lanczos all the way.
BEST = Resampling(None, LANCZOS, None)
#: Candidates for JPEG sources: (name, policy).  Lanczos after the draft, no
#: ``reduce()`` (reducing_gap only matters far past the last draft scale).
JPEG_CANDIDATES = [
    ("draft 2x, bicubic (0.1)", Resampling(2.0, BICUBIC, 2.0)),
    ("draft 1x", Resampling(1.0, LANCZOS, None)),
    ("draft 2x", Resampling(2.0, LANCZOS, None)),
    ("draft 3x", Resampling(3.0, LANCZOS, None)),
    ("draft 4x", Resampling(4.0, LANCZOS, None)),
]
#: Candidates for sources that are never drafted (PNG here).
PLAIN_CANDIDATES = [
    ("reducing_gap 2 (0.1)", Resampling(None, LANCZOS, 2.0)),
    ("reducing_gap 3", Resampling(None, LANCZOS, 3.0)),
    ("reducing_gap 4", Resampling(None, LANCZOS, 4.0)),
]
FORMATS = {
    # name: (output format, quality)
    "jpg q85": ("jpg", 85),
    "jpg q95": ("jpg", 95),
    "webp q85": ("webp", 85),
    "avif q85": ("avif", 85),
    "png": ("png", 85),
    "gif": ("gif", 85),
}
FIT_WIDTHS = (160, 200, 400, 640, 800, 1024, 1280, 1600, 2048)
#: The acceptable loss after encoding, in dB.
TOLERANCE_DB = 0.1
#: Lossless outputs: the PSNR against the reference a policy must keep.
LOSSLESS_DB = 45.0


# --- sources ------------------------------------------------------------------------


def line_art(width: int, height: int) -> Image.Image:
    """Thin lines (1-3 px) at many angles, circles and a grid, black and colours on white."""
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    cx, cy = width / 2, height / 2
    colours = [(0, 0, 0), (200, 0, 0), (0, 0, 180), (0, 120, 0)]
    for i in range(72):  # a fan of lines: every angle, so every phase against the 8x8 blocks
        angle = math.pi * i / 72
        dx, dy = math.cos(angle) * width, math.sin(angle) * height
        draw.line([(cx - dx, cy - dy), (cx + dx, cy + dy)], fill=colours[i % 4], width=1 + i % 3)
    step = max(8, width // 60)
    for x in range(0, width // 3, step):  # a grid in the top-left third
        draw.line([(x, 0), (x, height // 3)], fill=(0, 0, 0), width=1)
    for y in range(0, height // 3, step):
        draw.line([(0, y), (width // 3, y)], fill=(0, 0, 0), width=1)
    for r in range(step, min(width, height) // 3, step * 2):  # circles in the bottom-right
        box = [width - r - step, height - r - step, width - step + r // 2, height - step + r // 2]
        draw.ellipse(box, outline=colours[(r // step) % 4], width=1 + (r // step) % 2)
    return img


def text(width: int, height: int) -> Image.Image:
    """Lines of small text (Pillow's default font at sizes from 10 px to a tenth of the height)."""
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    sizes = [s for s in (10, 12, 14, 18, 24, 32, 48, 64, 96, 128, 192, 256) if s <= height / 10]
    y, i = 4, 0
    while y < height:
        size = sizes[i % len(sizes)]
        font = ImageFont.load_default(size)
        line = f"{size}px The quick brown fox jumps over the lazy dog 0123456789 ({i}) " * 8
        draw.text((4, y), line, fill=(0, 0, 0) if i % 3 else (20, 40, 160), font=font)
        y += int(size * 1.3) + 2
        i += 1
    return img


IMAGES: dict[str, Callable[[int, int], Image.Image]] = {"photo": photo, "line art": line_art, "text": text}
SIZES = {"12MP": (4000, 3000), "2MP": (1600, 1200)}


def add_photo(path: Path) -> None:
    """Measure a real photo too (cropped to 4:3 at each size): ``--photo PATH``."""
    picture = Image.open(path)
    picture.load()
    IMAGES[f"photo {path.stem[:12]}"] = lambda w, h: ImageOps.fit(picture.convert("RGB"), (w, h), LANCZOS)


def encode(img: Image.Image, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def jpeg_sources() -> dict[tuple[str, str], bytes]:
    """Every picture at each size, as a JPEG of quality 90 (4:2:0, what cameras and phones write)."""
    return {
        (image, size): encode(make(*SIZES[size]), "JPEG", quality=90)
        for image, make in IMAGES.items()
        for size in SIZES
    }


def png_sources() -> dict[tuple[str, str], bytes]:
    return {(image, "2MP"): encode(make(*SIZES["2MP"]), "PNG", compress_level=1) for image, make in IMAGES.items()}


# --- measuring ----------------------------------------------------------------------------


def psnr(a: Image.Image, b: Image.Image) -> float:
    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    stat = ImageStat.Stat(diff)
    mse = sum(stat.sum2) / (stat.count[0] * 3)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


@contextmanager
def policy(fmt: str, resampling: Resampling) -> Iterator[None]:
    """Make the engine use *resampling* for *fmt* within the block."""
    saved = imaging.RESAMPLING[fmt]
    imaging.RESAMPLING[fmt] = resampling
    try:
        yield
    finally:
        imaging.RESAMPLING[fmt] = saved


def targets(width: int, height: int) -> list[tuple[int, int, str]]:
    fits = [(w, w * 3 // 4, "fit") for w in FIT_WIDTHS if w < width]
    return [*fits, (300, 300, "fill")]


def reference(source: Image.Image, spec: ResizeSpec) -> Image.Image:
    plan = layout(source.width, source.height, spec)
    return source.resize(plan.size, LANCZOS, box=plan.box)


#: Formats whose encoder keeps every pixel: PSNR(best) is infinite, so the
#: table shows each candidate's own PSNR against the reference instead.
LOSSLESS = ("png",)

Worst = dict[tuple[str, str, str, str], float]


def measure(
    engine: ImageEngine, sources: dict[tuple[str, str], bytes], candidates: list[tuple[str, Resampling]]
) -> Worst:
    """``{(image, size, format, candidate): worst score over the targets}``.

    The score is ``PSNR(candidate) - PSNR(best)`` for lossy formats, and the
    candidate's own PSNR for lossless ones.
    """
    worst: Worst = {}
    for (image, size), data in sources.items():
        full = Image.open(io.BytesIO(data)).convert("RGB")
        for w, h, mode in targets(*full.size):
            ref = reference(full, ResizeSpec(w, h, mode))
            for label, (fmt, quality) in FORMATS.items():
                if fmt in ("avif", "gif") and w * h > 1_000_000:
                    continue  # slow to encode, and the smaller sizes show the same
                spec = ResizeSpec(w, h, mode, quality, False, fmt)
                # What the engine makes with BEST, without decoding the source again.
                frame, icc = imaging._for_output(ref.copy(), fmt, None)
                best = psnr(Image.open(io.BytesIO(imaging._encode(frame, fmt, quality, icc))), ref)
                for name, candidate in candidates:
                    with policy(fmt, candidate):
                        got = psnr(Image.open(io.BytesIO(engine.resize(data, spec).data)), ref)
                    key = (image, size, label, name)
                    score = got if fmt in LOSSLESS else 0.0 if got == best else got - best
                    worst[key] = min(worst.get(key, math.inf), score)
    return worst


def timings(engine: ImageEngine, data: bytes, spec: ResizeSpec, repeat: int = 9) -> dict[str, float]:
    """Best CPU ms of each pipeline for one resize, interleaved."""
    pipelines = [("full decode, Lanczos", BEST), *JPEG_CANDIDATES]
    times: dict[str, list[float]] = {name: [] for name, _ in pipelines}
    for _ in range(repeat):
        for name, candidate in pipelines:
            with policy(spec.format, candidate):
                started = time.process_time()
                engine.resize(data, spec)
                times[name].append((time.process_time() - started) * 1000)
    return {name: min(values) for name, values in times.items()}


def crops(engine: ImageEngine, sources: dict[tuple[str, str], bytes], folder: Path) -> None:
    """The top-left 160x120 of fit 400x300 in each format, best and candidates, enlarged 3x."""
    folder.mkdir(parents=True, exist_ok=True)
    for (image, size), data in sources.items():
        for label, (fmt, quality) in FORMATS.items():
            spec = ResizeSpec(400, 300, "fit", quality, False, fmt)
            for name, candidate in [("best", BEST), *JPEG_CANDIDATES]:
                with policy(fmt, candidate):
                    out = Image.open(io.BytesIO(engine.resize(data, spec).data)).convert("RGB")
                crop = out.crop((0, 0, 160, 120)).resize((480, 360), Image.Resampling.NEAREST)
                slug = f"{image}-{size}-{label}-{name}".replace(" ", "_").replace(",", "").replace(".", "_")
                crop.save(folder / f"{slug}.png")


def progressive(repeat: int = 7) -> str:
    """Bytes and best CPU ms of baseline and progressive JPEG (both optimised, q85) at four sizes."""
    lines = [f"{'picture':22} {'size':>9} {'baseline':>18} {'progressive':>18} {'bytes':>7} {'time':>6}"]
    for image, make in IMAGES.items():
        source = make(4000, 3000)
        for w in (160, 400, 800, 1600):
            out = source.resize((w, w * 3 // 4), LANCZOS)
            figures = []
            for extra in ({}, {"progressive": True}):
                data = encode(out, "JPEG", quality=85, optimize=True, **extra)
                best = math.inf
                for _ in range(repeat):
                    started = time.process_time()
                    encode(out, "JPEG", quality=85, optimize=True, **extra)
                    best = min(best, time.process_time() - started)
                figures.append((len(data), best * 1000))
            (b_bytes, b_ms), (p_bytes, p_ms) = figures
            lines.append(
                f"{image:22} {f'{w}x{w * 3 // 4}':>9} {b_bytes:>8,} B {b_ms:5.2f} ms {p_bytes:>8,} B {p_ms:5.2f} ms"
                f" {100 * (p_bytes / b_bytes - 1):+6.1f}% {p_ms / b_ms:5.1f}x"
            )
    return "\n".join(lines)


def by_ratio(quality: int = 85) -> str:
    """Loss after a draft, by the ratio the draft leaves to Lanczos (drafted size / output size).

    Every libjpeg scale (1/8, 1/4, 1/2) that still covers the output, for fit
    130 px ... 1700 px wide (37 px steps) from each picture at 12 MP and 2 MP;
    each line is the worst and the median of PSNR(draft + Lanczos) -
    PSNR(full decode + Lanczos), both encoded as JPEG at *quality*, against
    the full decode + Lanczos.  A ratio of 1 is thumbor's draft when the output
    is an exact scale of the source (2 MP to 400x300); ``ImageLimits.jpeg_draft``
    is the ratio kept at least.
    """
    buckets = [(1.0, 1.1), (1.1, 1.25), (1.25, 1.4), (1.4, 1.6), (1.6, 1.8), (1.8, 2.0), (2.0, 2.5), (2.5, 3.0)]
    buckets += [(3.0, 4.0), (4.0, 8.0)]
    losses: dict[tuple[str, int], list[float]] = {}
    for image, make in IMAGES.items():
        for size in SIZES.values():
            data = encode(make(*size), "JPEG", quality=90)
            full = Image.open(io.BytesIO(data)).convert("RGB")
            drafts = []
            for scale in (8, 4, 2):
                drafted = Image.open(io.BytesIO(data))
                drafted.draft("RGB", (size[0] // scale, size[1] // scale))
                drafted.load()
                drafts.append(drafted)
            for width in range(130, 1700, 37):
                if width >= size[0]:
                    continue
                target = (width, width * 3 // 4)
                ref = full.resize(target, LANCZOS)
                best = psnr(Image.open(io.BytesIO(encode(ref, "JPEG", quality=quality, optimize=True))), ref)
                for drafted in drafts:
                    ratio = drafted.width / width
                    if not 1 <= ratio < buckets[-1][1]:
                        continue
                    out = drafted.resize(target, LANCZOS)
                    got = psnr(Image.open(io.BytesIO(encode(out, "JPEG", quality=quality, optimize=True))), ref)
                    bucket = next(i for i, (lo, hi) in enumerate(buckets) if lo <= ratio < hi)
                    losses.setdefault((image, bucket), []).append(got - best)
    head = f"{'ratio left to Lanczos':22}" + "".join(f"{image:>22}" for image in IMAGES)
    lines = [f"JPEG q{quality}: worst / median loss in dB (n = outputs measured)", head, "-" * len(head)]
    for i, (lo, hi) in enumerate(buckets):
        cells = []
        for image in IMAGES:
            values = sorted(losses.get((image, i), []))
            cells.append(f"{values[0]:+.2f} / {values[len(values) // 2]:+.2f} (n={len(values):2})" if values else "")
        lines.append(f"{f'{lo:.2f} - {hi:.2f}':22}" + "".join(f"{c:>22}" for c in cells))
    return "\n".join(lines)


# --- report -------------------------------------------------------------------------------


def acceptable(label: str, score: float) -> bool:
    fmt = FORMATS[label][0]
    return score >= LOSSLESS_DB if fmt in LOSSLESS else score >= -TOLERANCE_DB


def table(worst: Worst, candidates: list[tuple[str, Resampling]]) -> str:
    """One line per (candidate, source) and one ``all`` line per candidate (the worst source)."""
    labels = list(FORMATS)
    order = list(IMAGES)
    rows = sorted({(image, size) for image, size, _, _ in worst}, key=lambda r: (order.index(r[0]), r[1]))
    head = f"{'source':24} {'pipeline':24}" + "".join(f"{label:>11}" for label in labels)
    lines = [head, "-" * len(head)]
    for name, _ in candidates:
        for image, size in rows:
            cells = []
            for label in labels:
                value = worst.get((image, size, label, name))
                text = "-" if value is None else _score(label, value)
                cells.append(f"{text:>11}")
            lines.append(f"{image + ' ' + size:24} {name:24}" + "".join(cells))
        overall = []
        for label in labels:
            values = [v for (_, _, lb, nm), v in worst.items() if lb == label and nm == name]
            value = min(values)
            overall.append(f"{('ok ' if acceptable(label, value) else 'NO ') + _score(label, value):>11}")
        lines.append(f"{'worst':24} {name:24}" + "".join(overall))
        lines.append("")
    return "\n".join(lines)


def _score(label: str, value: float) -> str:
    if FORMATS[label][0] in LOSSLESS:
        return "exact" if value == math.inf else f"{value:.1f}dB"
    return f"{value:+.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crops", type=Path, help="write enlarged crops of fit 400x300 to this folder")
    parser.add_argument("--no-timings", action="store_true")
    parser.add_argument("--photo", type=Path, action="append", default=[], help="a real photo to measure too")
    parser.add_argument("--no-png-sources", action="store_true")
    parser.add_argument("--progressive", action="store_true", help="only compare baseline and progressive JPEG")
    parser.add_argument("--by-ratio", action="store_true", help="only the loss by the ratio a draft leaves (~1 min)")
    args = parser.parse_args()
    for path in args.photo:
        add_photo(path)
    if args.progressive:
        print(progressive())
        return
    if args.by_ratio:
        print(by_ratio())
        return
    engine = ImageEngine()
    jpegs = jpeg_sources()
    print("Lossy formats: worst PSNR(candidate) - PSNR(best) in dB, both encoded, against a full decode +")
    print("Lanczos, over fit 160x120..2048x1536 and fill 300x300; acceptable at >= -0.1 dB.  png: the worst")
    print(f"PSNR of the candidate itself (the best is exact); acceptable at >= {LOSSLESS_DB:.0f} dB.\n")
    print("JPEG sources (q90, 4:2:0):")
    print(table(measure(engine, jpegs, JPEG_CANDIDATES), JPEG_CANDIDATES))
    if not args.no_png_sources:
        print("PNG sources (never drafted):")
        print(table(measure(engine, png_sources(), PLAIN_CANDIDATES), PLAIN_CANDIDATES))
    if not args.no_timings:
        print("best CPU ms of one resize, 9 interleaved rounds (fit 400x300 q85 jpg):")
        for (image, size), data in jpegs.items():
            if image != "photo":
                continue
            spec = ResizeSpec(400, 300, "fit", 85, False, "jpg")
            cells = ", ".join(f"{name} {ms:.1f}" for name, ms in timings(engine, data, spec).items())
            print(f"  {image} {size}: {cells}")
    if args.crops:
        crops(engine, jpegs, args.crops)
        print(f"crops written to {args.crops}")


if __name__ == "__main__":
    main()
