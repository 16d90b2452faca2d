"""Fetch feed bytes over HTTP politely and defensively: one shared httpx client for the whole process.

The fetcher turns every network, HTTP, size or address problem into a :class:`FetchResult` with outcome
``"error"`` and a short English message for operators; it raises only for programming errors. It does
not parse, store or schedule anything: the caller stores ``etag``/``last_modified`` for the next
conditional GET and uses ``retry_after`` and the outcome to plan the next attempt.

Defences, each because a feed URL comes from an untrusted chat admin or an untrusted server:

- addresses: :mod:`jobs.urlguard` refuses private targets by URL text, by DNS answer, at connect time
  (the socket goes to the address that was checked) and again for every redirect hop;
- time: one deadline covers connect, every redirect hop and the whole body, so a server trickling a byte
  per second is cut at ``timeout_s`` (waiting for a concurrency slot is not counted);
- size: ``Content-Length`` over the cap is refused before reading, and the body is counted *after*
  decompression while streaming, with zlib told never to produce more than the remaining allowance, so
  a gzip bomb costs at most ``max_bytes`` of memory;
- load: at most ``per_host`` requests in flight per host and ``concurrency`` fetches overall.
"""

from __future__ import annotations

import asyncio
import email.utils
import http
import math
import socket
import ssl
import zlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType, TracebackType
from typing import Final, Literal

import httpx

from jobs.urlguard import GuardedTransport, HostLookupError, UnsafeURLError, check_url, parse_networks

Outcome = Literal["ok", "not_modified", "gone", "error"]

ACCEPT: Final = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
# Only encodings we can inflate with a bounded output size using the standard library.
ACCEPT_ENCODING: Final = "gzip, deflate"
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_RETRY_AFTER_STATUSES: Final = frozenset({429, 503})
# These describe the bytes on the wire; FetchResult.body is already decoded, so they would mislead.
_WIRE_HEADERS: Final = frozenset({"content-encoding", "content-length", "transfer-encoding"})
_GZIP_MAGIC: Final = b"\x1f\x8b"


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for fetching feeds. ``allow_networks`` lists CIDR blocks exempt from the private-address
    rule (e.g. ``("127.0.0.1/32",)`` for a local RSS bridge, or a test server) without opening all of
    them as ``allow_private=True`` does. The default policy refuses every non-public address."""

    timeout_s: float = 30.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    per_host: int = 2
    concurrency: int = 16
    allow_private: bool = False
    user_agent: str = "NashraBot/0.1 (+https://github.com/nashra)"
    allow_networks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.timeout_s, bool) or not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            raise ValueError(f"timeout_s must be a positive number of seconds, got {self.timeout_s!r}")
        for name in ("max_bytes", "per_host", "concurrency"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if isinstance(self.max_redirects, bool) or not isinstance(self.max_redirects, int):
            raise ValueError(f"max_redirects must be an integer, got {self.max_redirects!r}")
        if self.max_redirects < 0:
            raise ValueError(f"max_redirects must be >= 0, got {self.max_redirects}")
        agent = self.user_agent
        if not agent.strip() or any(ord(ch) < 32 or ord(ch) == 127 for ch in agent) or not agent.isascii():
            raise ValueError("user_agent must be non-empty printable ASCII")
        if isinstance(self.allow_networks, str):
            raise ValueError("allow_networks must be a tuple of CIDR strings, not one string")
        parse_networks(self.allow_networks)


@dataclass(frozen=True)
class FetchResult:
    """What one fetch produced.

    ``etag`` and ``last_modified`` are the validators to store for the next conditional GET: the new
    ones after ``ok``, and otherwise the ones passed in (unless a 304 carried fresh ones), so callers can
    store them unconditionally. ``headers`` has lower-case names and omits Content-Encoding,
    Content-Length and Transfer-Encoding because ``body`` is already decoded. ``body`` is empty unless
    the outcome is ``ok``.
    """

    url: str
    final_url: str
    outcome: Outcome
    http_status: int | None
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    etag: str | None = None
    last_modified: str | None = None
    retry_after: float | None = None
    error: str | None = None


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP-date), or None if unusable.

    Dates in the past give 0. ``now`` must be timezone-aware; dates without a zone are read as UTC.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class _TooLarge(Exception):
    pass


class _BadEncoding(Exception):
    pass


class _Decoder:
    """Incremental Content-Encoding decoder whose output per call never exceeds ``limit`` bytes.

    ``limit`` is the caller's remaining allowance plus one: a full-sized answer means "over the cap",
    and because zlib stops at ``max_length`` the rest of a bomb is never inflated.
    """

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._wbits = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}.get(encoding, 0)
        self._zlib = zlib.decompressobj(self._wbits) if self._wbits else None
        self._produced = False  # some output came out (then a "deflate" wrapper guess is settled)
        self._fed = False  # some input went in (then the stream must reach its end)

    def decode(self, data: bytes, limit: int) -> bytes:
        if self._zlib is None:
            return data
        out = bytearray()
        pending = data
        self._fed = self._fed or bool(data)
        while pending and len(out) < limit:
            if self._zlib.eof:
                if self._encoding != "gzip" or not pending.startswith(_GZIP_MAGIC):
                    break  # trailing garbage after the stream: ignored, like browsers do
                self._zlib = zlib.decompressobj(self._wbits)  # next gzip member
            try:
                out += self._zlib.decompress(pending, limit - len(out))
            except zlib.error as exc:
                if self._encoding == "deflate" and not self._produced and self._wbits == zlib.MAX_WBITS:
                    # "deflate" is often sent raw, without the zlib wrapper the RFC asks for.
                    self._wbits = -zlib.MAX_WBITS
                    self._zlib = zlib.decompressobj(self._wbits)
                    continue
                raise _BadEncoding(f"could not decode the {self._encoding} body ({exc})") from None
            self._produced = self._produced or bool(out)
            # Below max_length zlib has consumed all input unless the stream ended.
            pending = self._zlib.unused_data if self._zlib.eof else b""
        return bytes(out)

    def finish(self) -> None:
        if self._zlib is not None and self._fed and not self._zlib.eof:
            raise _BadEncoding(f"the {self._encoding} body was cut off before its end")


def _decoder_for(header: str | None) -> _Decoder:
    codings = [c.strip().lower() for c in (header or "").split(",")]
    codings = [{"x-gzip": "gzip"}.get(c, c) for c in codings if c and c != "identity"]
    if not codings:
        return _Decoder("identity")
    if len(codings) > 1 or codings[0] not in ("gzip", "deflate"):
        raise _BadEncoding(f"unsupported Content-Encoding {header!r}")
    return _Decoder(codings[0])


@dataclass
class _HostSlot:
    semaphore: asyncio.Semaphore
    users: int = 0


@dataclass(frozen=True)
class _Hop:
    """One request/response of a redirect chain, with the body already read when it is wanted."""

    url: str
    status: int
    reason: str
    headers: httpx.Headers
    body: bytes = b""


class Fetcher:
    """Owns one ``httpx.AsyncClient`` for all fetches; use as ``async with Fetcher(policy) as f``.

    ``transport`` replaces the default :class:`~jobs.urlguard.GuardedTransport`; a replacement skips the
    connect-time address check (``httpx.MockTransport`` in unit tests), while URL checks still apply.
    Safe to call ``fetch`` from many tasks at once on one event loop.
    """

    def __init__(self, policy: FetchPolicy, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._policy = policy
        self._networks = parse_networks(policy.allow_networks)
        limits = httpx.Limits(
            max_connections=policy.concurrency, max_keepalive_connections=policy.concurrency
        )
        if transport is None:
            transport = GuardedTransport(
                allow_private=policy.allow_private, allow_networks=self._networks, limits=limits
            )
        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            timeout=httpx.Timeout(policy.timeout_s),
            trust_env=False,
            headers={
                "User-Agent": policy.user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
        )
        self._global = asyncio.Semaphore(policy.concurrency)
        self._hosts: dict[str, _HostSlot] = {}
        self._primed: dict[tuple[str, str | None, str | None], FetchResult | asyncio.Future[FetchResult]] = {}

    @property
    def policy(self) -> FetchPolicy:
        return self._policy

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client; fetches primed but never asked for are cancelled (or their answers dropped)."""
        pending = [p for p in self._primed.values() if isinstance(p, asyncio.Future)]
        self._primed.clear()
        for future in pending:
            future.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self._client.aclose()

    def prime(self, result: FetchResult, *, etag: str | None, last_modified: str | None) -> None:
        """Let the next ``fetch`` of ``result.url`` with these validators return ``result``, no request.

        For a caller that fetched a feed already and hands over to code that will fetch it again
        (``nashra fetch`` looks at every feed before deciding whether the full pass is needed): the
        server is asked once, and a body it sent is not downloaded twice.
        """
        self._primed[(result.url, etag, last_modified)] = result

    def fetch_ahead(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> asyncio.Task[FetchResult]:
        """Start ``fetch`` now, for code that will ask for it later: the next ``fetch`` with these same
        arguments waits for this one instead of sending a request. Cancelled by ``aclose`` if nobody asks."""
        task = asyncio.ensure_future(self._fetch(url, etag=etag, last_modified=last_modified))
        self._primed[(url, etag, last_modified)] = task
        return task

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET ``url`` (conditionally when validators are given) and classify the answer.

        Outcomes: ``ok`` (2xx, body read), ``not_modified`` (304), ``gone`` (410), ``error`` (everything
        else, with ``error`` set; ``retry_after`` set on 429/503 when the server says when to return).
        A result handed over with ``prime`` (or started with ``fetch_ahead``) for these same arguments is
        returned instead, once.
        """
        primed = self._primed.pop((url, etag, last_modified), None)
        if isinstance(primed, asyncio.Future):
            return await primed
        if primed is not None:
            return primed
        return await self._fetch(url, etag=etag, last_modified=last_modified)

    async def _fetch(self, url: str, *, etag: str | None, last_modified: str | None) -> FetchResult:
        policy = self._policy

        def failure(final_url: str, message: str, status: int | None = None) -> FetchResult:
            return FetchResult(
                url=url,
                final_url=final_url,
                outcome="error",
                http_status=status,
                etag=etag,
                last_modified=last_modified,
                error=message,
            )

        try:
            current = check_url(url, allow_private=policy.allow_private, allow_networks=self._networks)
        except UnsafeURLError as exc:
            return failure(url, f"unsafe URL: {exc}")

        # Validators come back from storage; one that cannot be sent as a header is dropped, not fatal.
        headers = {}
        if etag and _sendable(etag):
            headers["If-None-Match"] = etag
        if last_modified and _sendable(last_modified):
            headers["If-Modified-Since"] = last_modified

        async with self._global:
            budget = policy.timeout_s
            visited = {current}
            loop = asyncio.get_running_loop()
            while True:
                async with self._host_slot(httpx.URL(current).host):
                    started = loop.time()
                    try:
                        if budget <= 0:
                            raise TimeoutError
                        async with asyncio.timeout(budget):
                            hop = await self._request(current, headers)
                    except TimeoutError:
                        return failure(current, f"timed out after {policy.timeout_s:g} s")
                    except UnsafeURLError as exc:
                        return failure(current, f"unsafe URL: {exc}")
                    except _TooLarge:
                        return failure(current, f"response larger than the {_size(policy.max_bytes)} limit")
                    except _BadEncoding as exc:
                        return failure(current, str(exc))
                    except (httpx.HTTPError, OSError) as exc:
                        return failure(current, _describe_network_error(exc, current))
                    budget -= loop.time() - started

                if hop.status not in _REDIRECTS:
                    return self._classify(url, hop, etag, last_modified)
                location = hop.headers.get("location")
                if not location:
                    return failure(current, f"HTTP {hop.status} redirect without Location", hop.status)
                try:
                    target = str(httpx.URL(current).join(location))
                    target = check_url(
                        target, allow_private=policy.allow_private, allow_networks=self._networks
                    )
                except (UnsafeURLError, httpx.InvalidURL) as exc:
                    return failure(current, f"redirect to an unsafe URL refused: {exc}", hop.status)
                if target in visited:
                    return failure(current, f"redirect loop: {target} was already visited", hop.status)
                if len(visited) > policy.max_redirects:
                    return failure(
                        current, f"too many redirects (more than {policy.max_redirects})", hop.status
                    )
                visited.add(target)
                current = target

    async def _request(self, url: str, headers: Mapping[str, str]) -> _Hop:
        async with self._client.stream("GET", url, headers=headers) as response:
            body = b""
            if 200 <= response.status_code < 300:
                body = await self._read_body(response)
            return _Hop(
                url=str(response.url),
                status=response.status_code,
                reason=response.reason_phrase,
                headers=response.headers,
                body=body,
            )

    async def _read_body(self, response: httpx.Response) -> bytes:
        cap = self._policy.max_bytes
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > cap:
            raise _TooLarge
        if response.is_stream_consumed:
            # Built in memory (httpx.MockTransport with content=...): httpx has already decoded it.
            if len(response.content) > cap:
                raise _TooLarge
            return response.content
        decoder = _decoder_for(response.headers.get("content-encoding"))
        body = bytearray()
        async for chunk in response.aiter_raw():
            body += decoder.decode(chunk, cap - len(body) + 1)
            if len(body) > cap:
                raise _TooLarge
        decoder.finish()
        return bytes(body)

    def _classify(self, url: str, hop: _Hop, etag: str | None, last_modified: str | None) -> FetchResult:
        status = hop.status
        headers = MappingProxyType(
            {name.lower(): value for name, value in hop.headers.items() if name.lower() not in _WIRE_HEADERS}
        )
        new_etag = hop.headers.get("etag")
        new_modified = hop.headers.get("last-modified")
        if 200 <= status < 300:
            outcome: Outcome = "ok"
            body, etag, last_modified = hop.body, new_etag, new_modified
        elif status == 304:
            outcome, body = "not_modified", b""
            etag, last_modified = new_etag or etag, new_modified or last_modified
        elif status == 410:
            outcome, body = "gone", b""
        else:
            outcome, body = "error", b""
        retry_after = error = None
        if outcome == "error":
            if status in _RETRY_AFTER_STATUSES:
                retry_after = parse_retry_after(hop.headers.get("retry-after"), datetime.now(UTC))
            error = f"HTTP {status} {hop.reason or _reason(status)}".rstrip()
            if retry_after is not None:
                error += f" (retry after {retry_after:g} s)"
        return FetchResult(
            url=url,
            final_url=hop.url,
            outcome=outcome,
            http_status=status,
            body=body,
            headers=headers,
            etag=etag,
            last_modified=last_modified,
            retry_after=retry_after,
            error=error,
        )

    @asynccontextmanager
    async def _host_slot(self, host: str) -> AsyncIterator[None]:
        """Hold one of ``per_host`` slots for ``host``; slots of idle hosts are forgotten."""
        key = host.lower()
        slot = self._hosts.get(key)
        if slot is None:
            slot = self._hosts[key] = _HostSlot(asyncio.Semaphore(self._policy.per_host))
        slot.users += 1
        try:
            async with slot.semaphore:
                yield
        finally:
            slot.users -= 1
            if slot.users == 0:
                del self._hosts[key]


def _sendable(value: str) -> bool:
    return value.isascii() and value.isprintable()


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _size(n: int) -> str:
    if n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} bytes"


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, its causes/contexts, and members of exception groups, outermost first."""
    seen: list[BaseException] = []
    stack = [exc]
    while stack:
        current = stack.pop(0)
        if any(current is s for s in seen):
            continue
        seen.append(current)
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        for nxt in (current.__cause__, current.__context__):
            if nxt is not None:
                stack.append(nxt)
    return seen


def _describe_network_error(exc: BaseException, url: str) -> str:
    """A short operator-facing sentence for a transport failure, from the most telling cause."""
    parsed = httpx.URL(url)
    where = f"{parsed.host}:{parsed.port or (443 if parsed.scheme == 'https' else 80)}"
    chain = _causes(exc)
    for cause in chain:
        if isinstance(cause, HostLookupError):
            return str(cause)
        if isinstance(cause, socket.gaierror):
            return f"DNS lookup failed for {parsed.host!r}: {cause.strerror or cause}"
    for cause in chain:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate of {parsed.host} rejected: {cause.verify_message or cause.reason}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake with {where} failed: {cause.reason or cause}"
    for cause in chain:
        if isinstance(cause, ConnectionRefusedError):
            return f"connection refused by {where}"
        if isinstance(cause, httpx.TimeoutException | TimeoutError):
            return f"timed out talking to {where}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"broken HTTP response from {where}: {exc}"
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect to {where}: {exc or type(exc).__name__}"
    if isinstance(exc, httpx.ReadError):
        return f"connection to {where} broke while reading: {exc or type(exc).__name__}"
    return f"network error with {where}: {type(exc).__name__}: {exc}"
