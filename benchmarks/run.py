"""Run every benchmark in one process and print one report (``make bench``).

Ratios are measured side by side in the same run, so a busy machine slows both
sides of each comparison alike; absolute times are printed for context only.
"""

from __future__ import annotations

import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_focus
import bench_imaging
import bench_ladder
import bench_middleware
import bench_previews
import bench_urls


def main() -> None:
    print(f"s3media_wsgi benchmarks — Python {platform.python_version()}, {os.cpu_count()} CPUs\n")
    # Imaging medians swing by +-15% on a shared two-core machine at 5 runs;
    # 15 interleaved runs keep the ratios steady to a few percent.
    for title, module, kwargs in (
        ("Imaging", bench_imaging, {"repeat": 15}),
        ("Source ladder", bench_ladder, {"repeat": 9}),
        ("Middleware pass-through", bench_middleware, {}),
        ("Resize URLs", bench_urls, {}),
        ("Crops that keep the subject", bench_focus, {}),
        ("Previews: video posters and PDF pages", bench_previews, {}),
    ):
        print(f"== {title}", flush=True)
        print(module.report(module.run(**kwargs)))
        print()


if __name__ == "__main__":
    main()
