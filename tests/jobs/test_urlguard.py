"""The address guard: URL text rules, resolved-address rules, and connect-to-the-checked-address.

No test here resolves a real name or opens a socket off this machine: names are answered by a stub
``getaddrinfo`` and refusals are asserted to happen before any connection attempt.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable

import httpcore
import pytest

from jobs.urlguard import (
    GuardedNetworkBackend,
    HostLookupError,
    UnsafeURLError,
    address_problem,
    check_url,
    is_public_address,
    parse_networks,
    resolve_and_check,
)
from tests.feedserver import FakeDNS, fake_dns_fixture  # noqa: F401

# --- is_public_address / address_problem ------------------------------------------------------------


@pytest.mark.parametrize(
    "ip",
    [
        "8.8.8.8",
        "1.1.1.1",
        "151.101.1.69",
        "2606:4700:4700::1111",
        "2a00:1450:4001:80b::200e",
        "::ffff:8.8.8.8",  # IPv4-mapped form of a public address
        "2002:808:808::1",  # 6to4 of 8.8.8.8
        "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    ],
)
def test_public_addresses_are_allowed(ip: str) -> None:
    assert is_public_address(ip)
    assert is_public_address(ipaddress.ip_address(ip))
    assert address_problem(ip) is None


@pytest.mark.parametrize(
    ("ip", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.1.2.3", "private (RFC 1918)"),
        ("172.16.0.1", "private (RFC 1918)"),
        ("172.31.255.255", "private (RFC 1918)"),
        ("192.168.1.1", "private (RFC 1918)"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("192.0.0.8", "IETF protocol assignment"),
        ("192.0.2.1", "documentation"),
        ("198.51.100.7", "documentation"),
        ("203.0.113.9", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "unique-local IPv6"),
        ("fd12:3456::1", "unique-local IPv6"),
        ("fec0::1", "site-local IPv6"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "documentation"),
        ("::ffff:127.0.0.1", "IPv4-mapped IPv6 of a loopback"),
        ("::ffff:10.0.0.1", "IPv4-mapped IPv6 of a private (RFC 1918)"),
        ("::ffff:169.254.169.254", "IPv4-mapped IPv6 of a link-local"),
        ("::127.0.0.1", "IPv4-compatible IPv6"),
        ("64:ff9b::a9fe:a9fe", "NAT64 IPv6 of a link-local"),
        ("64:ff9b:1::1", "local-use NAT64"),
        ("2002:7f00:1::1", "6to4 IPv6 of a loopback"),
        ("2002:a00:1::1", "6to4 IPv6 of a private"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
        ("100::1", "discard-only"),
    ],
)
def test_non_public_addresses_are_refused_with_a_reason(ip: str, reason: str) -> None:
    assert not is_public_address(ip)
    problem = address_problem(ip)
    assert problem is not None
    assert problem.startswith(reason)


# --- check_url: accepted and normalized ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("https://example.com/feed.xml", "https://example.com/feed.xml"),
        ("HTTPS://Example.COM/Feed.xml#top", "https://example.com/Feed.xml"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com?q=1", "http://example.com/?q=1"),
        ("http://example.com:80/rss", "http://example.com/rss"),
        ("https://example.com:443/rss", "https://example.com/rss"),
        ("http://example.com:8080/rss?cat=1&x=2", "http://example.com:8080/rss?cat=1&x=2"),
        ("  https://example.com/rss \n", "https://example.com/rss"),
        ("https://أخبار.مثال/rss", "https://xn--igbicxr.xn--mgbh0fb/rss"),
        ("https://news_feed.example.com/rss", "https://news_feed.example.com/rss"),
        ("http://93.184.216.34/rss", "http://93.184.216.34/rss"),
        ("http://[2606:4700:4700::1111]/rss", "http://[2606:4700:4700::1111]/rss"),
        (
            "https://www.aljazeera.net/aljazeerarss/a7c186be-1baa-4bd4-9d80-a84db769f779/"
            "73d0e1b4-532f-45ef-b135-bfdff8b8cab9",
            "https://www.aljazeera.net/aljazeerarss/a7c186be-1baa-4bd4-9d80-a84db769f779/"
            "73d0e1b4-532f-45ef-b135-bfdff8b8cab9",
        ),
    ],
)
def test_check_url_accepts_and_normalizes(url: str, normalized: str) -> None:
    assert check_url(url, allow_private=False) == normalized
    assert check_url(normalized, allow_private=False) == normalized  # a fixed point


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/feed.xml", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("gopher://example.com:70/", "only http and https"),
        ("example.com/rss", "only http and https"),
        ("", "empty"),
        ("   ", "empty"),
        ("http:///rss", "no host"),
        ("http://user:secret@example.com/rss", "user name or password"),
        ("http://user@example.com/rss", "user name or password"),
        ("http://example.com:0/rss", "port 0 is out of range"),
        ("http://example.com:70000/rss", "port 70000 is out of range"),
        ("http://exa mple.com/rss", "spaces"),
        ("http://example.com/r\nss", "control characters"),
        ("http://evil.example\\@good.example/", "backslashes"),
        ("http://%31%32%37.0.0.1/", "spelled oddly"),
        ("http://example..com/", "not valid"),
        ("http://[fe80::1%25eth0]/", "zone identifiers"),
        ("http://" + "a" * 2100 + ".com/", "longer than"),
        ("http://127.0.0.1/", "127.0.0.1 is a loopback address"),
        ("http://127.0.0.1:5432/", "loopback"),
        ("http://10.0.0.1/", "private (RFC 1918)"),
        ("http://192.168.0.10/admin", "private (RFC 1918)"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://100.64.0.1/", "carrier-grade NAT"),
        ("http://0.0.0.0:8000/", "unspecified"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "IPv4-mapped IPv6 of a loopback"),
        ("http://[::ffff:a9fe:a9fe]/", "IPv4-mapped IPv6 of a link-local"),
        ("http://[fd00::1]/", "unique-local"),
        ("http://2130706433/", "numeric host spelled oddly"),
        ("http://0x7f000001/", "numeric host spelled oddly"),
        ("http://0x7f.1/", "numeric host spelled oddly"),
        ("http://0177.0.0.1/", "numeric host spelled oddly"),
        ("http://127.1/", "numeric host spelled oddly"),
        ("http://127.0.0.1./", "numeric host spelled oddly"),
        ("http://010.0.0.1/", "numeric host spelled oddly"),
        ("http://1.2.3.4.5/", "numeric host spelled oddly"),
        ("http://example.0x10/", "numeric host spelled oddly"),
    ],
)
def test_check_url_refuses(url: str, message: str) -> None:
    with pytest.raises(UnsafeURLError) as info:
        check_url(url, allow_private=False)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "url", ["http://2130706433/", "http://0x7f.1/", "http://0177.0.0.1/", "http://127.1/"]
)
def test_odd_numeric_hosts_are_refused_even_when_private_addresses_are_allowed(url: str) -> None:
    with pytest.raises(UnsafeURLError, match="numeric host spelled oddly"):
        check_url(url, allow_private=True)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/rss", "http://10.0.0.1/", "http://[::1]:8000/", "http://192.168.1.2/x"]
)
def test_allow_private_accepts_private_literals(url: str) -> None:
    assert check_url(url, allow_private=True).startswith("http://")


def test_host_names_are_not_judged_without_resolution() -> None:
    # "localhost" is caught where names are resolved (resolve_and_check), not by the text check.
    assert check_url("http://localhost:8080/", allow_private=False) == "http://localhost:8080/"


def test_allow_networks_admits_only_the_listed_block() -> None:
    nets = parse_networks(["127.0.0.1/32", "fd00:1::/64"])
    assert (
        check_url("http://127.0.0.1:9/x", allow_private=False, allow_networks=nets) == "http://127.0.0.1:9/x"
    )
    assert check_url("http://[fd00:1::5]/", allow_private=False, allow_networks=nets) == "http://[fd00:1::5]/"
    for url in ("http://127.0.0.2/", "http://10.0.0.1/", "http://[fd00:2::1]/"):
        with pytest.raises(UnsafeURLError):
            check_url(url, allow_private=False, allow_networks=nets)


@pytest.mark.parametrize("spec", ["127.0.0.1/8", "not-a-network", "10.0.0.0/33"])
def test_parse_networks_rejects_bad_specs(spec: str) -> None:
    with pytest.raises(ValueError, match="invalid network"):
        parse_networks([spec])


# --- resolve_and_check ----------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "0x7f.1", "0177.0.0.1", "127.1", "127.0.0.1"])
async def test_numeric_spellings_resolve_to_loopback_and_are_refused(host: str) -> None:
    # The real getaddrinfo parses these itself (inet_aton); nothing leaves the machine.
    with pytest.raises(UnsafeURLError, match=r"resolves to 127\.0\.0\.1, a loopback address"):
        await resolve_and_check(host, 80, allow_private=False)
    assert await resolve_and_check(host, 80, allow_private=True) == [ipaddress.IPv4Address("127.0.0.1")]


async def test_any_private_answer_refuses_the_host(fake_dns: FakeDNS) -> None:
    fake_dns["mixed.test"] = ["93.184.216.34", "10.0.0.7"]
    with pytest.raises(UnsafeURLError, match=r"'mixed.test' resolves to 10\.0\.0\.7, a private"):
        await resolve_and_check("mixed.test", 443, allow_private=False)
    fake_dns["v6.test"] = ["2606:4700:4700::1111", "fd00::1"]
    with pytest.raises(UnsafeURLError, match="unique-local"):
        await resolve_and_check("v6.test", 443, allow_private=False)
    fake_dns["meta.test"] = ["169.254.169.254"]
    with pytest.raises(UnsafeURLError, match="link-local"):
        await resolve_and_check("meta.test", 80, allow_private=False)


async def test_public_answers_come_back_in_order_without_duplicates(fake_dns: FakeDNS) -> None:
    fake_dns["news.test"] = ["93.184.216.34", "2606:2800:220:1::1", "93.184.216.34"]
    got = await resolve_and_check("news.test", 443, allow_private=False)
    assert got == [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("2606:2800:220:1::1")]


async def test_allow_private_and_allow_networks_on_resolved_addresses(fake_dns: FakeDNS) -> None:
    fake_dns["lan.test"] = ["10.0.0.7"]
    assert await resolve_and_check("lan.test", 80, allow_private=True) == [ipaddress.ip_address("10.0.0.7")]
    nets = parse_networks(["10.0.0.0/24"])
    assert await resolve_and_check("lan.test", 80, allow_private=False, allow_networks=nets) == [
        ipaddress.ip_address("10.0.0.7")
    ]
    fake_dns["lan2.test"] = ["10.0.1.7"]
    with pytest.raises(UnsafeURLError):
        await resolve_and_check("lan2.test", 80, allow_private=False, allow_networks=nets)


async def test_dns_failure_propagates_as_gaierror(fake_dns: FakeDNS) -> None:
    with pytest.raises(socket.gaierror):
        await resolve_and_check("nowhere.test", 80, allow_private=False)
    fake_dns["empty.test"] = []
    with pytest.raises(socket.gaierror, match="no IPv4 or IPv6 address"):
        await resolve_and_check("empty.test", 80, allow_private=False)


# --- GuardedNetworkBackend: refuse before connecting, connect to the checked address ------------------


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Records where sockets would go and fails every attempt with a connect error."""

    def __init__(self, fail_for: Callable[[str], bool] = lambda host: True) -> None:
        self.attempts: list[tuple[str, int]] = []
        self._fail_for = fail_for

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.attempts.append((host, port))
        if self._fail_for(host):
            raise httpcore.ConnectError(f"refused by stub: {host}")
        return httpcore.AsyncMockStream([])


async def test_backend_refuses_before_any_connection_attempt(fake_dns: FakeDNS) -> None:
    fake_dns["rebind.test"] = ["93.184.216.34", "169.254.169.254"]
    inner = RecordingBackend()
    backend = GuardedNetworkBackend(allow_private=False, inner=inner)
    with pytest.raises(UnsafeURLError, match=r"169\.254\.169\.254"):
        await backend.connect_tcp("rebind.test", 80, timeout=1)
    with pytest.raises(UnsafeURLError, match="loopback"):
        await backend.connect_tcp("2130706433", 80, timeout=1)
    assert inner.attempts == []


async def test_backend_connects_to_checked_addresses_never_the_name(fake_dns: FakeDNS) -> None:
    fake_dns["multi.test"] = ["93.184.216.34", "93.184.216.35"]
    inner = RecordingBackend(fail_for=lambda host: host == "93.184.216.34")
    backend = GuardedNetworkBackend(allow_private=False, inner=inner)
    stream = await backend.connect_tcp("multi.test", 443, timeout=1)
    assert isinstance(stream, httpcore.AsyncMockStream)
    # First address failed, second one used; both are the checked IPs, the name was resolved once.
    assert inner.attempts == [("93.184.216.34", 443), ("93.184.216.35", 443)]
    assert fake_dns.calls == ["multi.test"]


async def test_backend_reports_dns_failure_with_the_host_name(fake_dns: FakeDNS) -> None:
    backend = GuardedNetworkBackend(allow_private=False, inner=RecordingBackend())
    with pytest.raises(HostLookupError, match=r"DNS lookup failed for 'nowhere\.test'"):
        await backend.connect_tcp("nowhere.test", 80, timeout=1)


async def test_backend_refuses_unix_sockets() -> None:
    backend = GuardedNetworkBackend(allow_private=True, inner=RecordingBackend())
    with pytest.raises(UnsafeURLError, match="unix sockets"):
        await backend.connect_unix_socket("/var/run/docker.sock")
