"""A real HTTP(S) server on 127.0.0.1 for tests that fetch feeds: static fixtures plus programmable routes.

It runs ``http.server.ThreadingHTTPServer`` in a background thread, so it works from sync and async tests
alike and with any event loop; every request and every response byte go through a real socket. Use the
``feed_server`` fixture or ``with FeedServer() as server:``. To get the fixtures, either import them
into a test module (``from tests.feedserver import feed_server_fixture  # noqa: F401``; the functions are
named ``*_fixture`` so test parameters do not shadow the import) or list this module in the root
conftest: ``pytest_plugins = ("tests.feedserver",)``.

What it serves:

- ``/feeds/<name>`` from ``tests/fixtures/feeds/`` and ``/fetch/<name>`` from ``tests/fixtures/fetch/``,
  with an ETag and Last-Modified derived from the file and 304 answers to matching conditional requests;
- programmable routes: ``server.route(path, status=…, body=…, headers=…, etag=…, encoding="gzip", …)``,
  and shorthands ``redirect``, ``gzip_bomb``, ``trickle``, ``huge``; ``server.handle(path, fn)`` for
  answers computed per request. Each returns the absolute URL of the route.

What it records: every request (method, path, lower-cased headers) in ``server.requests``, and the
highest number of requests in flight at once (``server.max_in_flight``, also per Host header), so tests
can assert conditional headers, request counts and concurrency limits.

It does not implement HTTP caching semantics beyond ETag/If-None-Match and If-Modified-Since, nor ranges.
``fake_dns`` (:class:`FakeDNS`) answers names such as ``feeds.test`` with chosen addresses, so a test can
reach this server under a host name, or check that a name resolving to 10.0.0.1 is refused, without any
DNS traffic.
"""

from __future__ import annotations

import asyncio
import asyncio.base_events
import contextlib
import email.utils
import functools
import gzip
import hashlib
import http.server
import mimetypes
import socket
import ssl
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
STATIC_DIRS: Mapping[str, Path] = {"/feeds/": FIXTURES / "feeds", "/fetch/": FIXTURES / "fetch"}
_CONTENT_TYPES = {
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".xml": "application/xml",
    ".html": "text/html; charset=utf-8",
}

Body = bytes | Callable[[], Iterable[bytes]]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it; ``headers`` has lower-case names."""

    method: str
    path: str
    headers: Mapping[str, str]
    at: float


@dataclass(frozen=True)
class Route:
    """How to answer one path.

    ``body`` is bytes or a zero-argument callable yielding chunks (streamed; sent chunked unless
    ``content_length`` is given). ``encoding`` compresses a bytes body on the fly and sets
    Content-Encoding. ``etag``/``last_modified`` enable 304 answers to matching conditional requests.
    ``delay_s`` waits before the status line; ``trickle_s`` sends the body one byte at a time with that
    pause between bytes. ``content_length`` overrides the declared length (a lie is allowed: tests use
    it to announce a huge body).
    """

    status: int = 200
    body: Body = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    encoding: Literal["gzip", "deflate", "raw-deflate"] | None = None
    delay_s: float = 0.0
    trickle_s: float | None = None
    chunked: bool = False
    content_length: int | None = None


Handler = Callable[[RecordedRequest], Route]


def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


@functools.lru_cache(maxsize=4)
def gzip_bomb_bytes(decompressed_size: int) -> bytes:
    """A gzip stream of ``decompressed_size`` zero bytes (about 1/1000 of that compressed)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    parts = []
    remaining = decompressed_size
    while remaining > 0:
        n = min(remaining, len(block))
        parts.append(compressor.compress(block[:n]))
        remaining -= n
    parts.append(compressor.flush())
    return b"".join(parts)


def _compress(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.compress(body)
    if encoding == "deflate":
        return zlib.compress(body)
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw deflate, sent as "deflate"
    return compressor.compress(body) + compressor.flush()


def _not_modified(request: RecordedRequest, etag: str | None, last_modified: str | None) -> bool:
    """RFC 9110 13.1: If-None-Match wins over If-Modified-Since when both are present."""
    inm = request.headers.get("if-none-match")
    if inm is not None:
        if etag is None:
            return False
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or etag.removeprefix("W/") in tags
    ims = request.headers.get("if-modified-since")
    if ims is None or last_modified is None:
        return False
    try:
        return email.utils.parsedate_to_datetime(last_modified) <= email.utils.parsedate_to_datetime(ims)
    except (TypeError, ValueError):
        return False


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    owner: FeedServer

    def finish_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        # TLS handshakes happen here, in the connection's own thread, not in the accept loop.
        if isinstance(request, ssl.SSLSocket):
            try:
                request.settimeout(5)
                request.do_handshake()
            except (OSError, ssl.SSLError):
                return
        self.owner._track(request, add=True)
        try:
            super().finish_request(request, client_address)
        finally:
            self.owner._track(request, add=False)

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients hanging up mid-response (size caps, deadlines) are expected in these tests.
        pass


class _RequestHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, *, send_body: bool) -> None:
        owner = self.server.owner
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            at=time.monotonic(),
        )
        owner._begin(request)
        try:
            self._answer(owner._route_for(request), request, send_body=send_body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError):
            self.close_connection = True
        finally:
            owner._end(request)

    def _answer(self, route: Route, request: RecordedRequest, *, send_body: bool) -> None:
        stop = self.server.owner._stopping
        if route.delay_s and stop.wait(route.delay_s):
            self.close_connection = True
            return
        if _not_modified(request, route.etag, route.last_modified):
            self.send_response(304)
            self._validators(route)
            for name, value in route.headers.items():
                if name.lower() not in ("content-type", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = route.body
        if isinstance(body, bytes) and route.encoding:
            body = _compress(body, route.encoding)
        self.send_response(route.status)
        self._validators(route)
        for name, value in route.headers.items():
            self.send_header(name, value)
        if route.encoding:
            self.send_header("Content-Encoding", "gzip" if route.encoding == "gzip" else "deflate")
        chunked = route.chunked or (callable(body) and route.content_length is None)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            length = route.content_length if route.content_length is not None else len(body)  # type: ignore[arg-type]
            self.send_header("Content-Length", str(length))
        if route.content_length is not None and isinstance(body, bytes) and route.content_length != len(body):
            self.close_connection = True  # the declared length is a lie: do not reuse the connection
        self.end_headers()
        if not send_body:
            return
        chunks: Iterable[bytes] = body() if callable(body) else [body]
        if route.trickle_s is not None:
            chunks = self._one_byte_at_a_time(chunks, route.trickle_s)
        for chunk in chunks:
            if stop.is_set():
                self.close_connection = True
                return
            if not chunk:
                continue
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            else:
                self.wfile.write(chunk)
            self.wfile.flush()
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    def _one_byte_at_a_time(self, chunks: Iterable[bytes], pause: float) -> Iterator[bytes]:
        stop = self.server.owner._stopping
        for chunk in chunks:
            for i in range(len(chunk)):
                yield chunk[i : i + 1]
                if stop.wait(pause):
                    return

    def _validators(self, route: Route) -> None:
        if route.etag is not None:
            self.send_header("ETag", route.etag)
        if route.last_modified is not None:
            self.send_header("Last-Modified", route.last_modified)


class FeedServer:
    """Loopback HTTP server; see the module docstring. Routes may be added while it runs."""

    def __init__(
        self,
        *,
        static_dirs: Mapping[str, Path] = STATIC_DIRS,
        ssl_context: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self._static = dict(static_dirs)
        self._ssl_context = ssl_context
        self._bind_host = host
        self._routes: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._in_flight: Counter[str] = Counter()
        self._max_in_flight: Counter[str] = Counter()
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> FeedServer:
        httpd = _Server((self._bind_host, 0), _RequestHandler)
        httpd.owner = self
        if self._ssl_context is not None:
            httpd.socket = self._ssl_context.wrap_socket(
                httpd.socket, server_side=True, do_handshake_on_connect=False
            )
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # wake handler threads blocked on keep-alive reads
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        assert self._thread is not None
        self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- addresses --------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return self._bind_host

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://{self._bind_host}:{self.port}"

    def url(self, path: str, *, host: str | None = None) -> str:
        """Absolute URL of ``path``; ``host`` swaps in another name for the same server (with a resolver
        stub in the test, e.g. ``feeds.test``)."""
        if not path.startswith("/"):
            path = "/" + path
        if host is None:
            return self.base_url + path
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    # --- routes -----------------------------------------------------------------------------------

    def handle(self, path: str, handler: Handler) -> str:
        """Answer ``path`` (exact match, query included if given) with ``handler(request)``."""
        with self._lock:
            self._routes[path] = handler
        return self.url(path)

    def route(
        self,
        path: str,
        *,
        status: int = 200,
        body: Body | str = b"",
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        encoding: Literal["gzip", "deflate", "raw-deflate"] | None = None,
        delay_s: float = 0.0,
        trickle_s: float | None = None,
        chunked: bool = False,
        content_length: int | None = None,
    ) -> str:
        """Answer ``path`` the same way every time; returns the route's URL."""
        all_headers = dict(headers or {})
        if content_type is not None:
            all_headers["Content-Type"] = content_type
        route = Route(
            status=status,
            body=body.encode("utf-8") if isinstance(body, str) else body,
            headers=all_headers,
            etag=etag,
            last_modified=last_modified,
            encoding=encoding,
            delay_s=delay_s,
            trickle_s=trickle_s,
            chunked=chunked,
            content_length=content_length,
        )
        return self.handle(path, lambda _request: route)

    def redirect(self, path: str, to: str, *, status: int = 302) -> str:
        """``path`` answers ``status`` with ``Location: to`` (absolute or relative, sent verbatim)."""
        return self.route(path, status=status, headers={"Location": to})

    def gzip_bomb(self, path: str, *, decompressed_size: int = 32 * 1024 * 1024) -> str:
        """A small gzip body (about 1/1000) that inflates to ``decompressed_size`` zero bytes."""
        return self.route(
            path,
            body=gzip_bomb_bytes(decompressed_size),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"},
        )

    def trickle(self, path: str, body: bytes, *, interval_s: float) -> str:
        """Sends headers at once, then ``body`` one byte every ``interval_s`` seconds."""
        return self.route(path, body=body, trickle_s=interval_s, content_type="application/rss+xml")

    def huge(self, path: str, size: int, *, declare_length: bool = True) -> str:
        """A ``size``-byte body streamed in 64 KiB blocks, with or without a Content-Length."""
        block = b"<!-- padding -->" * 4096

        def chunks() -> Iterator[bytes]:
            remaining = size
            while remaining > 0:
                yield block[:remaining]
                remaining -= len(block)

        return self.route(
            path,
            body=chunks,
            content_type="application/rss+xml",
            content_length=size if declare_length else None,
        )

    # --- observations -----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    @property
    def max_in_flight(self) -> int:
        """The most requests this server was answering at the same moment."""
        with self._lock:
            return self._max_in_flight["*"]

    def max_in_flight_for_host(self, host_header: str) -> int:
        with self._lock:
            return self._max_in_flight[host_header.lower()]

    def clear(self) -> None:
        """Forget the request log and concurrency high-water marks (routes stay)."""
        with self._lock:
            self._requests.clear()
            self._max_in_flight.clear()

    # --- internals (called from handler threads) --------------------------------------------------

    def _route_for(self, request: RecordedRequest) -> Route:
        with self._lock:
            handler = self._routes.get(request.path) or self._routes.get(request.path.split("?", 1)[0])
        if handler is not None:
            return handler(request)
        return self._static_route(request.path.split("?", 1)[0])

    def _static_route(self, path: str) -> Route:
        for prefix, directory in self._static.items():
            if not path.startswith(prefix):
                continue
            name = path[len(prefix) :]
            candidate = (directory / name).resolve()
            if "/" in name or not name or not candidate.is_file() or candidate.parent != directory.resolve():
                break
            data = candidate.read_bytes()
            content_type = _CONTENT_TYPES.get(candidate.suffix) or (
                mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
            )
            return Route(
                body=data,
                headers={"Content-Type": content_type},
                etag='"' + hashlib.sha256(data).hexdigest()[:20] + '"',
                last_modified=http_date(candidate.stat().st_mtime),
            )
        return Route(status=404, body=b"not found\n", headers={"Content-Type": "text/plain"})

    def _begin(self, request: RecordedRequest) -> None:
        host = request.headers.get("host", "").lower()
        with self._lock:
            self._requests.append(request)
            for key in ("*", host):
                self._in_flight[key] += 1
                self._max_in_flight[key] = max(self._max_in_flight[key], self._in_flight[key])

    def _end(self, request: RecordedRequest) -> None:
        host = request.headers.get("host", "").lower()
        with self._lock:
            for key in ("*", host):
                self._in_flight[key] -= 1

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)


class FakeDNS:
    """Stub for the event loops' ``getaddrinfo`` so tests can use names like ``feeds.test`` offline.

    Names in ``answers`` resolve to the listed addresses (or raise the given exception). Anything else
    goes to the real resolver with ``AI_NUMERICHOST``, which parses IP literals and numeric spellings
    such as ``2130706433`` but never sends a DNS query; a real name therefore fails like NXDOMAIN
    instead of leaking a lookup off the machine. ``calls`` lists every host asked for, in order.
    """

    def __init__(self) -> None:
        self.answers: dict[str, list[str] | BaseException] = {}
        self.calls: list[str] = []

    def __setitem__(self, host: str, answer: list[str] | BaseException) -> None:
        self.answers[host] = answer

    async def getaddrinfo(
        self,
        host: str,
        port: int | str | None,
        *,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[tuple[Any, ...]]:
        self.calls.append(host)
        answer = self.answers.get(host)
        if isinstance(answer, BaseException):
            raise answer
        if answer is not None:
            return [_addrinfo(ip, int(port or 0)) for ip in answer]
        return socket.getaddrinfo(
            host, port, family=family, type=type, proto=proto, flags=flags | socket.AI_NUMERICHOST
        )


def _addrinfo(ip: str, port: int) -> tuple[Any, ...]:
    if ":" in ip:
        return (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, port))


@pytest.fixture(name="fake_dns")
def fake_dns_fixture(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    """A :class:`FakeDNS` installed on every asyncio event loop for the duration of the test."""
    dns = FakeDNS()

    async def getaddrinfo(
        loop: asyncio.AbstractEventLoop, host: str, port: int | str | None, **kwargs: int
    ) -> list[tuple[Any, ...]]:
        return await dns.getaddrinfo(host, port, **kwargs)

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", getaddrinfo)
    return dns


@pytest.fixture(name="feed_server")
def feed_server_fixture() -> Iterator[FeedServer]:
    """A started :class:`FeedServer` on 127.0.0.1, stopped after the test."""
    with FeedServer() as server:
        yield server
