"""What a still of a video or a PDF costs: a poster, a frame by time, a page, the upload pass's facts.

Each row is one cold resize (``ImageEngine.resize``: decode, resize, encode to
a 640 px wide WebP) or one ``preview_facts`` call, median and best of
*repeat*, wall clock and process CPU, one decode slot.  The files are made
here: H.264 (MP4) and VP9 (WebM) of 1280x720 at 24 fps, 5 s, whose first
second is black (so the poster search decodes about 25 frames), keyframes
every 2 s; a PDF of A4 pages of text and 400 filled shapes each.
Run: ``.venv/bin/python benchmarks/bench_previews.py``.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import documents

from s3media_wsgi.imaging import ImageEngine
from s3media_wsgi.variants import ResizeSpec


def _pdf(pages: int = 20) -> bytes:
    """A4 pages of 60 lines of Helvetica and 400 shapes each."""
    kids = b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for page in range(pages):
        lines = [b"BT /F1 9 Tf 40 800 Td 11 TL"]
        lines += [
            b"(Line %d of page %d: the quick brown fox jumps over the lazy dog.) '" % (n, page) for n in range(60)
        ]
        lines.append(b"ET")
        for n in range(400):
            x, y = 40 + (n % 20) * 26, 60 + (n // 20) * 6
            lines.append(b"%.2f %.2f %.2f rg %d %d 20 4 re f" % ((n % 7) / 7, (n % 5) / 5, (n % 3) / 3, x, y))
        content = zlib.compress(b"\n".join(lines))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R"
            b" /Resources << /Font << /F1 3 0 R >> >> >>" % (5 + 2 * page)
        )
        objects.append(b"<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _time(work: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), min(walls), statistics.median(cpus)


def run(repeat: int = 5) -> list[dict[str, object]]:
    engine = ImageEngine(max_concurrency=1)
    mp4 = documents.video("mp4", 1280, 720, frames=120, black=24, fps=24)
    webm = documents.video("webm", 1280, 720, frames=120, black=24, fps=24)
    pdf = _pdf()
    poster = ResizeSpec(640, None, format="webp")
    at_3_5 = ResizeSpec(640, None, format="webp", frame=3.5)
    page_20 = ResizeSpec(640, None, format="webp", page=20)
    cases: list[tuple[str, int, Callable[[], object]]] = [
        ("MP4 H.264 720p: poster (black 1 s skipped)", len(mp4), lambda: engine.resize(mp4, poster)),
        ("MP4 H.264 720p: frame=3.5 s (seek)", len(mp4), lambda: engine.resize(mp4, at_3_5)),
        ("MP4 H.264 720p: upload facts + placeholder", len(mp4), lambda: engine.preview_facts(mp4)),
        ("WebM VP9 720p: poster (black 1 s skipped)", len(webm), lambda: engine.resize(webm, poster)),
        ("PDF A4, 20 pages: page 1", len(pdf), lambda: engine.resize(pdf, poster)),
        ("PDF A4, 20 pages: page 20", len(pdf), lambda: engine.resize(pdf, page_20)),
        ("PDF A4, 20 pages: upload facts + placeholder", len(pdf), lambda: engine.preview_facts(pdf)),
    ]  # fmt: skip
    rows: list[dict[str, object]] = []
    for name, size, work in cases:
        work()  # warm: codecs loaded, first allocations made
        median, best, cpu = _time(work, repeat)
        rows.append(
            {"case": name, "bytes": size, "median_ms": median * 1000, "best_ms": best * 1000, "cpu_ms": cpu * 1000}
        )
    return rows


def report(rows: list[dict[str, object]]) -> str:
    lines = [f"{'case':48} {'file':>9} {'median':>9} {'best':>9} {'CPU':>9}"]
    for row in rows:
        lines.append(
            f"{row['case']!s:48} {int(row['bytes']) // 1024:>6} KiB {row['median_ms']:>6.1f} ms"  # type: ignore[call-overload]
            f" {row['best_ms']:>6.1f} ms {row['cpu_ms']:>6.1f} ms"
        )
    lines.append("(640 px wide WebP from each; facts = duration, size, codecs or pages, and the poster's ThumbHash)")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
