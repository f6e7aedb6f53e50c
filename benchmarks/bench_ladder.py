"""The source ladder: what it saves a cold resize, what it costs an upload, and what its rungs keep.

Run from the repository root::

    python benchmarks/bench_ladder.py             (timings and storage; part of ``make bench``)
    python benchmarks/bench_ladder.py --formats   (which rung format keeps resizes within 0.1 dB; ~1 minute)

Timings are CPU milliseconds, the best of interleaved rounds (as
``bench_imaging``): a cold 400x300 from the ladder, from the original and
by pyvips' ``thumbnail`` side by side in one run, on the same synthetic
photos (12 MP and 2 MP JPEG of quality 90, a 4 MP RGBA PNG).  The ladder's
cost is what the upload pass adds: the check's decode with the ladder made
against the check's decode alone.  Storage is the ladder's bytes as a share
of the original's.

``--formats`` grades rung encodings the way ``bench_quality`` grades
policies: each output (jpg, webp and png, fit 160x120 ... 640x480 and fill
300x300, those a rung serves) is made from the rung and from the original,
both encoded, and scored against a full decode with one Lanczos pass
(alpha included); the table shows the worst ``PSNR(from rung) - PSNR(from
original)`` in dB, the ladder's bytes and the time it adds to the upload.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_imaging import median_ms, sources, vips  # noqa: E402
from PIL import Image, ImageChops, ImageStat  # noqa: E402

from s3media_wsgi import LocalStorage, Media, imaging  # noqa: E402
from s3media_wsgi.imaging import ImageEngine, Original, layout  # noqa: E402
from s3media_wsgi.ladder import Manifest, Rung, choose, rung_name  # noqa: E402
from s3media_wsgi.variants import ResizeSpec  # noqa: E402

try:
    import pyvips
except ImportError:  # pragma: no cover - the bench extra installs it
    pyvips = None

#: Goals: a cold resize from the ladder at most this many times pyvips' thumbnail (in process).
TARGET_VS_VIPS = 1.0
#: The ladder's bytes at most this share of the original's.
TARGET_SHARE = 0.25
#: A resize from a rung within this many dB of the same resize from the original.
TARGET_DB = 0.1

CASES = [
    ("12MP JPEG -> fit 400x300 jpg", "12MP", ResizeSpec(400, 300, "fit", 85, False, "jpg")),
    ("2MP JPEG -> fit 400x300 jpg", "2MP", ResizeSpec(400, 300, "fit", 85, False, "jpg")),
    ("4MP RGBA PNG -> fit 300x300 png", "4MP-RGBA", ResizeSpec(300, 300, "fit", 85, False, "png")),
]


def ladder_of(engine: ImageEngine, data: bytes) -> tuple[Manifest | None, dict[str, bytes]]:
    """The ladder the upload pass makes of *data*: its manifest and each rung's bytes."""
    info = engine.probe(data, decode=True, facts=True, ladder=True)
    if not info.rungs:
        return None, {}
    w, h = (info.height, info.width) if info.orientation >= 5 else (info.width, info.height)
    rungs = tuple(
        sorted((Rung(rung_name(r), r.width, r.height, r.lossless) for r in info.rungs), key=lambda r: r.width)
    )
    drafted = info.format == "jpeg"
    return Manifest(Original(w, h, info.orientation), rungs, drafted), {rung_name(r): r.data for r in info.rungs}


def from_ladder(
    engine: ImageEngine, manifest: Manifest | None, rungs: dict[str, bytes], spec: ResizeSpec
) -> Callable[[], object] | None:
    """The cold resize of *spec* from the rung that serves it; None when only the original does."""
    rung = choose(manifest, spec, engine.limits.jpeg_draft) if manifest is not None else None
    if rung is None or manifest is None:
        return None
    data, original = rungs[rung.name], manifest.original
    return lambda: engine.resize(data, spec, original=original)


def run(repeat: int = 9) -> list[dict[str, Any]]:
    """Time each case and the upload pass; one dict per row (ms, ratios, shares; None when not measured)."""
    if pyvips is not None:
        pyvips.cache_set_max(0)
        pyvips.concurrency_set(1)
    engine = ImageEngine()
    data = sources()
    ladders = {name: ladder_of(engine, src) for name, src in data.items()}
    rows: list[dict[str, Any]] = []
    for case, source, spec in CASES:
        src = data[source]
        manifest, rungs = ladders[source]
        fns: dict[str, Callable[[], object]] = {"original": lambda: engine.resize(src, spec)}
        ladder = from_ladder(engine, manifest, rungs, spec)
        if ladder is not None:
            fns["ladder"] = ladder
        if pyvips is not None:
            fns["vips"] = lambda: vips(src, spec)
        ms = median_ms(fns, repeat)
        best = ms.get("ladder", ms["original"])
        row = {"case": case, "ladder_ms": ms.get("ladder"), "original_ms": ms["original"], "vips_ms": ms.get("vips")}
        row["vs_vips"] = best / ms["vips"] if "vips" in ms else None
        row["vs_original"] = best / ms["original"]
        row["met"] = row["vs_vips"] is None or row["vs_vips"] <= TARGET_VS_VIPS
        rows.append(row)
    for source, src in data.items():
        manifest, rungs = ladders[source]
        ms = median_ms(
            {
                "check": lambda: engine.probe(src, decode=True, facts=True),
                "check+ladder": lambda: engine.probe(src, decode=True, facts=True, ladder=True),
            },
            repeat,
        )
        share = sum(len(b) for b in rungs.values()) / len(src)
        sizes = ", ".join(f"{r.width}x{r.height}" for r in manifest.rungs) if manifest else "none"
        rows.append(
            {
                "case": f"upload pass {source}: ladder {sizes}",
                "check_ms": ms["check"],
                "ladder_added_ms": ms["check+ladder"] - ms["check"],
                "share": share,
                "met": share <= TARGET_SHARE,
            }
        )
    rows.append(first_resize_without_ladder(data["12MP"], repeat))
    return rows


def first_resize_without_ladder(src: bytes, repeat: int) -> dict[str, Any]:
    """A cold resize of an id stored without a ladder, through Media and local storage: ladder on vs off.

    On, each resize first looks for the manifest (a miss, never remembered
    here); the goal is no regression over 5%.
    """
    with tempfile.TemporaryDirectory() as tmp:
        secret = os.urandom(32)
        storage = LocalStorage(tmp, base_url="/media/")
        on = Media(storage, secret, ladder=True)
        off = Media(storage, secret, ladder=False)
        media_id = off.put(src, filename="old.jpg")
        widths = iter(range(300, 300 + 4 * (repeat + 1)))

        def cold(media: Media) -> Callable[[], object]:
            def resize() -> None:
                assert media.ladder is None or not media.ladder.forget(media_id)
                media.create_resize(media.resize_key(media_id, f"{next(widths)}x"))

            return resize

        ms = median_ms({"ladder on": cold(on), "ladder off": cold(off)}, repeat)
    ratio = ms["ladder on"] / ms["ladder off"]
    return {
        "case": "12MP JPEG without a ladder -> a new width, Media + LocalStorage",
        "on_ms": ms["ladder on"],
        "off_ms": ms["ladder off"],
        "vs_off": ratio,
        "met": ratio <= 1.05,
    }


def _f(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def report(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'cold resize':34} {'ladder ms':>9} {'orig ms':>8} {'vips ms':>8} {'/vips':>6} {'/orig':>6}  goal",
    ]
    for row in rows:
        ok = "✔" if row["met"] else "✘"
        if "ladder_ms" in row:
            lines.append(
                f"{row['case']:34} {_f(row['ladder_ms'], '9.1f')} {row['original_ms']:8.1f} "
                f"{_f(row['vips_ms'], '8.1f')} {_f(row['vs_vips'], '6.2f')} {row['vs_original']:6.2f}  "
                f"<= {TARGET_VS_VIPS}x vips {ok}" + ("" if row["ladder_ms"] else " (no rung serves it: the original)")
            )
        elif "share" in row:
            lines.append(
                f"{row['case']}: check {row['check_ms']:.1f} ms, ladder +{row['ladder_added_ms']:.1f} ms, "
                f"{row['share']:.1%} of the original's bytes (goal <= {TARGET_SHARE:.0%}) {ok}"
            )
        else:
            lines.append(
                f"{row['case']}: ladder on {row['on_ms']:.1f} ms, off {row['off_ms']:.1f} ms, "
                f"{row['vs_off']:.3f}x (goal <= 1.05x) {ok}"
            )
    if pyvips is None:
        lines.append("pyvips not installed: pip install -e '.[bench]'")
    return "\n".join(lines)


# --- rung formats --------------------------------------------------------------------------

FORMAT_CANDIDATES: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "jpeg": [
        ("jpg q93 4:2:0", "jpg", {"quality": 93, "optimize": True}),
        *((f"jpg q{q} 4:4:4", "jpg", {"quality": q, "optimize": True, "subsampling": 0}) for q in (85, 90, 93)),
    ],
    "alpha": [
        *((f"webp q{q}", "webp", {"quality": q, "method": 4, "alpha_quality": 100}) for q in (85, 90, 95)),
        ("webp lossless m0", "webp", {"lossless": True, "method": 0}),
        ("webp lossless m0 q0", "webp", {"lossless": True, "method": 0, "quality": 0}),
        ("webp lossless m4", "webp", {"lossless": True, "method": 4}),
        ("png level 4", "png", {"compress_level": 4}),
    ],
}
OUTPUTS = [("jpg", 85), ("webp", 85), ("png", 85)]
FIT_WIDTHS = (160, 200, 320, 400, 480, 640)


@contextmanager
def rung_encoding(fmt: str, params: dict[str, Any]) -> Iterator[None]:
    """Make the engine store rungs as *fmt* with *params* within the block."""
    saved, saved_other = dict(imaging.RUNG_ENCODERS), imaging.RUNG_OTHER_FORMAT
    imaging.RUNG_ENCODERS[fmt] = params
    if fmt != "jpg":
        imaging.RUNG_OTHER_FORMAT = fmt
    try:
        yield
    finally:
        imaging.RUNG_ENCODERS.clear()
        imaging.RUNG_ENCODERS.update(saved)
        imaging.RUNG_OTHER_FORMAT = saved_other


def psnr(a: Image.Image, b: Image.Image) -> float:
    """PSNR over every channel of *b*'s mode (alpha included)."""
    diff = ImageChops.difference(a.convert(b.mode), b)
    stat = ImageStat.Stat(diff)
    mse = sum(stat.sum2) / (stat.count[0] * len(stat.sum2))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def reference(full: Image.Image, spec: ResizeSpec) -> Image.Image:
    plan = layout(full.width, full.height, spec)
    out = full.resize(plan.size, Image.Resampling.LANCZOS, box=plan.box)
    if spec.format == "jpg" and out.mode == "RGBA":
        return imaging._flatten(out)
    return out


def formats(repeat: int = 3) -> str:
    engine = ImageEngine()
    data = sources()
    kinds = {"12MP": "jpeg", "2MP": "jpeg", "4MP-RGBA": "alpha"}
    lines = [
        f"{'source':9} {'rungs as':19} {'lossy dB':>8} {'png dB (own)':>18} {'bytes':>7} {'+upload ms':>10}  rungs"
    ]
    for source, src in data.items():
        full = Image.open(io.BytesIO(src))
        full.load()
        specs = [ResizeSpec(w, w * 3 // 4, "fit", q, False, f) for w in FIT_WIDTHS for f, q in OUTPUTS]
        specs += [ResizeSpec(300, 300, "fill", q, False, f) for f, q in OUTPUTS]
        from_original = {spec: engine.resize(src, spec).data for spec in specs}
        for label, fmt, params in FORMAT_CANDIDATES[kinds[source]]:
            with rung_encoding(fmt, params):
                manifest, rungs = ladder_of(engine, src)
                ms = median_ms(
                    {
                        "check": lambda: engine.probe(src, decode=True, facts=True),
                        "ladder": lambda: engine.probe(src, decode=True, facts=True, ladder=True),
                    },
                    repeat,
                )
            worst, png_delta, png_own = math.inf, math.inf, math.inf
            for spec in specs:
                make = from_ladder(engine, manifest, rungs, spec)
                if make is None:
                    continue
                ref = reference(full, spec)
                got = psnr(Image.open(io.BytesIO(make().data)), ref)  # type: ignore[attr-defined]
                base = psnr(Image.open(io.BytesIO(from_original[spec])), ref)
                delta = 0.0 if got == base else got - base
                if spec.format == "png":
                    png_own = min(png_own, got)
                    if math.isfinite(base):
                        png_delta = min(png_delta, delta)
                else:
                    worst = min(worst, delta)
            share = sum(len(b) for b in rungs.values()) / len(src)
            sizes = ", ".join(f"{r.width}x{r.height}" for r in manifest.rungs) if manifest else "none (over budget)"
            ok = "✔" if worst >= -TARGET_DB and png_delta >= -TARGET_DB and share <= TARGET_SHARE else "✘"
            png = "not served" if math.isinf(png_own) else f"{png_delta:6.3f} ({png_own:.1f} dB)"
            lines.append(
                f"{source:9} {label:19} {worst:8.3f} {png:>18} {share:7.1%} "
                f"{ms['ladder'] - ms['check']:10.1f}  {sizes} {ok}"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--formats", action="store_true", help="grade rung encodings instead")
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    if args.formats:
        print(formats())
    else:
        print(report(run(args.repeat)))


if __name__ == "__main__":
    main()
