"""Which resampling policy each output format can afford: the quality rule, measured after encoding.

Run from the repository root::

    python benchmarks/bench_quality.py            (the rule, every candidate, their time; ~6 minutes)
    python benchmarks/bench_quality.py --crops DIR  (also writes 3x crops to look at)
    python benchmarks/bench_quality.py --by-ratio   (loss by the scale a draft leaves)

A JPEG source is rarely decoded at full size for a thumbnail: libjpeg scales
the DCT while decoding (a *draft*, to 1/2, 1/4 or 1/8), then Lanczos does the
rest.  Other sources (PNG, WebP) are decoded whole, and ``reducing_gap`` lets
Pillow average blocks (``reduce()``) before Lanczos.  Both trade quality for
time.  The rule a policy must meet, for every output format and quality, on
photos, line art and small text, at every target size:

* PSNR after encoding >= thumbor's (thumbor 7.8.0, Pillow engine, defaults:
  ``draft(None, size)`` -- the libjpeg scale that keeps at least the output's
  size, "draft 1x" -- then one Lanczos pass, no ``reducing_gap``), at the
  0.01 dB the tables show (``--margins`` prints each policy's closest call);
* and within 0.3 dB of a full decode + Lanczos on photos, 1 dB on line art and text.

How it is measured, the way a visitor sees it, *after* encoding:

* the reference is a full-size decode and one Lanczos pass, not encoded;
* the best pipeline (the same, encoded at the output's settings) scores
  ``PSNR(best)`` against it: the encoder's own loss;
* each candidate's encoded output, made by :class:`ImageEngine`, scores
  ``PSNR(candidate)``; a cell shows ``PSNR(candidate) - PSNR(best)`` in dB,
  the worst over the targets (fit 160x120 ... 2048x1536 and fill 300x300);
  for png, lossless, the candidate's own PSNR (the best is exact, so only an
  exact candidate is within 0.3 dB of it).

The time of a candidate is the in-process CPU time of ``ImageEngine.resize``
(median of rounds, every candidate in every round): photo sources to fit
160x120, 400x300 and 1280x960 and fill 300x300, as q85 JPEG (the encoder's
share is the same for every candidate).  The cheapest candidate that meets
the rule is marked ``*``; the policy in ``imaging.RESAMPLING`` is checked
against the rule last (✔ / ✘).
"""

from __future__ import annotations

import argparse
import io
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, str(ROOT / "tests"))

from bench_imaging import photo  # noqa: E402
from images import line_art, text  # noqa: E402
from PIL import Image, ImageChops, ImageOps, ImageStat  # noqa: E402

from s3media_wsgi import imaging  # noqa: E402
from s3media_wsgi.imaging import ImageEngine, ImageLimits, Resampling, layout  # noqa: E402
from s3media_wsgi.variants import ResizeSpec  # noqa: E402

LANCZOS, BICUBIC = Image.Resampling.LANCZOS, Image.Resampling.BICUBIC

#: The best pipeline: full decode, Lanczos all the way.
BEST = Resampling(None, LANCZOS, None)
#: thumbor 7.8.0's Pillow engine: ``image.draft(None, size)`` (the libjpeg
#: scale that keeps at least the output) then ``resize(size, LANCZOS)``.
#: A PNG or WebP is not drafted: Lanczos all the way, as :data:`BEST`.
THUMBOR = Resampling(1.0, LANCZOS, None)

#: Loss from a full decode + Lanczos (after encoding) the rule allows, in dB, by picture.
TOLERANCE_DB = {"photo": 0.3, "line art": 1.0, "text": 1.0}

FORMATS = {
    # name: (output format, quality)
    "jpg q85": ("jpg", 85),
    "jpg q95": ("jpg", 95),
    "webp q85": ("webp", 85),
    "webp q95": ("webp", 95),
    "avif q85": ("avif", 85),
    "avif q95": ("avif", 95),
    "png": ("png", 85),
    "gif": ("gif", 85),
}
FIT_WIDTHS = (160, 200, 400, 640, 800, 1024, 1280, 1600, 2048)
#: Formats whose encoder keeps every pixel: PSNR(best) is infinite.
LOSSLESS = ("png",)


def chosen(fmt: str, quality: int) -> Resampling:
    """The policy the engine uses for *fmt* at *quality*."""
    return imaging.resampling(fmt, quality)


@dataclass(frozen=True)
class Kind:
    """A kind of source: how it is made, and which of a policy's knobs it exercises."""

    name: str
    #: The candidates for output *fmt*: (name, policy); the other knob is the chosen policy's.
    candidates: Callable[[str, int], list[tuple[str, Resampling]]]
    #: What thumbor does with this kind of source.
    thumbor: Resampling


def _drafts(fmt: str, quality: int) -> list[tuple[str, Resampling]]:
    gap = chosen(fmt, quality).reducing_gap
    factors = [("draft 1x", 1.0), ("draft 1.5x", 1.5), ("draft 2x", 2.0), ("draft 3x", 3.0), ("draft 4x", 4.0)]
    return [*((name, Resampling(f, LANCZOS, gap)) for name, f in factors), ("no draft", Resampling(None, LANCZOS, gap))]


def _gaps(fmt: str, quality: int) -> list[tuple[str, Resampling]]:
    draft = chosen(fmt, quality).draft
    gaps = [("reducing_gap 2", 2.0), ("reducing_gap 3", 3.0), ("reducing_gap 4", 4.0), ("reducing_gap 8", 8.0)]
    return [
        *((name, Resampling(draft, LANCZOS, g)) for name, g in gaps),
        ("Lanczos only", Resampling(draft, LANCZOS, None)),
    ]


KINDS = {
    "jpeg": Kind("JPEG sources (q90, 4:2:0; drafted)", _drafts, THUMBOR),
    "plain": Kind("PNG and WebP sources (decoded whole; reducing_gap)", _gaps, BEST),
}


# --- sources ------------------------------------------------------------------------


IMAGES: dict[str, Callable[[int, int], Image.Image]] = {"photo": photo, "line art": line_art, "text": text}
SIZES = {"12MP": (4000, 3000), "2MP": (1600, 1200)}


def add_photo(path: Path) -> None:
    """Measure a real photo too (cropped to 4:3 at each size): ``--photo PATH``."""
    picture = Image.open(path)
    picture.load()
    name = f"photo {path.stem[:12]}"
    IMAGES[name] = lambda w, h: ImageOps.fit(picture.convert("RGB"), (w, h), LANCZOS)
    TOLERANCE_DB[name] = TOLERANCE_DB["photo"]


def encode(img: Image.Image, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


Sources = dict[tuple[str, str], bytes]


def jpeg_sources() -> Sources:
    """Every picture at each size, as a JPEG of quality 90 (4:2:0, what cameras and phones write)."""
    return {
        (image, size): encode(make(*SIZES[size]), "JPEG", quality=90)
        for image, make in IMAGES.items()
        for size in SIZES
    }


def plain_sources() -> Sources:
    """Every picture as a 2 MP PNG and a 12 MP WebP (q90): far enough above the targets for ``reduce()``."""
    sources = {}
    for image, make in IMAGES.items():
        sources[(image, "2MP PNG")] = encode(make(*SIZES["2MP"]), "PNG", compress_level=1)
        sources[(image, "12MP WebP")] = encode(make(*SIZES["12MP"]), "WEBP", quality=90)
    return sources


# --- measuring ----------------------------------------------------------------------------


def psnr(a: Image.Image, b: Image.Image) -> float:
    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    stat = ImageStat.Stat(diff)
    mse = sum(stat.sum2) / (stat.count[0] * 3)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


@contextmanager
def policy(fmt: str, resampling: Resampling) -> Iterator[None]:
    """Make the engine use *resampling* for *fmt* (at every quality) within the block."""
    real = imaging.resampling

    def patched(f: str, quality: int) -> Resampling:
        return resampling if f == fmt else real(f, quality)

    imaging.resampling = patched  # type: ignore[assignment]
    try:
        yield
    finally:
        imaging.resampling = real  # type: ignore[assignment]


def targets(width: int, height: int) -> list[tuple[int, int, str]]:
    fits = [(w, w * 3 // 4, "fit") for w in FIT_WIDTHS if w < width]
    return [*fits, (300, 300, "fill")]


def reference(source: Image.Image, spec: ResizeSpec) -> Image.Image:
    plan = layout(source.width, source.height, spec)
    return source.resize(plan.size, LANCZOS, box=plan.box)


def _pixels_used(header: Image.Image, spec: ResizeSpec, candidate: Resampling) -> tuple[object, ...]:
    """What decides a candidate's output for *spec*: the draft's decode size and the reduce() factors.

    Candidates that agree on it make the same pixels: measured once.
    """
    plan = layout(header.width, header.height, spec)
    size = imaging._draft_size(header, plan, candidate.draft, ImageLimits.jpeg_draft)
    src_w, src_h = size or header.size
    box_w = (plan.box[2] - plan.box[0]) * src_w / header.width
    box_h = (plan.box[3] - plan.box[1]) * src_h / header.height
    gap = candidate.reducing_gap
    reduce = (1, 1) if gap is None else (int(box_w / plan.size[0] / gap) or 1, int(box_h / plan.size[1] / gap) or 1)
    drafted_filter = candidate.after_draft if size is not None else LANCZOS
    return (size, reduce, drafted_filter)


def undrafted(full: Image.Image, spec: ResizeSpec, candidate: Resampling) -> Image.Image:
    """What the engine makes of a source it decodes whole (*full*), with *candidate*: the same steps, one decode.

    (``ImageEngine.resize`` would decode the source again for every candidate:
    a 12 MP WebP costs more than all the rest.)
    """
    plan = layout(full.width, full.height, spec)
    out = imaging._scale(full, plan.size, plan.box, LANCZOS, candidate.reducing_gap)
    out, icc = imaging._for_output(out.copy(), spec.format, None)
    return Image.open(io.BytesIO(imaging._encode(out, spec.format, spec.quality, icc)))


@dataclass
class Score:
    """One candidate on one (source, target, output): dB against the best (lossless: its own PSNR) and thumbor's."""

    image: str
    where: str
    fill: bool
    score: float
    thumbor: float


Scores = dict[tuple[str, str, str], list[Score]]  # (kind, format label, candidate) -> every score


def measure(
    engine: ImageEngine, kind: str, sources: Sources, scores: Scores, extra: list[tuple[str, Resampling]]
) -> None:
    """Score every candidate of *kind* (and *extra*, per format) on every source, target and output format."""
    for (image, size), data in sources.items():
        full = Image.open(io.BytesIO(data)).convert("RGB")
        header = Image.open(io.BytesIO(data))
        for w, h, mode in targets(*full.size):
            ref = reference(full, ResizeSpec(w, h, mode))
            for label, (fmt, quality) in FORMATS.items():
                if fmt in ("avif", "gif") and w * h > 1_000_000:
                    continue  # slow to encode, and the smaller sizes show the same
                spec = ResizeSpec(w, h, mode, quality, False, fmt)
                frame, icc = imaging._for_output(ref.copy(), fmt, None)
                best = psnr(Image.open(io.BytesIO(imaging._encode(frame, fmt, quality, icc))), ref)
                made: dict[tuple[object, ...], float] = {}

                def got(candidate: Resampling) -> float:
                    key = _pixels_used(header, spec, candidate)
                    if key not in made:
                        if kind == "plain":
                            out = undrafted(full, spec, candidate)
                        else:
                            with policy(fmt, candidate):
                                out = Image.open(io.BytesIO(engine.resize(data, spec).data))
                        made[key] = psnr(out, ref)
                    return made[key]

                def score(value: float) -> float:
                    if fmt in LOSSLESS:
                        return value
                    return 0.0 if value == best else value - best

                thumbor = score(got(KINDS[kind].thumbor))
                for name, candidate in [*KINDS[kind].candidates(fmt, quality), *extra_for(extra, fmt, quality)]:
                    where = f"{size} {image} -> {mode} {w}x{h}"
                    entry = Score(image, where, mode == "fill", score(got(candidate)), thumbor)
                    scores.setdefault((kind, label, name), []).append(entry)


def extra_for(extra: list[tuple[str, Resampling]], fmt: str, quality: int) -> list[tuple[str, Resampling]]:
    """The chosen policy stands for whatever *fmt* at *quality* uses; other extras as given."""
    return [(name, chosen(fmt, quality) if policy is None else policy) for name, policy in extra]  # type: ignore[misc]


CHOSEN = "imaging.RESAMPLING"


def meets(label: str, entries: list[Score]) -> bool:
    """The rule: >= thumbor's everywhere, within the picture's tolerance of the best."""
    lossless = FORMATS[label][0] in LOSSLESS
    for e in entries:
        if e.score < e.thumbor and round(e.score - e.thumbor, 2) < 0:
            return False  # below thumbor's at the 0.01 dB the table shows
        if lossless and e.score != math.inf:
            return False  # the best is exact: anything less is infinitely far from it
        if not lossless and e.score < -TOLERANCE_DB[e.image]:
            return False
    return True


def timing_cases(kind: str) -> list[tuple[bytes, ResizeSpec]]:
    if kind == "jpeg":
        sources = [encode(photo(*SIZES[size]), "JPEG", quality=90) for size in ("12MP", "2MP")]
    else:
        sources = [
            encode(photo(*SIZES["2MP"]), "PNG", compress_level=1),
            encode(photo(*SIZES["12MP"]), "WEBP", quality=90),
        ]
    specs = [
        ResizeSpec(w, h, mode, 85, False, "jpg")
        for w, h, mode in ((160, 120, "fit"), (400, 300, "fit"), (1280, 960, "fit"), (300, 300, "fill"))
    ]
    return [(data, spec) for data in sources for spec in specs]


def timings(engine: ImageEngine, kind: str, rounds: int) -> dict[str, float]:
    """Median CPU ms, over *rounds*, of every timing case resized with each candidate (all candidates each round)."""
    cases = timing_cases(kind)
    pipelines = [*KINDS[kind].candidates("jpg", 85), (CHOSEN + ' ("jpg")', chosen("jpg", 85))]
    totals: dict[str, list[float]] = {name: [] for name, _ in pipelines}
    for round_ in range(rounds + 1):
        for name, candidate in pipelines:
            with policy("jpg", candidate):
                started = time.process_time()
                for data, spec in cases:
                    engine.resize(data, spec)
                elapsed = (time.process_time() - started) * 1000
            if round_:  # the first round warms up
                totals[name].append(elapsed)
    return {name: statistics.median(values) for name, values in totals.items()}


def crops(engine: ImageEngine, sources: dict[tuple[str, str], bytes], folder: Path) -> None:
    """The top-left 160x120 of fit 400x300 in each format, best and candidates, enlarged 3x."""
    folder.mkdir(parents=True, exist_ok=True)
    for (image, size), data in sources.items():
        for label, (fmt, quality) in FORMATS.items():
            spec = ResizeSpec(400, 300, "fit", quality, False, fmt)
            for name, candidate in [("best", BEST), *_drafts(fmt, quality)]:
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


def _cell(label: str, entries: list[Score]) -> str:
    """Worst photo / worst line art or text, and the rule's verdict."""
    lossless = FORMATS[label][0] in LOSSLESS
    parts = []
    for photos in (True, False):
        values = [e.score for e in entries if (e.image.startswith("photo")) == photos]
        if not values:
            parts.append("-")
        elif lossless:
            parts.append("exact" if min(values) == math.inf else f"{min(values):.1f}")
        else:
            parts.append(f"{min(values):+.2f}")
    return ("✔ " if meets(label, entries) else "✘ ") + "/".join(parts)


def table(kind: str, scores: Scores, times: dict[str, float]) -> str:
    labels = list(FORMATS)
    names = list(dict.fromkeys(name for k, _, name in scores if k == kind))
    head = f"{'policy':20} {'ms':>7} " + "".join(f"{label:>15}" for label in labels)
    lines = [head, "-" * len(head)]
    cheapest: dict[str, str] = {}
    for label in labels:
        fits = [n for n in names if n != CHOSEN and meets(label, scores[(kind, label, n)]) and n in times]
        if fits:
            cheapest[label] = min(fits, key=lambda n: times[n])
    for name in names:
        ms = times.get(name, times.get(CHOSEN + ' ("jpg")') if name == CHOSEN else None)
        cells = []
        for label in labels:
            mark = "*" if cheapest.get(label) == name else " "
            cells.append(f"{_cell(label, scores[(kind, label, name)]) + mark:>15}")
        lines.append(f"{name:20} {'' if ms is None else f'{ms:7.1f}':>7} " + "".join(cells))
    return "\n".join(lines)


def margins(kind: str, scores: Scores) -> str:
    """Per candidate and output, the worst of PSNR(candidate) - PSNR(thumbor's), in dB, and where."""
    lines = []
    names = list(dict.fromkeys(name for k, _, name in scores if k == kind))
    for name in names:
        cells = []
        for label in FORMATS:
            entries = scores[(kind, label, name)]
            worst = min(entries, key=lambda e: e.score - e.thumbor if e.score != e.thumbor else 0.0)
            gap = 0.0 if worst.score == worst.thumbor else worst.score - worst.thumbor
            cells.append(f"{label} {gap:+.3f} ({worst.where})" if gap < 0 else f"{label} ok")
        lines.append(f"  {name}: " + "; ".join(cells))
    return "\n".join(lines)


def faithful_fill(scores: Scores) -> str:
    """The chosen policy against thumbor as its source does fill: it crops first, so it decodes in full."""
    cells = []
    for label in FORMATS:
        fills = [e for e in scores[("jpeg", label, CHOSEN)] if e.fill]
        worst = min(e.score for e in fills)
        text = "exact" if worst == math.inf else f"{worst:.1f}" if FORMATS[label][0] in LOSSLESS else f"{worst:+.2f}"
        cells.append(f"{('✔ ' if worst >= 0 else '✘ ') + text:>15}")
    return f"{'fill vs thumbor':28} " + "".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crops", type=Path, help="write enlarged crops of fit 400x300 to this folder")
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds (median)")
    parser.add_argument("--photo", type=Path, action="append", default=[], help="a real photo to measure too")
    parser.add_argument("--only", choices=list(KINDS), help="one kind of source")
    parser.add_argument("--formats", nargs="+", choices=list(FORMATS), help="only these outputs")
    parser.add_argument("--margins", action="store_true", help="also where each policy comes closest to thumbor's")
    parser.add_argument("--progressive", action="store_true", help="only compare baseline and progressive JPEG")
    parser.add_argument("--by-ratio", action="store_true", help="only the loss by the ratio a draft leaves (~1 min)")
    args = parser.parse_args()
    for path in args.photo:
        add_photo(path)
    for label in list(FORMATS):
        if args.formats and label not in args.formats:
            del FORMATS[label]
    if args.progressive:
        print(progressive())
        return
    if args.by_ratio:
        print(by_ratio())
        return
    engine = ImageEngine()
    print("Each cell: the rule met (✔) or not (✘); the worst photo / worst line art or text, PSNR(policy) -")
    print("PSNR(full decode + Lanczos), both encoded, in dB (png: the policy's own PSNR; the best is exact).")
    print("Rule: >= thumbor's (draft 1x, Lanczos) everywhere; >= -0.3 dB on photos, >= -1 dB on line art and text.")
    print(
        f"ms: median of {args.rounds} rounds, in-process resize of 8 photo resizes to jpg q85;"
        " * the cheapest meeting the rule.\n"
    )
    scores: Scores = {}
    for kind, make in (("jpeg", jpeg_sources), ("plain", plain_sources)):
        if args.only and kind != args.only:
            continue
        measure(engine, kind, make(), scores, [(CHOSEN, None)])  # type: ignore[list-item]
        times = timings(engine, kind, args.rounds)
        print(KINDS[kind].name + ":")
        print(table(kind, scores, times))
        if args.margins:
            print("worst margin over thumbor's (PSNR(policy) - PSNR(thumbor), dB), where it is below:")
            print(margins(kind, scores))
        if kind == "jpeg":
            print(faithful_fill(scores))
            print(
                "  (thumbor crops a fill before it resizes, and Pillow's crop decodes at full size:"
                " its fill is the best)"
            )
        print()
    if args.crops:
        crops(engine, jpeg_sources(), args.crops)
        print(f"crops written to {args.crops}")


if __name__ == "__main__":
    main()
