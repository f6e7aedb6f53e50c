"""What MediaMiddleware costs a request it does not handle.

Three callables get the same environ (a path outside the prefix), side by side
in one run:

(a) the bare host app;
(b) the cheapest possible wrapper: one ``startswith`` on PATH_INFO, then the app;
(c) MediaMiddleware.

The number that matters is ``(c - a) / (b - a)``: how much more the real
middleware adds than the minimal one does.  Target: at most 1.5.

    python -m benchmarks.bench_middleware
"""

from __future__ import annotations

import tempfile
import timeit
from typing import Any

from s3media_wsgi import LocalStorage, Media, MediaMiddleware

PREFIX = "/media/"
NUMBER = 200_000  # calls per timing
REPEAT = 25  # timings per candidate; the minimum is kept (noise only adds time)
TARGET_RATIO = 1.5


def host_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    return [b"host"]


class BareWrapper:
    """The least a prefix-routing middleware can do."""

    def __init__(self, app: Any, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"].startswith(self.prefix):
            return None
        return self.app(environ, start_response)


def _start_response(status: str, headers: list[tuple[str, str]]) -> None:
    return None


def run() -> list[dict[str, Any]]:
    """Time (a), (b), (c) and return one row each, plus the overhead ratio on (c)."""
    with tempfile.TemporaryDirectory() as root:
        media = Media(LocalStorage(root, base_url=PREFIX), secret_key="bench-secret-" + "x" * 32)
        candidates = {
            "a: bare app": host_app,
            "b: bare startswith wrapper": BareWrapper(host_app, PREFIX),
            "c: MediaMiddleware": MediaMiddleware(host_app, media, prefix=PREFIX),
        }
        environ = {"PATH_INFO": "/articles/2024/some-page", "REQUEST_METHOD": "GET"}
        best = {name: float("inf") for name in candidates}
        # Interleave the candidates within each repeat so drift in machine load
        # hits all three alike.
        for _ in range(REPEAT):
            for name, app in candidates.items():
                # A statement string, not a lambda: no extra call layer in the timing.
                timer = timeit.Timer(
                    "app(environ, sr)", globals={"app": app, "environ": environ, "sr": _start_response}
                )
                best[name] = min(best[name], timer.timeit(number=NUMBER))
    ns = {name: best[name] / NUMBER * 1e9 for name in candidates}
    a, b, c = ns.values()
    ratio = (c - a) / (b - a) if b > a else float("inf")
    rows = []
    for name, value in ns.items():
        row: dict[str, Any] = {"case": name, "ns_per_call": round(value, 1), "overhead_ns": round(value - a, 1)}
        if name.startswith("c"):
            row["ratio_vs_bare_wrapper"] = round(ratio, 2)
            row["target"] = f"<= {TARGET_RATIO}"
            row["ok"] = ratio <= TARGET_RATIO
        rows.append(row)
    return rows


def report(rows: list[dict[str, Any]]) -> str:
    """The rows of :func:`run` as a text table."""
    lines = [
        f"pass-through overhead, min of {REPEAT} x {NUMBER:,} calls",
        f"{'case':<30}{'ns/call':>10}{'overhead ns':>14}{'ratio':>8}{'ok':>6}",
    ]
    for row in rows:
        ratio = row.get("ratio_vs_bare_wrapper", "")
        ok = "" if "ok" not in row else ("yes" if row["ok"] else "NO")
        lines.append(f"{row['case']:<30}{row['ns_per_call']:>10}{row['overhead_ns']:>14}{ratio!s:>8}{ok:>6}")
    lines.append(f"ratio = (c - a) / (b - a), target <= {TARGET_RATIO}")
    return "\n".join(lines)


def main() -> None:
    print(report(run()))


if __name__ == "__main__":
    main()
