"""Real servers on 127.0.0.1 for the tests: WSGI (waitress; wsgiref, threaded), and Redis (``redis-server``).

Imported by its bare name (``from servers import serve_wsgi``), like ``images.py``: pytest's
default ("prepend") import mode puts ``tests/`` on ``sys.path`` for ``tests/conftest.py``, so
the tests in ``tests/`` and in its folders without ``__init__.py`` (``browser/``,
``reliability/``) all reach it.
"""

from __future__ import annotations

import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

WSGIApp = Callable[..., Any]

#: Seconds the event loop gets to end once its sockets are closed (it re-checks its map at
#: least every asyncore_loop_timeout, 1 s).
LOOP_STOP_TIMEOUT = 10
#: Seconds a worker thread still busy in the app gets to finish when the server stops.
WORKER_STOP_TIMEOUT = 5


@contextmanager
def serve_wsgi(app: WSGIApp, threads: int = 8, *, name: str | None = None) -> Iterator[str]:
    """Serve *app* with waitress on 127.0.0.1 (a free port) and *threads* worker threads.

    Yields the base URL (``http://127.0.0.1:PORT``).  Waitress is what a production
    deployment would use, and its fixed-size thread pool is the thing a slow S3 can
    starve: with ``threads=8``, eight requests stuck on S3 block every other request.
    *name* names the thread running waitress's event loop (a daemon thread; by default
    ``serve_wsgi-PORT-loop``).

    Shutdown, on leaving the block: the server socket and every open connection are
    closed *from waitress's own event-loop thread* (its asyncore loop is not
    thread-safe, so we hand it the work through its trigger), the loop then ends as it
    has nothing left to watch, and the worker threads are told to stop.  A worker still
    busy in the app (e.g. blocked on a hung S3) gets 5 s to finish; waitress then logs a
    warning and leaves it (its threads are daemons).  So release hung faults before
    leaving the block if the test cares about clean threads.  An event loop still
    running 10 s after its sockets were closed is a RuntimeError.
    """
    import waitress
    from waitress import wasyncore

    socket_map: dict[int, Any] = {}
    server: Any = waitress.create_server(app, map=socket_map, host="127.0.0.1", port=0, threads=threads)
    loop = threading.Thread(target=server.run, name=name or f"serve_wsgi-{server.effective_port}-loop", daemon=True)
    loop.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(socket_map))
        except OSError:
            # The trigger's pipe is already closed (seen once in a full run, cause not
            # found): no way to hand the loop the work, so close from here; the check
            # below still requires the loop to end.
            wasyncore.close_all(socket_map, ignore_all=True)
        loop.join(timeout=LOOP_STOP_TIMEOUT)
        server.task_dispatcher.shutdown(timeout=WORKER_STOP_TIMEOUT)
        if loop.is_alive():
            raise RuntimeError(f"serve_wsgi: waitress's event loop did not stop within {LOOP_STOP_TIMEOUT} s")


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


@contextmanager
def serve_wsgiref(app: WSGIApp) -> Iterator[str]:
    """Serve *app* with the standard library's wsgiref on 127.0.0.1 (a free port), a thread per request.

    Yields the base URL.  The plain PEP 3333 server: its ``wsgi.input`` is the socket
    itself, not bounded to ``CONTENT_LENGTH`` (a read past it waits for the client),
    and it speaks HTTP/1.0 (one request per connection).
    """
    httpd = make_server("127.0.0.1", 0, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


#: Attempts at a free port for redis-server (it takes no port 0): another process may take the
#: port between our probe and redis binding it.
REDIS_PORT_TRIES = 5
#: Seconds redis-server gets to answer PING once started.
REDIS_START_TIMEOUT = 10


class RedisServer:
    """A ``redis-server`` process of our own on 127.0.0.1: :attr:`url`, :meth:`stop` (idempotent)."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log
        self.url = f"redis://127.0.0.1:{port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def answers(self) -> bool:
        """True when the server answers ``PING`` with ``+PONG`` (a raw RESP exchange: no client library)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def free_port() -> int:
    """A port free on 127.0.0.1 right now (the kernel's pick for port 0; another process may still take it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve_process(command: list[str], ready_url: str, *, cwd: Path, env: dict[str, str]) -> Iterator[None]:
    """Run *command* (a server, such as ``manage.py runserver``) until it answers *ready_url*; stop it after.

    Its output goes to ``server.log`` in *cwd*, shown if it dies before answering; it has 60 s to answer.
    """
    log_path = cwd / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log_path.read_text()
            try:
                with urllib.request.urlopen(ready_url, timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, f"{command[1:3]} did not answer"
                time.sleep(0.2)
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def serve_redis(executable: str = "redis-server") -> Iterator[RedisServer]:
    """Run *executable* on 127.0.0.1 at a free port, in memory only (no RDB, no AOF), until the block ends.

    Redis refuses ``--port 0``, so the port is the one the kernel gave a probe
    socket; when redis-server then finds it taken ("Address already in use")
    another port is tried, :data:`REDIS_PORT_TRIES` times in all.  Any other
    start failure raises RuntimeError with redis-server's own output.
    """
    with tempfile.TemporaryDirectory(prefix="redis-") as folder:
        for _ in range(REDIS_PORT_TRIES):
            port = free_port()
            log = Path(folder) / f"redis-{port}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
                    + ["--dir", folder, "--daemonize", "no"],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            server = RedisServer(process, port, log)
            deadline = time.monotonic() + REDIS_START_TIMEOUT
            while process.poll() is None and not server.answers() and time.monotonic() < deadline:
                time.sleep(0.05)
            if process.poll() is None and server.answers():
                break
            server.stop()
            output = log.read_text(errors="replace")
            if "Address already in use" not in output:
                raise RuntimeError(f"redis-server did not start on 127.0.0.1:{port}:\n{output}")
        else:
            raise RuntimeError(f"redis-server found no free port in {REDIS_PORT_TRIES} tries")
        try:
            yield server
        finally:
            server.stop()
