"""FaultProxy: a tiny HTTP/1.1 proxy that makes a healthy S3 (moto's server) slow or broken on demand.

Reliability tests need S3 to misbehave in the ways real networks do -- answer late,
never answer, answer 500, cut a body short, hang up -- while everything else stays
real: botocore, its connection pool, its timeouts and retries, real sockets on
127.0.0.1.  This proxy sits between the client and moto and applies one *fault
mode* at a time, switchable while requests are in flight::

    with FaultProxy(moto_endpoint) as proxy:
        client = boto3.client("s3", endpoint_url=proxy.url, ...)
        proxy.set("hang", methods={"GET"})   # GETs never answer; other methods pass
        ...
        proxy.set("pass")                    # hung GETs are released and forwarded

How a request flows: the whole request (headers and body) is read first, it is
recorded in :attr:`FaultProxy.requests`, then the current mode decides what
happens.  Upstream responses are read whole (bodies of a few MB are fine) and
re-sent with a Content-Length, so chunked upstream answers reach the client
de-chunked.  ``Expect: 100-continue`` is answered by the proxy itself (the
standard library's request handler does it), before the mode is consulted.

Standard library only: ``socketserver`` for the threads, ``http.server`` for
parsing requests, ``http.client`` for talking to the upstream.
"""

from __future__ import annotations

import html
import http.client
import http.server
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

__all__ = ["DRIP_PARTS", "MODES", "FaultProxy", "Mode"]

Mode = Literal["pass", "delay", "hang", "error500", "cut", "drop", "drip"]

#: Every fault mode :meth:`FaultProxy.set` accepts.
MODES: frozenset[str] = frozenset({"pass", "delay", "hang", "error500", "cut", "drop", "drip"})
#: What the "drip" mode sends a byte at a time: everything, or the body only (headers at once).
DRIP_PARTS: frozenset[str] = frozenset({"all", "body"})

# Headers that describe one hop (client<->proxy or proxy<->upstream), never forwarded
# as-is.  Content-Length and Expect are handled separately: the proxy reframes bodies
# and answers 100-continue itself.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

# Bounds on a chunked request body's framing, so a broken client cannot keep a
# handler thread reading forever.
_MAX_CHUNK_LINE = 1024
_MAX_TRAILER_LINES = 100

# How often a hung handler re-checks its deadline if no notification arrives;
# set() and stop() wake it at once, this is only a safety net.
_HANG_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class _Fault:
    """One setting of :meth:`FaultProxy.set`; immutable so handlers can read it without locking."""

    mode: str = "pass"
    seconds: float = 0.0
    methods: frozenset[str] | None = None
    drip: str = "all"

    def for_method(self, method: str) -> _Fault:
        """The fault a request with *method* gets: this one, or "pass" if filtered out."""
        if self.methods is not None and method.upper() not in self.methods:
            return _PASS
        return self


_PASS = _Fault()


def _s3_error_body(code: str, message: str, resource: str) -> bytes:
    """An error document shaped like S3's, so botocore parses Code and Message from it."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{html.escape(message)}</Message>"
        f"<Resource>{html.escape(resource)}</Resource>"
        "<RequestId>FAULTPROXY0000000</RequestId></Error>"
    ).encode()


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """A threaded TCP server whose connection threads and sockets the proxy can find again at stop()."""

    daemon_threads = True
    # stop() joins the threads itself, with a deadline; the stock join has none.
    block_on_close = False
    # botocore opens up to 10 pooled connections at once and test apps may run many
    # clients; the stock backlog of 5 would make bursts wait on SYN retransmits.
    request_queue_size = 128

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve one connection in its own daemon thread, registered with the proxy."""
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"faultproxy-{self.server_address[1]}-conn",
            daemon=True,
        )
        self.proxy._track_connection(thread, request)
        thread.start()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.proxy._untrack_connection(threading.current_thread(), request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about network errors: tests cause them on purpose (timeouts, hang-ups, stop())."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, http.client.HTTPException)):
            return
        super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    """Handles every request of one client connection (keep-alive) according to the proxy's mode."""

    protocol_version = "HTTP/1.1"  # keep-alive by default, like S3
    server: _Server

    def setup(self) -> None:
        super().setup()
        # An idle keep-alive connection must not pin a thread forever.
        self.connection.settimeout(self.server.proxy.idle_timeout)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log lines on stderr."""

    def do_GET(self) -> None:
        self._relay()

    do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    # --- one request ---------------------------------------------------------

    def _relay(self) -> None:
        """Read the whole request, record it, then apply the fault its method gets."""
        proxy = self.server.proxy
        method = self.command
        try:
            body = self._read_body()
        except ValueError:
            self._answer(400, "Bad Request", "text/plain", b"bad request body framing\n")
            self.close_connection = True
            return
        proxy._record(method, self.path)

        fault = proxy._wait_out_hang(method)
        if fault is None:  # the proxy is stopping, or the hang limit passed
            self._drop()
            return
        if fault.mode == "delay" and proxy._stopped.wait(fault.seconds):
            self._drop()
            return
        if fault.mode == "drop":
            self._drop()
            return
        if fault.mode == "error500":
            payload = _s3_error_body(
                "InternalError",
                "We encountered an internal error. Please try again.",
                urllib.parse.urlsplit(self.path).path,
            )
            self._answer(500, "Internal Server Error", "application/xml", payload)
            return

        try:
            status, reason, headers, payload = self._forward(method, body)
        except (OSError, http.client.HTTPException) as exc:
            if proxy._stopped.is_set():
                self._drop()
                return
            text = f"faultproxy: upstream failed: {exc!r}\n".encode()
            self._answer(502, "Bad Gateway", "text/plain", text)
            return

        if fault.mode == "cut":
            # Promise the whole body, deliver half, hang up: what a connection reset
            # in the middle of a download looks like to the client.  With no body to
            # cut, say "Connection: close": otherwise the client may reuse the
            # connection in the instant before our close reaches it, and its next
            # request fails with an error this request did not cause.
            nothing_to_cut = len(payload) // 2 == len(payload) or method == "HEAD"
            self._send(status, reason, headers, payload, send_only=len(payload) // 2, close=nothing_to_cut)
            self.close_connection = True
            return
        if fault.mode == "drip":
            self._drip(status, reason, headers, payload, fault)
            return
        self._send(status, reason, headers, payload)

    def _drip(self, status: int, reason: str, headers: list[tuple[str, str]], payload: bytes, fault: _Fault) -> None:
        """Send the answer one byte every ``fault.seconds`` (the body only, with ``drip="body"``).

        Each byte is its own write, so every recv() of the client returns
        after at most one interval: a read timeout longer than the interval
        never fires.  When the mode changes (or the proxy stops), the rest is
        sent at once (or the connection dropped).
        """
        proxy = self.server.proxy
        bodyless = self.command == "HEAD" or status in (204, 304) or 100 <= status < 200
        lines = [f"HTTP/1.1 {status} {reason}"]
        for name, value in headers:
            lower = name.lower()
            if lower in _HOP_BY_HOP or (lower == "content-length" and not bodyless):
                continue
            lines.append(f"{name}: {value}")
        if not bodyless:
            lines.append(f"Content-Length: {len(payload)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        body = b"" if bodyless else payload
        if fault.drip == "body":
            self.wfile.write(head)
            data, sent = body, 0
        else:
            data, sent = head + body, 0
        while sent < len(data):
            if proxy._fault.for_method(self.command).mode != "drip":
                self.wfile.write(data[sent:])  # released: the rest at once
                break
            self.wfile.write(data[sent : sent + 1])
            sent += 1
            if sent < len(data) and proxy._stopped.wait(fault.seconds):
                self._drop()
                return
        self.wfile.flush()

    def _read_body(self) -> bytes:
        """The request body, from Content-Length or chunked framing; ValueError if malformed."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        body = self.rfile.read(length)
        if len(body) != length:
            raise ConnectionError("client closed the connection in the middle of the body")
        return body

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:  # one chunk per turn; ends at the zero chunk or raises at EOF
            line = self.rfile.readline(_MAX_CHUNK_LINE)
            if not line.endswith(b"\n"):
                raise ValueError("truncated chunk size line")
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                break
            chunk = self.rfile.read(size + 2)  # data + CRLF
            if len(chunk) != size + 2:
                raise ConnectionError("client closed the connection in the middle of a chunk")
            parts.append(chunk[:-2])
        for _ in range(_MAX_TRAILER_LINES):  # trailers (ignored) up to the blank line
            line = self.rfile.readline(_MAX_CHUNK_LINE)
            if line in (b"\r\n", b"\n"):
                return b"".join(parts)
            if not line:
                raise ValueError("truncated chunked trailer")
        raise ValueError("too many trailer lines")

    def _forward(self, method: str, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """Send the request upstream on a fresh connection; return its status, headers and whole body."""
        proxy = self.server.proxy
        conn = http.client.HTTPConnection(proxy._upstream_host, proxy._upstream_port, timeout=proxy.upstream_timeout)
        try:
            conn.connect()
            proxy._track_upstream(conn.sock)
            # Host is forwarded as the client sent it (path-style addressing and
            # SigV4 both rely on it), and nothing the client did not send is added.
            conn.putrequest(method, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                lower = name.lower()
                if lower in _HOP_BY_HOP or lower in ("content-length", "expect"):
                    continue
                conn.putheader(name, value)
            if "Content-Length" in self.headers or "Transfer-Encoding" in self.headers:
                conn.putheader("Content-Length", str(len(body)))
            conn.putheader("Connection", "close")
            conn.endheaders(body or None)
            response = conn.getresponse()
            payload = response.read()  # de-chunks; empty for HEAD, 204 and 304
            return response.status, response.reason, response.getheaders(), payload
        finally:
            proxy._untrack_upstream(conn.sock)
            conn.close()

    def _send(
        self,
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        payload: bytes,
        *,
        send_only: int | None = None,
        close: bool = False,
    ) -> None:
        """Answer the client; *send_only* writes just that many body bytes (the "cut" mode).

        The body's length is sent as Content-Length, except on body-less answers
        (HEAD, 1xx, 204, 304) which keep the Content-Length found in *headers*.
        """
        bodyless = self.command == "HEAD" or status in (204, 304) or 100 <= status < 200
        self.send_response_only(status, reason)
        for name, value in headers:
            lower = name.lower()
            if lower in _HOP_BY_HOP or (lower == "content-length" and not bodyless):
                continue
            self.send_header(name, value)
        if not bodyless:
            self.send_header("Content-Length", str(len(payload)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if not bodyless:
            self.wfile.write(payload if send_only is None else payload[:send_only])
        self.wfile.flush()

    def _answer(self, status: int, reason: str, content_type: str, payload: bytes) -> None:
        """Answer with the proxy's own response (to HEAD too: headers say how long the body would be)."""
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(payload))),
            ("x-amz-request-id", "FAULTPROXY0000000"),
        ]
        self._send(status, reason, headers, payload)

    def _drop(self) -> None:
        """Hang up without answering; socketserver closes the socket when the handler returns."""
        self.close_connection = True


class FaultProxy:
    """A threaded HTTP/1.1 proxy on 127.0.0.1 in front of *upstream_url*, with switchable faults.

    :param upstream_url: ``http://host:port`` of the real server (moto's S3 server).
    :param upstream_timeout: socket timeout when talking to the upstream.
    :param idle_timeout: an idle client keep-alive connection is closed after this long.
    :param hang_limit: safety net for "hang": a request hung this long is dropped
        (long enough that no test relies on it; :meth:`set` and :meth:`stop` release sooner).

    Modes (see :meth:`set`): ``"pass"``, ``"delay"``, ``"hang"``, ``"error500"``,
    ``"cut"``, ``"drop"``, ``"drip"``.
    """

    def __init__(
        self,
        upstream_url: str,
        *,
        upstream_timeout: float = 30.0,
        idle_timeout: float = 60.0,
        hang_limit: float = 120.0,
    ) -> None:
        parts = urllib.parse.urlsplit(upstream_url)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"FaultProxy needs an http://host:port upstream, got {upstream_url!r}")
        self.upstream_url = upstream_url
        self._upstream_host: str = parts.hostname
        self._upstream_port: int = parts.port
        self.upstream_timeout = upstream_timeout
        self.idle_timeout = idle_timeout
        self.hang_limit = hang_limit

        self._fault = _PASS
        # Guards _fault; notified on every set() and at stop() to wake hung handlers.
        self._changed = threading.Condition()
        self._stopped = threading.Event()
        self._lock = threading.Lock()  # guards the bookkeeping below
        self._requests: list[tuple[str, str]] = []
        self._connections_accepted = 0
        self._threads: set[threading.Thread] = set()
        self._client_sockets: set[socket.socket] = set()
        self._upstream_sockets: set[socket.socket] = set()
        self._server: _Server | None = None
        self._serve_thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: use it as the client's endpoint_url."""
        if self._server is None:
            raise RuntimeError("FaultProxy.url: call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        """Bind a free port and start serving in a background thread; returns self."""
        if self._server is not None:
            raise RuntimeError("FaultProxy already started")
        self._server = _Server(self)
        self._serve_thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # so stop() returns quickly
            name=f"faultproxy-{self._server.server_address[1]}-accept",
            daemon=True,
        )
        self._serve_thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, release hung requests, close every connection, join every thread.

        Raises RuntimeError if a thread is still alive after *timeout* seconds, so a
        leak shows up in the test that caused it.  Calling stop() twice is harmless.
        """
        server, self._server = self._server, None
        if server is None:
            return
        with self._changed:
            self._stopped.set()
            self._changed.notify_all()
        server.shutdown()  # returns once serve_forever has left its loop: no new connections
        server.server_close()
        with self._lock:
            sockets = [*self._client_sockets, *self._upstream_sockets]
            threads = [*self._threads]
        for sock in sockets:
            try:
                # shutdown(), not close(), wakes a thread blocked in recv() on it.
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed
        deadline = time.monotonic() + timeout
        assert self._serve_thread is not None
        for thread in [self._serve_thread, *threads]:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in [self._serve_thread, *threads] if t.is_alive()]
        if alive:
            raise RuntimeError(f"FaultProxy.stop(): threads still alive after {timeout}s: {alive}")

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- faults --------------------------------------------------------------

    def set(
        self, mode: Mode | str, *, seconds: float = 0.0, methods: Iterable[str] | None = None, drip: str = "all"
    ) -> None:
        """Apply *mode* to the requests that arrive (or are hung) from now on.

        - ``"pass"``: forward to the upstream.
        - ``"delay"``: wait *seconds*, then forward.
        - ``"hang"``: never answer, until the mode changes (the request is then handled
          under the new mode: ``set("pass")`` forwards it) or the proxy stops (the
          connection is closed).
        - ``"error500"``: answer ``500 InternalError`` with an S3 error document; the
          upstream is not contacted.
        - ``"cut"``: forward, send the upstream's status and headers with the full
          Content-Length, but only the first half of the body, then close the
          connection.  A body-less answer (PUT's, HEAD's) is thus sent whole, with
          ``Connection: close``.
        - ``"drop"``: close the connection without answering.
        - ``"drip"``: forward, then send the answer one byte every *seconds*:
          status line, headers and body (*drip* ``"all"``, the default), or
          the headers at once and the body a byte at a time (*drip*
          ``"body"``).  Each byte arrives well within any read timeout longer
          than *seconds*, so only a bound on the whole call ends it.  When the
          mode changes, the rest is sent at once.

        *methods* (e.g. ``{"GET"}``) restricts the fault to those HTTP methods; other
        methods pass.
        """
        if mode not in MODES:
            raise ValueError(f"FaultProxy mode must be one of {sorted(MODES)}, got {mode!r}")
        if seconds < 0:
            raise ValueError(f"FaultProxy seconds must be >= 0, got {seconds!r}")
        if drip not in DRIP_PARTS:
            raise ValueError(f"FaultProxy drip must be one of {sorted(DRIP_PARTS)}, got {drip!r}")
        if isinstance(methods, str):  # set("hang", methods="GET") means {"GET"}, not {"G", "E", "T"}
            methods = [methods]
        chosen = None if methods is None else frozenset(m.upper() for m in methods)
        with self._changed:
            self._fault = _Fault(mode, float(seconds), chosen, drip)
            self._changed.notify_all()

    @property
    def mode(self) -> str:
        """The current mode's name."""
        return self._fault.mode

    def _wait_out_hang(self, method: str) -> _Fault | None:
        """The fault for a *method* request, after waiting for any "hang" to be lifted.

        None means: hang up (the proxy is stopping, or the hang lasted ``hang_limit``).
        """
        deadline = time.monotonic() + self.hang_limit
        with self._changed:
            while True:  # each turn ends in a return or a bounded wait
                if self._stopped.is_set():
                    return None
                fault = self._fault.for_method(method)
                if fault.mode != "hang":
                    return fault
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(min(remaining, _HANG_POLL_SECONDS))

    # --- what was seen -------------------------------------------------------

    @property
    def requests(self) -> list[tuple[str, str]]:
        """A copy of the ``(method, path)`` of every request received, in arrival order.

        The path is the request target as sent, query string included
        (``/bucket/key?uploads``).  Requests are recorded whether or not a fault hit them.
        """
        with self._lock:
            return list(self._requests)

    @property
    def connections_accepted(self) -> int:
        """How many client connections were accepted (keep-alive reuse keeps this low)."""
        with self._lock:
            return self._connections_accepted

    def reset(self) -> None:
        """Forget the recorded requests and connection count (the mode is unchanged)."""
        with self._lock:
            self._requests.clear()
            self._connections_accepted = 0

    # --- bookkeeping used by the server and handlers ---------------------------

    def _record(self, method: str, path: str) -> None:
        with self._lock:
            self._requests.append((method, path))

    def _track_connection(self, thread: threading.Thread, sock: socket.socket) -> None:
        with self._lock:
            self._connections_accepted += 1
            self._threads.add(thread)
            self._client_sockets.add(sock)

    def _untrack_connection(self, thread: threading.Thread, sock: socket.socket) -> None:
        with self._lock:
            self._threads.discard(thread)
            self._client_sockets.discard(sock)

    def _track_upstream(self, sock: socket.socket | None) -> None:
        if sock is not None:
            with self._lock:
                self._upstream_sockets.add(sock)

    def _untrack_upstream(self, sock: socket.socket | None) -> None:
        if sock is not None:
            with self._lock:
                self._upstream_sockets.discard(sock)
