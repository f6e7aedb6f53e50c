"""s3media_wsgi next to thumbor, the Python image server people pick instead (``make bench-peers``).

Both run on 127.0.0.1 with two processes each:

* thumbor 7.8.0 (its own virtualenv, ``.bench-venv/thumbor``, with the
  Pillow it pins): ``thumbor --processes 2``, the file loader, signed URLs
  (``SECURITY_KEY``), no original storage (the file loader reads the disk
  anyway) and the file result storage, so that a size asked twice is served
  from disk as ours is; everything else at its defaults (progressive JPEG
  among them);
* ours: :class:`~s3media_wsgi.MediaMiddleware` over
  :class:`~s3media_wsgi.LocalStorage` (a temporary folder) under
  ``gunicorn -w 2`` (sync workers): the resize is made on its first request,
  stored (fsynced) and served from disk from then on.

The same inputs (a 12 MP and a 2 MP JPEG photo, a 4 MP RGBA PNG, made with
Pillow), the same client (a small threaded one here: one connection per
request, no keep-alive), fit into about 400x300 at quality 85; every cold
request asks a size never asked before (400x300, 399x300, ...: each server
gets the same sequence).  The benchmark runs in rounds; within a round each
measurement runs on both servers, in an order that alternates from round to
round; each figure is the median of the rounds' figures, and the spread of the
ratio over the rounds is printed next to it.

Also: the encoded outputs' bytes and PSNR against a full-decode Lanczos
reference at each output's size; ours against pyvips' ``thumbnail`` in this
process (one thread each, libvips' cache off); peak RSS per worker; and how
cold throughput scales from one client to eight, with two processes and
with one process of eight threads (gthread).

Last, the source ladder's goals (:mod:`s3media_wsgi.ladder`), each with the
spread of its ratio over the rounds: a page's first view of a fresh 12 MP
upload (:data:`FIRST_VIEW`: three widths in two formats, asked at once; from
the start of the upload to the last byte: our upload pass, made here in the
benchmark's process as an app's upload view would, counts, and thumbor's is
the copy of the file into its folder), with the six made as eager presets in
the upload pass or from the ladder by their first requests; a new size of a
photo resized before; the RGBA PNG; and in process, against pyvips, the
ladder and the very first resize of an original without one
(``benchmarks/bench_ladder.py``).

It is a benchmark, not a test: it prints goals met (✔) or not (✘) and never
fails on a number.

    python benchmarks/bench_peers.py [--rounds 7] [--thumbor .bench-venv/thumbor/bin/thumbor]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import io
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
for entry in (str(ROOT), str(HERE)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from bench_imaging import photo  # noqa: E402
from PIL import Image, ImageChops, ImageStat  # noqa: E402

from s3media_wsgi import LocalStorage, Media  # noqa: E402
from s3media_wsgi.imaging import ImageEngine  # noqa: E402
from s3media_wsgi.variants import ResizeSpec  # noqa: E402

try:
    import pyvips
except Exception:  # pragma: no cover - depends on the machine
    pyvips = None

SECRET = "bench-peers-secret-" + "0123456789abcdef" * 2
THUMBOR_KEY = "bench-peers-thumbor-key"
QUALITY = 85
CLIENTS = 8
INPUTS = ("12MP JPEG", "2MP JPEG", "4MP RGBA PNG")
#: Our server with ``ImageLimits(jpeg_draft=1)``: thumbor's draft (JPEG inputs only).
FAST = "ours-fast"
JPEGS = INPUTS[:2]
FILES = {"12MP JPEG": "photo-12mp.jpg", "2MP JPEG": "photo-2mp.jpg", "4MP RGBA PNG": "photo-4mp-rgba.png"}
#: A page's first view of a fresh upload: these widths, in each of these formats, asked at once.
FIRST_VIEW = [(width, fmt) for width in (200, 400, 800) for fmt in ("jpg", "webp")]


def make_inputs() -> dict[str, bytes]:
    def encode(img: Image.Image, fmt: str, **params: Any) -> bytes:
        buf = io.BytesIO()
        img.save(buf, fmt, **params)
        return buf.getvalue()

    return {
        "12MP JPEG": encode(photo(4000, 3000), "JPEG", quality=90),
        "2MP JPEG": encode(photo(1600, 1200), "JPEG", quality=90),
        "4MP RGBA PNG": encode(photo(2000, 2000, "RGBA"), "PNG"),
    }


def size_at(i: int) -> tuple[int, int]:
    """The *i*-th size asked: 400x300, 399x300, ... 301x300, 400x299, ...: never the same twice."""
    return 400 - i % 100, 300 - i // 100 % 100


# --- the client ---------------------------------------------------------------------------


def get(port: int, path: str, timeout: float = 60.0) -> bytes:
    """GET *path* on one new connection; the body, or RuntimeError unless the answer is 200."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            chunk = sock.recv(262144)
            if not chunk:
                break
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    status = head[9:12]
    if status != b"200":
        raise RuntimeError(f"GET {path} answered {head[:200]!r}")
    lowered = head.lower()
    if b"transfer-encoding: chunked" in lowered:
        body = _dechunk(body)
    return body


def _dechunk(body: bytes) -> bytes:
    out, pos = [], 0
    while True:
        end = body.index(b"\r\n", pos)
        size = int(body[pos:end].split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(body[end + 2 : end + 2 + size])
        pos = end + 4 + size


def sequential(port: int, paths: Sequence[str]) -> tuple[list[float], float]:
    """Latencies (ms) of *paths* asked one after the other, and the requests per second."""
    latencies = []
    started = time.perf_counter()
    for path in paths:
        t0 = time.perf_counter()
        get(port, path)
        latencies.append((time.perf_counter() - t0) * 1000)
    return latencies, len(paths) / (time.perf_counter() - started)


def concurrent(port: int, paths: Sequence[str], clients: int = CLIENTS) -> float:
    """Requests per second with *clients* threads sharing *paths*."""
    errors: list[BaseException] = []
    gate = threading.Barrier(clients + 1)
    lock = threading.Lock()
    queue = list(reversed(paths))

    def client() -> None:
        gate.wait()
        while True:
            with lock:
                if not queue:
                    return
                path = queue.pop()
            try:
                get(port, path)
            except BaseException as exc:  # reported after the run
                errors.append(exc)
                return

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    gate.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return len(paths) / elapsed


# --- the servers ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    #: Request paths for input *name* and size index *i*.
    path: Callable[[str, int], str]
    counters: dict[str, int] = field(default_factory=dict)

    def next_paths(self, what: str, n: int) -> list[str]:
        """*n* paths of sizes this server has never been asked for *what*."""
        start = self.counters.get(what, 0)
        self.counters[what] = start + n
        return [self.path(what, i) for i in range(start, start + n)]

    def workers(self) -> list[int]:
        """The pids of the worker processes (children of the one started)."""
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def peak_rss_mib(self) -> float | None:
        """The largest peak RSS (VmHWM) among the workers, in MiB."""
        peaks = []
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return max(peaks) if peaks else None

    def stop(self) -> None:
        """Stop the server and its workers: the whole process group it was started in.

        (thumbor's forked workers outlive their parent when only it is signalled.)
        """
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(wait)
            except subprocess.TimeoutExpired:
                continue
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _group_alive(self.process.pid):
                time.sleep(0.1)
            if not _group_alive(self.process.pid):
                break


def _group_alive(pgid: int) -> bool:
    """True while a process of group *pgid* runs (zombies, waiting for init to reap them, do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def wait_ready(server: Server, probe: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited: see {server.log}:\n{server.log.read_text()[-2000:]}")
        try:
            get(server.port, probe, timeout=5)
            return
        except (OSError, RuntimeError):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{server.name} did not answer {probe} in {seconds} s: see {server.log}") from None
            time.sleep(0.2)


def thumbor_path(name: str, i: int) -> str:
    w, h = size_at(i)
    url = f"fit-in/{w}x{h}/filters:quality({QUALITY})/{FILES[name]}"
    digest = hmac.new(THUMBOR_KEY.encode(), url.encode(), hashlib.sha1).digest()
    return f"/{base64.urlsafe_b64encode(digest).decode()}/{url}"


def thumbor_signed(url: str) -> str:
    digest = hmac.new(THUMBOR_KEY.encode(), url.encode(), hashlib.sha1).digest()
    return f"/{base64.urlsafe_b64encode(digest).decode()}/{url}"


def first_view_thumbor(port: int, originals: Path, data: bytes, n: int) -> float:
    """ms from writing a fresh file into thumbor's folder to the last byte of :data:`FIRST_VIEW` of it."""
    name = f"fresh-{n}.jpg"
    paths = [
        thumbor_signed(f"fit-in/{w}x0/filters:quality({QUALITY}):format({'jpeg' if f == 'jpg' else f})/{name}")
        for w, f in FIRST_VIEW
    ]
    started = time.perf_counter()
    (originals / name).write_bytes(data)
    concurrent(port, paths, clients=len(paths))
    return (time.perf_counter() - started) * 1000


def first_view_ours(port: int, media: Media, data: bytes, eager: bool) -> float:
    """ms from ``put`` (the upload pass, and the eager presets with *eager*) to the last byte of :data:`FIRST_VIEW`."""
    started = time.perf_counter()
    media_id = media.put(data, filename="fresh.jpg")
    if eager:
        media.make_eager(media_id)  # what the eager runner does right after the upload
    paths = [media.resize_url(media_id, f"{w}x", quality=QUALITY, format=f) for w, f in FIRST_VIEW]
    concurrent(port, paths, clients=len(paths))
    return (time.perf_counter() - started) * 1000


def start_thumbor(binary: str, work: Path) -> Server:
    originals, results = work / "thumbor-originals", work / "thumbor-results"
    results.mkdir()
    conf = work / "thumbor.conf"
    conf.write_text(
        "\n".join(
            [
                f"SECURITY_KEY = {THUMBOR_KEY!r}",
                "ALLOW_UNSAFE_URL = False",
                "LOADER = 'thumbor.loaders.file_loader'",
                f"FILE_LOADER_ROOT_PATH = {str(originals)!r}",
                "STORAGE = 'thumbor.storages.no_storage'",
                "RESULT_STORAGE = 'thumbor.result_storages.file_storage'",
                f"RESULT_STORAGE_FILE_STORAGE_ROOT_PATH = {str(results)!r}",
                f"QUALITY = {QUALITY}",
                "",
            ]
        )
    )
    port = free_port()
    log = work / "thumbor.log"
    cmd = [binary, "-i", "127.0.0.1", "-p", str(port), "-c", str(conf), "--processes", "2", "-l", "error"]
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server("thumbor", port, process, log, thumbor_path)
    wait_ready(server, thumbor_path("2MP JPEG", 9999))
    return server


def start_ours(
    work: Path,
    media: Media,
    ids: dict[str, str],
    name: str = "ours",
    threads: int = 0,
    jpeg_draft: int = 2,
    folder: str = "ours",
) -> Server:
    port = free_port()
    log = work / f"{name}.log"
    cmd = [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "--chdir", str(HERE)]
    if threads:
        cmd += ["-w", "1", "-k", "gthread", "--threads", str(threads)]
    else:
        cmd += ["-w", "2"]
    cmd += ["--worker-tmp-dir", "/dev/shm" if os.path.isdir("/dev/shm") else str(work), "peers_app:app"]
    env = {**os.environ, "S3MEDIA_BENCH_ROOT": str(work / folder), "S3MEDIA_BENCH_SECRET": SECRET}
    env["S3MEDIA_BENCH_JPEG_DRAFT"] = str(jpeg_draft)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))

    def path(what: str, i: int) -> str:
        w, h = size_at(i)
        return media.resize_url(ids[what], f"{w}x{h}", quality=QUALITY)

    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    server = Server(name, port, process, log, path)
    # Size 9999 is never part of a measurement.
    wait_ready(server, path("2MP JPEG", 9999))
    return server


@contextmanager
def running(start: Callable[[], Server]) -> Iterator[Server]:
    server = start()
    try:
        yield server
    finally:
        server.stop()


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Figures:
    """Per measurement, per server, one figure per round."""

    rounds: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def add(self, what: str, server: str, value: float) -> None:
        self.rounds.setdefault((what, server), []).append(value)

    def median(self, what: str, server: str) -> float:
        return statistics.median(self.rounds[(what, server)])

    def ratio_spread(self, what: str, a: str, b: str) -> tuple[float, float]:
        ratios = [x / y for x, y in zip(self.rounds[(what, a)], self.rounds[(what, b)])]
        return min(ratios), max(ratios)


def alternate(servers: Sequence[Server], round_no: int) -> Sequence[Server]:
    return servers if round_no % 2 == 0 else list(reversed(servers))


def run_round(
    figures: Figures, servers: Sequence[Server], round_no: int, latency_n: int, throughput_n: dict[str, int]
) -> None:
    for name in INPUTS:
        for server in alternate(servers, round_no):
            if server.name == FAST and name not in JPEGS:
                continue  # jpeg_draft only changes JPEG sources
            latencies, per_s = sequential(server.port, server.next_paths(name, latency_n))
            figures.add(f"cold latency {name}", server.name, statistics.median(latencies))
            figures.add(f"1-client cold throughput {name}", server.name, per_s)
    for name in JPEGS:
        for server in alternate(servers, round_no):
            per_s = concurrent(server.port, server.next_paths(name, throughput_n[name]))
            figures.add(f"cold throughput {name}", server.name, per_s)


def warm_paths(server: Server, n: int) -> list[str]:
    """*n* resizes made once (12 MP, 2 MP and PNG in turn), to be asked again."""
    paths = [server.next_paths(INPUTS[i % len(INPUTS)], 1)[0] for i in range(n)]
    for path in paths:
        get(server.port, path)
    return paths


def vips_thumbnail(data: bytes) -> bytes:
    assert pyvips is not None
    thumb = pyvips.Image.thumbnail_buffer(data, 400, height=300, size="down")
    out: bytes = thumb.write_to_buffer(f".jpg[Q={QUALITY}]")
    return out


def versus_vips(inputs: dict[str, bytes], rounds: int) -> dict[str, tuple[float, float]]:
    """Median CPU ms of ours and of pyvips' thumbnail, for each JPEG input, interleaved."""
    if pyvips is None:
        return {}
    pyvips.cache_set_max(0)
    pyvips.concurrency_set(1)
    engine = ImageEngine()
    spec = ResizeSpec(400, 300, "fit", QUALITY, False, "jpg")
    result = {}
    for name in JPEGS:
        data = inputs[name]
        fns: dict[str, Callable[[], object]] = {
            "ours": lambda: engine.resize(data, spec),
            "vips": lambda: vips_thumbnail(data),
        }
        times: dict[str, list[float]] = {k: [] for k in fns}
        for fn in fns.values():
            fn()
        for r in range(rounds * 3):
            for k in alternate(list(fns), r):
                t0 = time.process_time()
                fns[k]()
                times[k].append((time.process_time() - t0) * 1000)
        result[name] = (statistics.median(times["ours"]), statistics.median(times["vips"]))
    return result


def psnr(a: Image.Image, b: Image.Image) -> float:
    if a.mode != b.mode:
        a, b = a.convert("RGBA"), b.convert("RGBA")
    stat = ImageStat.Stat(ImageChops.difference(a, b))
    mse = sum(stat.sum2) / (stat.count[0] * len(stat.sum2))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def quality_row(
    inputs: dict[str, bytes], outputs: dict[str, dict[str, bytes]]
) -> dict[str, dict[str, tuple[int, float]]]:
    """``{input: {server: (bytes, PSNR against a full decode + Lanczos at the output's size)}}``."""
    rows: dict[str, dict[str, tuple[int, float]]] = {}
    for name, data in inputs.items():
        full = Image.open(io.BytesIO(data))
        full.load()
        rows[name] = {}
        for server, out in outputs[name].items():
            got = Image.open(io.BytesIO(out))
            got.load()
            mode = "RGBA" if "A" in full.mode else "RGB"
            ref = full.convert(mode).resize(got.size, Image.Resampling.LANCZOS)
            rows[name][server] = (len(out), psnr(got.convert(mode), ref))
    return rows


def first_view(figures: Figures, work: Path, ours: Server, thumbor: Server, data: bytes, rounds: int) -> None:
    """Per round: a fresh 12 MP upload's first view, eager presets and ladder alone, next to thumbor's."""
    storage = LocalStorage(work / "ours", base_url="/media/")
    presets = {f"w{w}-{f}": {"size": f"{w}x", "format": f, "quality": QUALITY, "eager": True} for w, f in FIRST_VIEW}
    # The job is run in the timed block itself (make_eager), not by a background runner.
    eager = Media(storage, secret_key=SECRET, presets=presets, enqueue=lambda job: None)
    plain = Media(storage, secret_key=SECRET)
    for r in range(rounds):
        for which in alternate(["eager", "ladder", "thumbor"], r):
            if which == "thumbor":
                ms = first_view_thumbor(thumbor.port, work / "thumbor-originals", data, r)
            else:
                ms = first_view_ours(ours.port, eager if which == "eager" else plain, data, which == "eager")
            figures.add("first view", which, ms)


def ladder_in_process(rounds: int) -> list[dict[str, Any]]:
    """``bench_ladder``'s rows: cold from the ladder, from the original and pyvips; upload pass; storage."""
    import bench_ladder

    return bench_ladder.run(repeat=max(5, rounds))


def ladder_goals(figures: Figures, rounds: int, in_process: list[dict[str, Any]]) -> str:
    """The source ladder's goals table: each figure, the goal, met or not, and the ratio's spread over rounds."""
    lines = [
        f"source ladder goals (medians of {rounds} rounds; spread = min-max of the ratio over rounds):",
        f"{'':64} {'ours':>9} {'thumbor':>9} {'ratio':>7} {'spread':>11}  goal",
    ]

    def row(label: str, what: str, server: str, unit: str, goal: float, lower: bool) -> None:
        if (what, server) not in figures.rounds:
            lines.append(f"{label:64} not measured")
            return
        ours, theirs = figures.median(what, server), figures.median(what, "thumbor")
        ratio = ours / theirs
        low, high = figures.ratio_spread(what, server, "thumbor")
        ok = ratio <= goal if lower else ratio >= goal
        spread = f"{low:.2f}-{high:.2f}"
        lines.append(
            f"{label + ' (' + unit + ')':64} {ours:>9.1f} {theirs:>9.1f} {ratio:>6.2f}x {spread:>11}"
            f"  {'<=' if lower else '>='} {goal}x thumbor {mark(ok)}"
        )

    view = ", ".join(f"{w}{f}" for w, f in FIRST_VIEW)
    lines.append(f"a fresh 12 MP upload's first view ({view}), upload to last byte:")
    row("  eager presets (made in the upload pass)", "first view", "eager", "ms", 0.5, True)
    row("  ladder alone (first requests make them)", "first view", "ladder", "ms", 1.0, True)
    lines.append("a new size of a photo resized before, -> ~400x300 cold:")
    for name in JPEGS:
        row(f"  {name} latency", f"cold latency {name}", "ours", "ms", 0.5, True)
        row(f"  {name} throughput, {CLIENTS} clients", f"cold throughput {name}", "ours", "req/s", 2.0, False)
    row("4 MP RGBA PNG -> 300x300 cold, after the ladder", "cold latency 4MP RGBA PNG", "ours", "ms", 0.5, True)
    lines.append("in process, CPU ms (benchmarks/bench_ladder.py):")
    for entry in in_process:
        if "ladder_ms" in entry and entry["vs_vips"] is not None:
            source = "ladder" if entry["ladder_ms"] is not None else "original (no rung serves it)"
            best = entry["ladder_ms"] if entry["ladder_ms"] is not None else entry["original_ms"]
            lines.append(
                f"  {entry['case']:40} from the {source}: {best:.1f} ms, original {entry['original_ms']:.1f} ms,"
                f" pyvips {entry['vips_ms']:.1f} ms: {entry['vs_vips']:.2f}x <= 1.0x pyvips"
                f" {mark(entry['vs_vips'] <= 1.0)}"
            )
        elif "ladder_ms" in entry:
            lines.append(f"  {entry['case']}: pyvips not installed")
        elif "on_ms" in entry:
            lines.append(
                f"  very first resize, no ladder (12 MP, Media + LocalStorage): ladder on {entry['on_ms']:.1f} ms,"
                f" off {entry['off_ms']:.1f} ms: {entry['vs_off']:.3f}x <= 1.05x {mark(entry['met'])}"
            )
        else:
            lines.append(
                f"  {entry['case']}: +{entry['ladder_added_ms']:.1f} ms to the upload check,"
                f" {entry['share']:.1%} of the original's bytes <= 25% {mark(entry['met'])}"
            )
    lines.append("the very first resize of an original without a ladder vs pyvips: the in-process rows above.")
    return "\n".join(lines)


# --- the report -----------------------------------------------------------------------------------


def mark(ok: bool) -> str:
    return "✔" if ok else "✘"


def report(
    figures: Figures,
    rounds: int,
    quality: dict[str, dict[str, tuple[int, float]]],
    vips: dict[str, tuple[float, float]],
    rss: dict[str, float | None],
    scaling: Figures | None,
) -> str:
    lines = [
        f"medians of {rounds} rounds, A/B order alternated; 2 processes each; 8 clients for throughput;",
        "one connection per request; cold = a size never asked before; ratio spread = min-max over rounds",
        "",
        f"{'':44} {'ours':>10} {'thumbor':>10} {'ours/thumbor':>13} {'spread':>13}  goal",
    ]

    def goal_rows(server: str, goals: list[tuple[str, str, float, bool]]) -> None:
        """One line per figure: *server*'s median, thumbor's, the ratio, its spread, the goal met or not."""
        psnr_ok = {name: quality[name][server][1] >= quality[name]["thumbor"][1] - 0.1 for name in JPEGS}
        for what, unit, goal, lower_is_better in goals:
            ours, theirs = figures.median(what, server), figures.median(what, "thumbor")
            ratio = ours / theirs
            low, high = figures.ratio_spread(what, server, "thumbor")
            ok = ratio <= goal if lower_is_better else ratio >= goal
            extra = ""
            for name in JPEGS:
                if name in what:
                    ok = ok and psnr_ok[name]
                    extra = " at PSNR within 0.1 dB" if psnr_ok[name] else " (PSNR more than 0.1 dB below thumbor's)"
            fmt = ".1f" if unit == "ms" else ".0f"
            lines.append(
                f"{what + ' (' + unit + ')':44} {ours:>10{fmt}} {theirs:>10{fmt}} {ratio:>12.2f}x"
                f" {f'{low:.2f}-{high:.2f}':>13}  {'<=' if lower_is_better else '>='} {goal}x{extra} {mark(ok)}"
            )

    jpeg_goals = [
        ("cold latency 12MP JPEG", "ms", 0.9, True),
        ("cold latency 2MP JPEG", "ms", 0.9, True),
        ("cold throughput 12MP JPEG", "req/s", 1.1, False),
        ("cold throughput 2MP JPEG", "req/s", 1.1, False),
    ]
    goal_rows(
        "ours",
        [
            *jpeg_goals[:2],
            ("cold latency 4MP RGBA PNG", "ms", 0.8, True),
            *jpeg_goals[2:],
            ("warm throughput", "req/s", 1.5, False),
        ],
    )
    if (f"cold latency {JPEGS[0]}", FAST) in figures.rounds:
        lines.append("")
        lines.append(f"with ImageLimits(jpeg_draft=1), thumbor's draft ({FAST}):")
        goal_rows(FAST, jpeg_goals)
    lines.append("")
    servers = ["ours", FAST, "thumbor"] if FAST in quality[JPEGS[0]] else ["ours", "thumbor"]
    lines.append(f"{'output at 400x300 (bytes, PSNR vs Lanczos)':44}" + "".join(f" {s:>18}" for s in servers))
    for name, row in quality.items():
        cells = [f"{row[s][0]:>7,} B {row[s][1]:5.1f} dB" if s in row else "" for s in servers]
        lines.append(f"{name:44}" + "".join(f" {c:>18}" for c in cells))
    lines.append("")
    if vips:
        lines.append("in-process, one thread, CPU ms (fit 400x300 q85 jpg):   ours    vips thumbnail")
        for name, (ours_ms, vips_ms) in vips.items():
            ratio = ours_ms / vips_ms
            lines.append(f"  {name:52} {ours_ms:6.1f} {vips_ms:8.1f}   {ratio:.2f}x  <= 1.0x {mark(ratio <= 1.0)}")
    else:
        lines.append("pyvips not installed: no comparison with its thumbnail")
    ours_rss, thumbor_rss = rss.get("ours"), rss.get("thumbor")
    if ours_rss is not None and thumbor_rss is not None:
        lines.append(
            f"peak RSS per worker: ours {ours_rss:.0f} MiB, thumbor {thumbor_rss:.0f} MiB"
            f"  no worse than thumbor's {mark(ours_rss <= thumbor_rss)}"
        )
    if scaling is not None:
        lines.append("")
        lines.append("cold throughput scaling, 8 clients / (2 x 1 client); goal >= 0.9 (2 cores):")
        for server in ("ours", "ours-threads", "thumbor"):
            if (f"cold throughput {JPEGS[0]}", server) not in scaling.rounds:
                continue
            cells = []
            for name in JPEGS:
                key = (f"cold throughput {name}", server)
                if key not in scaling.rounds:
                    continue
                eight = scaling.median(f"cold throughput {name}", server)
                one = scaling.median(f"1-client cold throughput {name}", server)
                cells.append(
                    f"{name} {eight:5.0f} / (2 x {one:4.0f}) = {eight / (2 * one):.2f} {mark(eight >= 1.8 * one)}"
                )
            label = {
                "ours": "ours, 2 processes",
                "ours-threads": "ours, 1 process x 8 threads",
                "thumbor": "thumbor, 2 processes",
            }
            lines.append(f"  {label[server]:28} " + "   ".join(cells))
    return "\n".join(lines)


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--thumbor", default=str(ROOT / ".bench-venv" / "thumbor" / "bin" / "thumbor"))
    parser.add_argument("--no-threads", action="store_true", help="skip the one-process, eight-thread server")
    args = parser.parse_args()
    if not os.path.exists(args.thumbor):
        sys.exit(f"no thumbor at {args.thumbor}: `make bench-peers` builds it in .bench-venv/thumbor")
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    print(f"s3media_wsgi vs thumbor, {os.cpu_count()} CPUs, load average {load:.1f} at the start\n", flush=True)
    inputs = make_inputs()
    work = Path(tempfile.mkdtemp(prefix="bench-peers-"))
    try:
        (work / "thumbor-originals").mkdir()
        for name, data in inputs.items():
            (work / "thumbor-originals" / FILES[name]).write_bytes(data)
        media = Media(LocalStorage(work / "ours", base_url="/media/"), secret_key=SECRET)
        ids = {name: str(media.put(data, filename=FILES[name])) for name, data in inputs.items()}
        # jpeg_draft=1 in its own folder: its sizes are cold too.
        fast_media = Media(LocalStorage(work / FAST, base_url="/media/"), secret_key=SECRET)
        fast_ids = {name: str(fast_media.put(inputs[name], filename=FILES[name])) for name in JPEGS}
        figures = Figures()
        scaling = Figures()
        latency_n = 6
        throughput_n = {"12MP JPEG": 32, "2MP JPEG": 64}
        with (
            running(lambda: start_thumbor(args.thumbor, work)) as thumbor,
            running(lambda: start_ours(work, media, ids)) as ours,
            running(lambda: start_ours(work, fast_media, fast_ids, FAST, jpeg_draft=1, folder=FAST)) as fast,
        ):
            servers = [ours, fast, thumbor]
            for server in servers:  # warm up: workers forked, codecs loaded, page cache filled
                for name in JPEGS if server is fast else INPUTS:
                    for _ in range(2):
                        sequential(server.port, server.next_paths(name, 2))
            for r in range(args.rounds):
                print(f"round {r + 1}/{args.rounds}", flush=True)
                run_round(figures, servers, r, latency_n, throughput_n)
            first_view(figures, work, ours, thumbor, inputs["12MP JPEG"], args.rounds)
            warm = {server.name: warm_paths(server, 48) for server in (ours, thumbor)}
            for r in range(args.rounds):
                for server in alternate([ours, thumbor], r):
                    figures.add("warm throughput", server.name, concurrent(server.port, warm[server.name] * 25))
            outputs: dict[str, dict[str, bytes]] = {name: {} for name in INPUTS}
            for server in servers:
                for name in JPEGS if server is fast else INPUTS:
                    outputs[name][server.name] = get(server.port, server.path(name, 0))
            rss = {server.name: server.peak_rss_mib() for server in servers}
            for key, values in figures.rounds.items():
                if "cold throughput" in key[0]:
                    scaling.rounds[key] = values
        if not args.no_threads:
            with running(lambda: start_ours(work, media, ids, "ours-threads", threads=CLIENTS)) as threaded:
                threaded.counters = dict(ours.counters)  # the same storage: only sizes never made are cold
                for name in INPUTS:
                    sequential(threaded.port, threaded.next_paths(name, 2))
                for _ in range(args.rounds):
                    for name in JPEGS:
                        _, per_s = sequential(threaded.port, threaded.next_paths(name, latency_n))
                        scaling.add(f"1-client cold throughput {name}", threaded.name, per_s)
                        per_s = concurrent(threaded.port, threaded.next_paths(name, throughput_n[name]))
                        scaling.add(f"cold throughput {name}", threaded.name, per_s)
        print("in-process comparison with pyvips...", flush=True)
        vips = versus_vips(inputs, args.rounds)
        in_process = ladder_in_process(args.rounds)
        print()
        print(report(figures, args.rounds, quality_row(inputs, outputs), vips, rss, scaling))
        print()
        print(ladder_goals(figures, args.rounds, in_process))
        try:
            load = os.getloadavg()[0]
        except OSError:
            load = float("nan")
        print(f"\nload average {load:.1f} at the end (2 cores: above ~2.5, other work was running)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
