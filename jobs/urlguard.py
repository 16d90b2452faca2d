"""Address rules for untrusted feed URLs (server-side request forgery guard).

Feed URLs come from chat admins, so the bot must not become a proxy into its own network: no
``http://169.254.169.254/`` cloud metadata, no ``http://10.0.0.5/admin``, no ``http://localhost:5432``.
Two layers enforce that:

1. :func:`check_url` looks at the URL text only (no DNS): scheme, host, credentials, port, IP literals,
   and oddly spelled numeric hosts such as ``2130706433`` or ``0x7f.1`` (the C resolver turns those into
   127.0.0.1; no real feed needs them, so they are refused outright).
2. :class:`GuardedTransport` resolves each host **once** when it opens a connection, refuses the
   connection if *any* resolved address is not public (:func:`resolve_and_check`), and then connects to
   the checked address itself. TLS still uses the host name for SNI and certificate checks and the
   ``Host`` header still carries the name, because httpcore takes both from the request URL, not from
   the socket. So a DNS answer that changes between "check" and "connect" (DNS rebinding) cannot steer
   the socket elsewhere: there is no second lookup.

What this module does not do: it does not follow redirects (the fetcher re-checks each hop with
:func:`check_url`, and every new connection passes through the transport again), and it does not
restrict ports beyond 1-65535.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
import urllib.parse
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from types import TracebackType
from typing import Final

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH: Final = 2048
_SCHEMES: Final = frozenset({"http", "https"})
# After IDNA encoding (done by httpx) a DNS name is ASCII letters, digits, hyphens and dots; underscores
# appear in some real host names. Anything else ("%", "\", spaces) is refused rather than interpreted.
_HOST_CHARS: Final = re.compile(r"^[a-z0-9._-]+$")
_NUMERIC_LABEL: Final = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_CANONICAL_OCTET: Final = re.compile(r"^(0|[1-9][0-9]{0,2})$")


class UnsafeURLError(ValueError):
    """A feed URL or the address it resolves to is refused; the message says why, in English."""


def _nets(*specs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(s) for s in specs)


# Ordered: the first matching entry names the problem. Entries that embed an IPv4 address (mapped,
# NAT64, 6to4) are handled before this table by checking the embedded address.
_BLOCKED: Final[tuple[tuple[tuple[IPNetwork, ...], str], ...]] = (
    (_nets("0.0.0.0/8", "::/128"), "unspecified"),
    (_nets("127.0.0.0/8", "::1/128"), "loopback"),
    (_nets("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"), "private (RFC 1918)"),
    (_nets("100.64.0.0/10"), "carrier-grade NAT (RFC 6598)"),
    (_nets("169.254.0.0/16", "fe80::/10"), "link-local"),
    (_nets("224.0.0.0/4", "ff00::/8"), "multicast"),
    (_nets("255.255.255.255/32"), "broadcast"),
    (_nets("240.0.0.0/4"), "reserved"),
    (_nets("192.0.0.0/24", "2001::/23"), "IETF protocol assignment"),
    (_nets("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"), "documentation"),
    (_nets("198.18.0.0/15"), "benchmarking"),
    (_nets("192.88.99.0/24"), "6to4 relay anycast"),
    (_nets("fc00::/7"), "unique-local IPv6"),
    (_nets("fec0::/10"), "site-local IPv6"),
    (_nets("64:ff9b:1::/48"), "local-use NAT64"),
    (_nets("100::/64"), "discard-only IPv6"),
    (_nets("::/96"), "IPv4-compatible IPv6"),
)
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")


def address_problem(ip: IPAddress | str) -> str | None:
    """Why ``ip`` is not a public unicast address (e.g. ``"loopback"``), or ``None`` if it is.

    IPv6 forms that carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``,
    6to4 ``2002::/16``) are judged by the IPv4 address they lead to. Python's own ``is_global`` and
    friends are consulted last as a safety net, but the explicit table decides the wording because those
    properties changed between Python releases.
    """
    addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(addr, ipaddress.IPv6Address):
        embedded: ipaddress.IPv4Address | None = addr.ipv4_mapped or addr.sixtofour
        kind = "IPv4-mapped" if addr.ipv4_mapped else "6to4"
        if embedded is None and addr in _NAT64:
            embedded, kind = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF), "NAT64"
        if embedded is not None:
            inner = address_problem(embedded)
            if inner is not None:
                return f"{kind} IPv6 of a {inner} address"
            if kind != "6to4":  # mapped and NAT64 addresses lead exactly to the embedded one
                return None
        if addr.teredo is not None:
            return "Teredo tunnel"
    for networks, reason in _BLOCKED:
        if any(addr in net for net in networks):
            return reason
    if addr.is_multicast:
        return "multicast"
    if addr.is_reserved or addr.is_private or not addr.is_global:
        return "not globally routable"
    return None


def is_public_address(ip: IPAddress | str) -> bool:
    """True when a socket to ``ip`` would leave the machine's own networks (see :func:`address_problem`)."""
    return address_problem(ip) is None


def parse_networks(specs: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Parse CIDR strings (``"127.0.0.1/32"``) into networks; host bits must be zero."""
    try:
        return tuple(ipaddress.ip_network(spec, strict=True) for spec in specs)
    except ValueError as exc:
        raise ValueError(f"invalid network in allow-list: {exc}") from None


def _refusal(ip: IPAddress, *, allow_private: bool, allow_networks: Sequence[IPNetwork]) -> str | None:
    if allow_private or any(ip.version == net.version and ip in net for net in allow_networks):
        return None
    return address_problem(ip)


def _odd_numeric_host(host: str) -> bool:
    """True when a resolver would read ``host`` as an IPv4 number but it is not a plain dotted quad.

    Mirrors the WHATWG URL rule "ends in a number": if the last label is decimal or ``0x`` hex, the
    C library (``inet_aton``) treats the whole host as an address, accepting ``2130706433``, ``0x7f.1``,
    ``0177.0.0.1`` and ``127.1`` for 127.0.0.1.
    """
    labels = host.rstrip(".").split(".") if host != "." else [""]
    if not labels or not _NUMERIC_LABEL.match(labels[-1]):
        return False
    canonical = (
        len(labels) == 4
        and not host.endswith(".")
        and all(_CANONICAL_OCTET.match(label) and int(label) <= 255 for label in labels)
    )
    return not canonical


def check_url(url: str, *, allow_private: bool, allow_networks: Sequence[IPNetwork] = ()) -> str:
    """Validate an untrusted feed URL by its text alone and return it normalized.

    Normalized means: parsed by httpx (the same parser that later opens the connection), scheme and
    host lower-cased, internationalized host names IDNA-encoded, default port and fragment dropped,
    empty path made ``/``. Refuses non-HTTP(S) schemes, missing hosts, user:password@ credentials, ports
    outside 1-65535, oddly spelled numeric hosts, and IP literals that are not public (unless
    ``allow_private`` or the address is inside ``allow_networks``). Host names are not resolved here; see
    :func:`resolve_and_check` and :class:`GuardedTransport` for that.
    """
    if not isinstance(url, str):
        raise UnsafeURLError("the URL must be text")
    text = url.strip()
    if not text:
        raise UnsafeURLError("the URL is empty")
    if len(text) > MAX_URL_LENGTH:
        raise UnsafeURLError(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text) or "\\" in text:
        raise UnsafeURLError("the URL contains spaces, control characters or backslashes")
    try:
        split = urllib.parse.urlsplit(text)
        raw_host = (split.hostname or "").lower()
    except ValueError as exc:
        raise UnsafeURLError(f"not a valid URL ({exc})") from None
    if raw_host and ":" not in raw_host and _odd_numeric_host(raw_host):
        raise UnsafeURLError(f"numeric host spelled oddly: {raw_host!r} (write addresses as a.b.c.d)")
    try:
        parsed = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise UnsafeURLError(f"not a valid URL ({exc})") from None
    if parsed.scheme not in _SCHEMES:
        shown = parsed.scheme or "none"
        raise UnsafeURLError(f"only http and https URLs are allowed, not scheme {shown!r}")
    if parsed.userinfo:
        raise UnsafeURLError("URLs with a user name or password (user:pass@host) are not allowed")
    host = parsed.raw_host.decode("ascii").lower()
    if not host:
        raise UnsafeURLError("the URL has no host")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise UnsafeURLError(f"port {parsed.port} is out of range (1-65535)")
    if ":" in host:  # httpx keeps IPv6 literals without brackets in .host
        if "%" in host:
            raise UnsafeURLError(f"IPv6 zone identifiers are refused ({host!r})")
        try:
            literal: IPAddress | None = ipaddress.IPv6Address(host)
        except ValueError:
            raise UnsafeURLError(f"invalid IPv6 address {host!r}") from None
    else:
        if not _HOST_CHARS.match(host) or ".." in host or host.startswith("."):
            raise UnsafeURLError(f"the host name {host!r} is not valid")
        if _odd_numeric_host(host):
            raise UnsafeURLError(f"numeric host spelled oddly: {host!r} (write addresses as a.b.c.d)")
        try:
            literal = ipaddress.IPv4Address(host)
        except ValueError:
            literal = None
    if literal is not None:
        problem = _refusal(literal, allow_private=allow_private, allow_networks=allow_networks)
        if problem is not None:
            raise UnsafeURLError(f"address {literal} is {_article(problem)} address")
    normalized = parsed.copy_with(fragment=None)
    if not urllib.parse.urlsplit(str(normalized)).path:  # "http://example.com?q" -> "http://example.com/?q"
        normalized = normalized.copy_with(path="/")
    return str(normalized)


def _article(problem: str) -> str:
    return ("an " if problem[0].lower() in "aeiou" else "a ") + problem


async def resolve_and_check(
    host: str, port: int, *, allow_private: bool, allow_networks: Sequence[IPNetwork] = ()
) -> list[IPAddress]:
    """Resolve ``host`` with the running loop's ``getaddrinfo`` and return its addresses, all checked.

    Refuses (``UnsafeURLError``) when ANY address is not public, because a client may pick any of them
    and an attacker controls the order. Numeric spellings (``2130706433``) are understood by
    ``getaddrinfo`` and therefore checked as the address they mean. DNS failures propagate as
    ``socket.gaierror`` (an ``OSError``). Addresses are returned in resolver order, without duplicates;
    connect to these, never to the name, or the check means nothing.
    """
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, f"no IPv4 or IPv6 address for {host!r}")
    for ip in addresses:
        problem = _refusal(ip, allow_private=allow_private, allow_networks=allow_networks)
        if problem is not None:
            raise UnsafeURLError(f"host {host!r} resolves to {ip}, {_article(problem)} address")
    return addresses


class HostLookupError(httpcore.ConnectError):
    """DNS resolution failed; carries the host so operators see which name did not resolve."""


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend that resolves, checks, then connects to the checked address.

    ``inner`` does the actual socket work (default ``httpcore.AnyIOBackend``); it is only ever given IP
    literals, so it never resolves anything itself. Addresses are tried in resolver order (no parallel
    "happy eyeballs"); the first that accepts the connection wins, and every attempt but the last gets
    an equal share of the connect timeout.
    """

    def __init__(
        self,
        *,
        allow_private: bool,
        allow_networks: Sequence[IPNetwork] = (),
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._allow_private = allow_private
        self._allow_networks = tuple(allow_networks)
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await resolve_and_check(
                host, port, allow_private=self._allow_private, allow_networks=self._allow_networks
            )
        except socket.gaierror as exc:
            raise HostLookupError(f"DNS lookup failed for {host!r}: {exc.strerror or exc}") from exc
        last_error: Exception | None = None
        for i, ip in enumerate(addresses):
            # With several addresses, a black-holed first one must not eat the whole connect timeout.
            last = i == len(addresses) - 1
            attempt_timeout = timeout if timeout is None or last else timeout / len(addresses)
            try:
                return await self._inner.connect_tcp(
                    str(ip),
                    port,
                    timeout=attempt_timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None  # addresses is never empty
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise UnsafeURLError("unix sockets are not allowed for feed fetching")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


# Most specific first: the first match wins.
_EXCEPTIONS: Final[tuple[tuple[type[Exception], type[httpx.TransportError]], ...]] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
)


def _as_httpx_error(exc: Exception) -> Exception:
    for core_type, httpx_type in _EXCEPTIONS:
        if isinstance(exc, core_type):
            return httpx_type(str(exc))
    return exc


class _GuardedStream(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for part in self._stream:
                yield part
        except Exception as exc:
            mapped = _as_httpx_error(exc)
            if mapped is exc:
                raise
            raise mapped from exc

    async def aclose(self) -> None:
        aclose = getattr(self._stream, "aclose", None)
        if aclose is not None:
            await aclose()


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport whose every new connection goes through :class:`GuardedNetworkBackend`.

    A thin adapter from httpx requests to an ``httpcore.AsyncConnectionPool`` built with the guarded
    backend (httpx 0.28 offers no public hook for a network backend, so this does what
    ``httpx.AsyncHTTPTransport`` does, minus proxies, unix sockets and environment settings, which a
    feed fetcher must not pick up). ``verify`` is ``True`` (system CA bundle via certifi), ``False``, or
    an ``ssl.SSLContext`` (tests pass one that trusts their own certificate).
    """

    def __init__(
        self,
        *,
        allow_private: bool,
        allow_networks: Sequence[IPNetwork] = (),
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        limits = limits if limits is not None else httpx.Limits()
        ssl_context = (
            verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        )
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(
                allow_private=allow_private, allow_networks=allow_networks, inner=network_backend
            ),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            response = await self._pool.handle_async_request(core_request)
        except Exception as exc:
            mapped = _as_httpx_error(exc)
            if mapped is exc:
                raise
            raise mapped from exc
        assert isinstance(response.stream, AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_GuardedStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def __aenter__(self) -> GuardedTransport:
        await self._pool.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self._pool.__aexit__(exc_type, exc_value, traceback)
