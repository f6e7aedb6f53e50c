"""CPU the upload pass adds to the pixel check (goal: at most +30 %).

Today's check is ``probe(decode=True)``; the pass is ``probe(decode=True,
facts=True)`` (ThumbHash and dominant colour from the same decode) plus
:func:`s3media_wsgi.cleaning.clean`.  Best of 5, process CPU time, one
decode slot.  Run: ``.venv/bin/python benchmarks/bench_upload_pass.py``.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from images import photo, srgb_icc

from s3media_wsgi.cleaning import clean
from s3media_wsgi.imaging import ImageEngine


def _encode(fmt: str, width: int, height: int, **params: object) -> bytes:
    buf = io.BytesIO()
    photo(width, height).save(buf, fmt, **params)
    return buf.getvalue()


def _best(work: Callable[[], object], rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        started = time.process_time()
        work()
        times.append(time.process_time() - started)
    return min(times)


def run() -> list[dict[str, object]]:
    files = {
        "JPEG 12 MP q90": _encode("JPEG", 4000, 3000, quality=90, icc_profile=srgb_icc()),
        "PNG 3 MP": _encode("PNG", 2000, 1500),
        "WebP 12 MP q80": _encode("WEBP", 4000, 3000, quality=80),
    }
    engine = ImageEngine(max_concurrency=1)
    rows: list[dict[str, object]] = []
    for name, data in files.items():

        def check(data: bytes = data) -> object:
            return engine.probe(data, decode=True)

        def full(data: bytes = data) -> object:
            return clean(data, engine.probe(data, decode=True, facts=True).orientation)

        base, new = _best(check), _best(full)
        rows.append({"file": name, "MB": len(data) / 1e6, "check_ms": base * 1e3, "pass_ms": new * 1e3})
    return rows


if __name__ == "__main__":
    for row in run():
        extra = (float(row["pass_ms"]) / float(row["check_ms"]) - 1) * 100  # type: ignore[arg-type]
        print(
            f"{row['file']:16} {row['MB']:5.1f} MB  check {row['check_ms']:7.1f} ms  "
            f"pass {row['pass_ms']:7.1f} ms  {extra:+5.1f} %"
        )
