"""The feed fetcher against a real loopback HTTP(S) server with the real httpx/httpcore stack.

Every test allows exactly the loopback address of the test server (``allow_networks``), so the
production rule (refuse private addresses) stays on for everything else: that is how a redirect from the
test server to 10.0.0.1 or 169.254.169.254 can be shown to be refused before any connection.
"""

from __future__ import annotations

import asyncio
import gzip
import ssl
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpcore
import httpx
import pytest

from jobs.fetcher import ACCEPT, Fetcher, FetchPolicy, FetchResult, _Decoder, parse_retry_after
from jobs.urlguard import GuardedTransport, parse_networks
from tests.feedserver import (
    FIXTURES,
    FakeDNS,
    FeedServer,
    Route,
    fake_dns_fixture,  # noqa: F401
    feed_server_fixture,  # noqa: F401
    gzip_bomb_bytes,
    http_date,
)

LOOPBACK_ONLY = ("127.0.0.1/32",)
TINY = FIXTURES / "fetch" / "tiny.rss"
CERT = FIXTURES / "fetch" / "feeds-test.pem"
KEY = FIXTURES / "fetch" / "feeds-test.key"


def policy(**overrides: object) -> FetchPolicy:
    settings: dict[str, object] = {"timeout_s": 5.0, "allow_networks": LOOPBACK_ONLY}
    settings.update(overrides)
    return FetchPolicy(**settings)  # type: ignore[arg-type]


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(policy()) as f:
        yield f


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Passes connections to the real anyio backend and remembers where each socket went."""

    def __init__(self) -> None:
        self.connected: list[tuple[str, int]] = []
        self._real = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connected.append((host, port))
        return await self._real.connect_tcp(host, port, timeout=timeout, local_address=local_address)

    async def sleep(self, seconds: float) -> None:
        await self._real.sleep(seconds)


# --- policy ------------------------------------------------------------------------------------------


def test_default_policy_refuses_private_networks() -> None:
    default = FetchPolicy()
    assert default.allow_private is False
    assert default.allow_networks == ()
    assert (default.timeout_s, default.max_bytes, default.max_redirects) == (30, 5 * 1024 * 1024, 5)
    assert (default.per_host, default.concurrency) == (2, 16)


@pytest.mark.parametrize(
    "bad",
    [
        {"timeout_s": 0},
        {"timeout_s": -1},
        {"timeout_s": float("nan")},
        {"timeout_s": float("inf")},
        {"max_bytes": 0},
        {"max_bytes": 1.5},
        {"max_redirects": -1},
        {"per_host": 0},
        {"concurrency": 0},
        {"concurrency": True},
        {"user_agent": ""},
        {"user_agent": "Bot\r\nX-Injected: 1"},
        {"allow_networks": ("127.0.0.1/8",)},
        {"allow_networks": "127.0.0.1/32"},
    ],
)
def test_policy_rejects_invalid_values(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FetchPolicy(**bad)  # type: ignore[arg-type]


async def test_default_policy_refuses_the_loopback_server_without_sending_anything(
    feed_server: FeedServer,
) -> None:
    url = feed_server.route("/feed.xml", body="<rss/>")
    async with Fetcher(FetchPolicy(timeout_s=2)) as f:
        result = await f.fetch(url)
    assert result.outcome == "error"
    assert result.error is not None and "unsafe URL" in result.error and "loopback" in result.error
    assert feed_server.requests == []


async def test_unsafe_urls_become_error_results(fetcher: Fetcher) -> None:
    for url in ("ftp://example.com/x", "http://user:pw@example.com/", "http://2130706433/", "not a url"):
        result = await fetcher.fetch(url)
        assert result.outcome == "error"
        assert result.error is not None and result.error.startswith("unsafe URL")
        assert result.url == url and result.body == b"" and result.http_status is None


# --- plain and conditional GET -----------------------------------------------------------------------


async def test_fetches_a_static_feed_with_validators_and_polite_headers(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    url = feed_server.url("/fetch/tiny.rss")
    result = await fetcher.fetch(url)
    assert result.outcome == "ok"
    assert result.http_status == 200
    assert result.body == TINY.read_bytes()
    assert result.url == result.final_url == url
    assert result.etag is not None and result.etag.startswith('"')
    assert result.last_modified is not None and result.last_modified.endswith("GMT")
    assert result.headers["content-type"] == "application/rss+xml"
    assert all(name == name.lower() for name in result.headers)
    assert result.error is None and result.retry_after is None
    (request,) = feed_server.requests
    assert request.headers["accept"] == ACCEPT
    assert request.headers["user-agent"] == FetchPolicy().user_agent
    assert request.headers["accept-encoding"] == "gzip, deflate"
    assert "if-none-match" not in request.headers and "if-modified-since" not in request.headers


async def test_etag_gives_not_modified_and_keeps_validators(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    url = feed_server.url("/fetch/tiny.rss")
    first = await fetcher.fetch(url)
    again = await fetcher.fetch(url, etag=first.etag, last_modified=first.last_modified)
    assert again.outcome == "not_modified"
    assert again.http_status == 304
    assert again.body == b""
    assert (again.etag, again.last_modified) == (first.etag, first.last_modified)
    sent = feed_server.requests[-1].headers
    assert sent["if-none-match"] == first.etag
    assert sent["if-modified-since"] == first.last_modified


async def test_last_modified_alone_gives_not_modified(feed_server: FeedServer, fetcher: Fetcher) -> None:
    stamp = http_date(time.time() - 3600)
    url = feed_server.route("/lm.xml", body="<rss/>", last_modified=stamp)
    result = await fetcher.fetch(url, last_modified=stamp)
    assert result.outcome == "not_modified"
    assert feed_server.requests_for("/lm.xml")[0].headers["if-modified-since"] == stamp
    older = http_date(time.time() - 7200)
    changed = await fetcher.fetch(url, last_modified=older)
    assert changed.outcome == "ok" and changed.body == b"<rss/>" and changed.last_modified == stamp


async def test_changed_etag_gives_new_body_and_new_validator(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    url = feed_server.route("/e.xml", body="<rss>v2</rss>", etag='"v2"')
    result = await fetcher.fetch(url, etag='"v1"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    assert result.outcome == "ok"
    assert result.body == b"<rss>v2</rss>"
    assert result.etag == '"v2"'
    assert result.last_modified is None


async def test_unsendable_validators_are_dropped_not_fatal(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route("/v.xml", body="<rss/>", etag='"v"')
    result = await fetcher.fetch(url, etag='"خبر"', last_modified="Mon, 01 Jan 2024\r\nX-Evil: 1")
    assert result.outcome == "ok"
    sent = feed_server.requests[0].headers
    assert "if-none-match" not in sent and "if-modified-since" not in sent and "x-evil" not in sent


async def test_bare_304_keeps_the_callers_validators(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.handle("/bare304", lambda request: Route(status=304))
    result = await fetcher.fetch(url, etag='"abc"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    assert result.outcome == "not_modified"
    assert result.etag == '"abc"'
    assert result.last_modified == "Mon, 01 Jan 2024 00:00:00 GMT"


# --- content encodings and size cap ------------------------------------------------------------------

FEED = (
    "<rss><channel><title>نشرة</title>" + "<item><title>خبر</title></item>" * 200 + "</channel></rss>"
).encode()


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
async def test_compressed_bodies_are_decoded(
    feed_server: FeedServer, fetcher: Fetcher, encoding: str
) -> None:
    url = feed_server.route("/c.xml", body=FEED, encoding=encoding, content_type="application/rss+xml")  # type: ignore[arg-type]
    result = await fetcher.fetch(url)
    assert result.outcome == "ok"
    assert result.body == FEED
    assert "content-encoding" not in result.headers and "content-length" not in result.headers


async def test_multi_member_gzip_is_decoded(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route(
        "/mm.xml",
        body=gzip.compress(b"<rss>") + gzip.compress(b"</rss>"),
        headers={"Content-Encoding": "gzip"},
    )
    result = await fetcher.fetch(url)
    assert (result.outcome, result.body) == ("ok", b"<rss></rss>")


@pytest.mark.parametrize(
    ("body", "encoding", "message"),
    [
        (b"<rss>plain text</rss>", "gzip", "could not decode the gzip body"),
        (gzip.compress(FEED)[:60], "gzip", "cut off"),
        (gzip.compress(FEED)[:5], "gzip", "cut off"),
        (b"whatever", "br", "unsupported Content-Encoding 'br'"),
        (b"whatever", "gzip, gzip", "unsupported Content-Encoding"),
    ],
)
async def test_bad_encodings_are_errors(
    feed_server: FeedServer, fetcher: Fetcher, body: bytes, encoding: str, message: str
) -> None:
    url = feed_server.route("/bad", body=body, headers={"Content-Encoding": encoding})
    result = await fetcher.fetch(url)
    assert result.outcome == "error"
    assert result.error is not None and message in result.error
    assert result.body == b""


@pytest.mark.parametrize("encoding", [None, "gzip"])
async def test_size_cap_is_exact_after_decompression(feed_server: FeedServer, encoding: str | None) -> None:
    cap = 10_000
    async with Fetcher(policy(max_bytes=cap)) as f:
        at_cap = feed_server.route("/at", body=b"a" * cap, encoding=encoding)  # type: ignore[arg-type]
        over = feed_server.route("/over", body=b"a" * (cap + 1), encoding=encoding)  # type: ignore[arg-type]
        ok, too_big = await f.fetch(at_cap), await f.fetch(over)
    assert ok.outcome == "ok" and len(ok.body) == cap
    assert too_big.outcome == "error"
    assert too_big.error == "response larger than the 10000 bytes limit"


async def test_declared_content_length_over_the_cap_is_refused_before_reading(
    feed_server: FeedServer,
) -> None:
    # The server announces 50 MiB but sends six bytes and closes: reading would not find "too large".
    url = feed_server.route("/liar", body=b"<rss/>", content_length=50 * 1024 * 1024)
    async with Fetcher(policy(max_bytes=1024 * 1024)) as f:
        result = await f.fetch(url)
    assert result.outcome == "error"
    assert result.error == "response larger than the 1 MiB limit"


async def test_streamed_body_without_length_is_cut_at_the_cap(feed_server: FeedServer) -> None:
    url = feed_server.huge("/huge", 8 * 1024 * 1024, declare_length=False)
    async with Fetcher(policy(max_bytes=1024 * 1024)) as f:
        result = await f.fetch(url)
    assert result.outcome == "error"
    assert result.error == "response larger than the 1 MiB limit"
    assert "content-length" not in feed_server.requests_for("/huge")[0].headers


async def test_gzip_bomb_stops_at_the_cap_without_inflating_it(feed_server: FeedServer) -> None:
    inflated = 32 * 1024 * 1024
    url = feed_server.gzip_bomb("/bomb.xml", decompressed_size=inflated)  # ~32 KB on the wire
    async with Fetcher(policy(max_bytes=1024 * 1024)) as f:
        tracemalloc.start()
        try:
            result = await f.fetch(url)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert result.outcome == "error"
    assert result.error == "response larger than the 1 MiB limit"
    # A decoder that inflates whole network chunks would hold tens of MiB here.
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_decoder_never_returns_more_than_asked() -> None:
    bomb = gzip_bomb_bytes(16 * 1024 * 1024)
    decoder = _Decoder("gzip")
    out = decoder.decode(bomb, 4097)
    assert len(out) == 4097
    assert out == bytes(4097)
    identity = _Decoder("identity")
    assert identity.decode(b"abc", 1) == b"abc"  # identity bytes are counted by the caller


def test_deflate_decoder_accepts_zlib_and_raw_streams() -> None:
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    raw_stream = raw.compress(FEED) + raw.flush()
    for stream in (zlib.compress(FEED), raw_stream):
        decoder = _Decoder("deflate")
        assert decoder.decode(stream[:10], len(FEED) + 1) + decoder.decode(stream[10:], len(FEED) + 1) == FEED
        decoder.finish()


# --- deadline -------------------------------------------------------------------------------------------


async def test_trickling_server_is_cut_at_the_total_deadline(feed_server: FeedServer) -> None:
    # 100 bytes at one byte per 50 ms: each read succeeds quickly, the whole would take 5 s.
    url = feed_server.trickle("/slow.xml", b"<rss>" + b" " * 95, interval_s=0.05)
    async with Fetcher(policy(timeout_s=1.0)) as f:
        started = time.monotonic()
        result = await f.fetch(url)
        elapsed = time.monotonic() - started
    assert result.outcome == "error"
    assert result.error == "timed out after 1 s"
    assert 0.9 <= elapsed < 2.0


async def test_deadline_covers_all_redirect_hops(feed_server: FeedServer) -> None:
    # Six hops of 0.5 s each: every hop is well within the 1.5 s timeout, the chain (3 s) is not. The
    # margins are a second wide: a loaded machine stalls this process or the server now and then.
    for i in range(6):
        feed_server.route(f"/hop{i}", status=302, headers={"Location": f"/hop{i + 1}"}, delay_s=0.5)
    feed_server.route("/hop6", body="<rss/>")
    async with Fetcher(policy(timeout_s=1.5)) as f:
        started = time.monotonic()
        result = await f.fetch(feed_server.url("/hop0"))
        elapsed = time.monotonic() - started
    assert result.outcome == "error"
    assert result.error == "timed out after 1.5 s"
    assert elapsed < 2.5  # the deadline, not the chain's 3 s
    paths = [r.path for r in feed_server.requests]
    assert paths[:2] == ["/hop0", "/hop1"]  # a redirect was followed within the deadline
    assert not {"/hop4", "/hop5", "/hop6"} & set(paths)


async def test_slow_response_headers_time_out(feed_server: FeedServer) -> None:
    url = feed_server.route("/sleepy", body="<rss/>", delay_s=3)
    async with Fetcher(policy(timeout_s=0.5)) as f:
        result = await f.fetch(url)
    assert result.outcome == "error"
    assert result.error is not None and "timed out" in result.error


# --- redirects -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirects_are_followed(feed_server: FeedServer, fetcher: Fetcher, status: int) -> None:
    feed_server.redirect("/old", "/middle", status=status)
    feed_server.redirect("/middle", feed_server.url("/fetch/tiny.rss"), status=status)
    result = await fetcher.fetch(feed_server.url("/old"))
    assert result.outcome == "ok"
    assert result.url == feed_server.url("/old")
    assert result.final_url == feed_server.url("/fetch/tiny.rss")
    assert result.body == TINY.read_bytes()
    assert [r.path for r in feed_server.requests] == ["/old", "/middle", "/fetch/tiny.rss"]


async def test_conditional_headers_travel_with_redirects(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.redirect("/moved", "/fetch/tiny.rss", status=301)
    first = await fetcher.fetch(feed_server.url("/fetch/tiny.rss"))
    result = await fetcher.fetch(feed_server.url("/moved"), etag=first.etag)
    assert result.outcome == "not_modified"
    assert feed_server.requests_for("/fetch/tiny.rss")[-1].headers["if-none-match"] == first.etag


@pytest.mark.parametrize(("hops", "limit", "outcome"), [(2, 2, "ok"), (3, 2, "error"), (1, 0, "error")])
async def test_redirect_limit(feed_server: FeedServer, hops: int, limit: int, outcome: str) -> None:
    for i in range(hops):
        feed_server.redirect(f"/r{i}", f"/r{i + 1}")
    feed_server.route(f"/r{hops}", body="<rss/>")
    async with Fetcher(policy(max_redirects=limit)) as f:
        result = await f.fetch(feed_server.url("/r0"))
    assert result.outcome == outcome
    if outcome == "error":
        assert result.error == f"too many redirects (more than {limit})"
        assert len(feed_server.requests) == limit + 1


async def test_redirect_loops_are_detected(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.redirect("/ping", "/pong")
    feed_server.redirect("/pong", "/ping")
    result = await fetcher.fetch(feed_server.url("/ping"))
    assert result.outcome == "error"
    assert result.error == f"redirect loop: {feed_server.url('/ping')} was already visited"
    assert len(feed_server.requests) == 2
    feed_server.redirect("/self", "/self#again")
    assert "redirect loop" in ((await fetcher.fetch(feed_server.url("/self"))).error or "")


async def test_redirect_without_location_is_an_error(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route("/nowhere", status=302)
    result = await fetcher.fetch(url)
    assert (result.outcome, result.http_status) == ("error", 302)
    assert result.error == "HTTP 302 redirect without Location"


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://10.0.0.1/feed.xml", "private (RFC 1918)"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://100.64.0.1/", "carrier-grade NAT"),
        ("http://127.0.0.2:{port}/fetch/tiny.rss", "127.0.0.2 is a loopback"),
        ("http://[::1]:{port}/fetch/tiny.rss", "loopback"),
        ("http://0.0.0.0:{port}/", "unspecified"),
        ("http://2130706433:{port}/", "numeric host spelled oddly"),
        ("http://0x7f000001:{port}/", "numeric host spelled oddly"),
        ("http://[::ffff:10.0.0.1]/", "IPv4-mapped"),
        ("file:///etc/passwd", "only http and https"),
        ("http://admin:pw@example.com/", "user name or password"),
    ],
)
async def test_redirect_to_a_private_or_odd_target_is_refused_before_connecting(
    feed_server: FeedServer, target: str, reason: str
) -> None:
    target = target.format(port=feed_server.port)
    feed_server.redirect("/jump", target)
    backend = RecordingBackend()
    networks = parse_networks(LOOPBACK_ONLY)
    transport = GuardedTransport(allow_private=False, allow_networks=networks, network_backend=backend)
    async with Fetcher(policy(), transport=transport) as f:
        result = await f.fetch(feed_server.url("/jump"))
    assert result.outcome == "error"
    assert result.http_status == 302
    assert result.error is not None and result.error.startswith("redirect to an unsafe URL refused")
    assert reason in result.error
    assert backend.connected == [("127.0.0.1", feed_server.port)]  # only the test server itself


async def test_redirect_to_a_name_resolving_privately_is_refused_at_connect(
    feed_server: FeedServer, fake_dns: FakeDNS
) -> None:
    fake_dns["intranet.test"] = ["10.20.30.40"]
    fake_dns["metadata.test"] = ["93.184.216.34", "169.254.169.254"]
    backend = RecordingBackend()
    transport = GuardedTransport(
        allow_private=False, allow_networks=parse_networks(LOOPBACK_ONLY), network_backend=backend
    )
    async with Fetcher(policy(), transport=transport) as f:
        for name, address in (("intranet.test", "10.20.30.40"), ("metadata.test", "169.254.169.254")):
            feed_server.redirect(f"/to-{name}", f"http://{name}/feed.xml")
            result = await f.fetch(feed_server.url(f"/to-{name}"))
            assert result.outcome == "error"
            assert result.error == (
                f"unsafe URL: host '{name}' resolves to {address}, "
                + ("a private (RFC 1918)" if name == "intranet.test" else "a link-local")
                + " address"
            )
            assert result.final_url == f"http://{name}/feed.xml"
    assert {host for host, _ in backend.connected} == {"127.0.0.1"}


# --- connecting to the checked address, with the name in Host and SNI ---------------------------------


async def test_socket_goes_to_the_checked_address_and_host_header_keeps_the_name(
    feed_server: FeedServer, fake_dns: FakeDNS
) -> None:
    fake_dns["feeds.test"] = ["127.0.0.1"]
    backend = RecordingBackend()
    transport = GuardedTransport(
        allow_private=False, allow_networks=parse_networks(LOOPBACK_ONLY), network_backend=backend
    )
    async with Fetcher(policy(), transport=transport) as f:
        result = await f.fetch(feed_server.url("/fetch/tiny.rss", host="feeds.test"))
    assert result.outcome == "ok"
    assert backend.connected == [("127.0.0.1", feed_server.port)]
    assert fake_dns.calls == ["feeds.test"]  # resolved once, by the guard, never again by the socket layer
    assert feed_server.requests[0].headers["host"] == f"feeds.test:{feed_server.port}"


async def test_dns_rebinding_after_the_check_cannot_redirect_the_socket(
    feed_server: FeedServer, fake_dns: FakeDNS
) -> None:
    """A resolver that answers "public" first and "metadata service" next: only one answer is used."""
    answers = iter([["127.0.0.1"], ["169.254.169.254"]])
    original = fake_dns.getaddrinfo

    async def rebinding(host: str, port: int | str | None, **kwargs: int) -> list[tuple[Any, ...]]:
        if host == "rebind.test":
            fake_dns["rebind.test"] = next(answers)
        return await original(host, port, **kwargs)

    fake_dns.getaddrinfo = rebinding  # type: ignore[method-assign]
    backend = RecordingBackend()
    transport = GuardedTransport(
        allow_private=False, allow_networks=parse_networks(LOOPBACK_ONLY), network_backend=backend
    )
    async with Fetcher(policy(), transport=transport) as f:
        first = await f.fetch(feed_server.url("/fetch/tiny.rss", host="rebind.test"))
    assert first.outcome == "ok"
    assert backend.connected == [("127.0.0.1", feed_server.port)]
    assert fake_dns.calls == ["rebind.test"]
    async with Fetcher(policy(), transport=GuardedTransport(allow_private=False)) as f:
        second = await f.fetch(feed_server.url("/fetch/tiny.rss", host="rebind.test"))
    assert second.outcome == "error"
    assert second.error is not None and "169.254.169.254" in second.error


@pytest.fixture
def tls_server() -> Iterator[tuple[FeedServer, list[str | None]]]:
    server_names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(CERT, KEY)

    def record_sni(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        server_names.append(name)

    context.sni_callback = record_sni
    with FeedServer(ssl_context=context) as server:
        yield server, server_names


def trusting_transport(network_backend: httpcore.AsyncNetworkBackend | None = None) -> GuardedTransport:
    """A guarded transport that trusts the test certificate (and nothing else)."""
    client_context = ssl.create_default_context(cafile=str(CERT))
    return GuardedTransport(
        allow_private=False,
        allow_networks=parse_networks(LOOPBACK_ONLY),
        verify=client_context,
        network_backend=network_backend,
    )


async def test_tls_uses_the_name_for_sni_and_certificate_while_connecting_to_the_ip(
    tls_server: tuple[FeedServer, list[str | None]], fake_dns: FakeDNS
) -> None:
    server, server_names = tls_server
    fake_dns["feeds.test"] = ["127.0.0.1"]
    backend = RecordingBackend()
    async with Fetcher(policy(), transport=trusting_transport(network_backend=backend)) as f:
        result = await f.fetch(server.url("/fetch/tiny.rss", host="feeds.test"))
    assert result.outcome == "ok", result.error
    assert result.final_url == f"https://feeds.test:{server.port}/fetch/tiny.rss"
    assert result.body == TINY.read_bytes()
    assert server_names == ["feeds.test"]
    assert backend.connected == [("127.0.0.1", server.port)]
    assert server.requests[0].headers["host"] == f"feeds.test:{server.port}"


async def test_tls_certificate_for_another_name_is_rejected(
    tls_server: tuple[FeedServer, list[str | None]], fake_dns: FakeDNS
) -> None:
    server, _ = tls_server
    fake_dns["impostor.test"] = ["127.0.0.1"]
    async with Fetcher(policy(), transport=trusting_transport()) as f:
        result = await f.fetch(server.url("/fetch/tiny.rss", host="impostor.test"))
    assert result.outcome == "error"
    assert result.error is not None
    assert result.error.startswith("TLS certificate of impostor.test rejected")
    assert "mismatch" in result.error.lower()
    assert server.requests == []


async def test_untrusted_certificate_is_rejected_by_default(
    tls_server: tuple[FeedServer, list[str | None]],
) -> None:
    server, _ = tls_server
    async with Fetcher(policy()) as f:
        result = await f.fetch(server.url("/fetch/tiny.rss"))
    assert result.outcome == "error"
    assert result.error is not None and result.error.startswith("TLS certificate of 127.0.0.1 rejected")


async def test_tls_to_a_plain_http_port_is_a_tls_error(feed_server: FeedServer, fetcher: Fetcher) -> None:
    result = await fetcher.fetch(feed_server.url("/fetch/tiny.rss").replace("http://", "https://"))
    assert result.outcome == "error"
    assert result.error is not None and result.error.startswith("TLS handshake with 127.0.0.1:")


# --- HTTP statuses ------------------------------------------------------------------------------------------


async def test_gone(feed_server: FeedServer, fetcher: Fetcher) -> None:
    result = await fetcher.fetch(feed_server.route("/gone", status=410, body="bye"), etag='"e"')
    assert (result.outcome, result.http_status, result.body, result.error) == ("gone", 410, b"", None)
    assert result.etag == '"e"'


@pytest.mark.parametrize(
    ("status", "message"),
    [(404, "HTTP 404 Not Found"), (500, "HTTP 500 Internal Server Error"), (403, "HTTP 403 Forbidden")],
)
async def test_http_errors(feed_server: FeedServer, fetcher: Fetcher, status: int, message: str) -> None:
    result = await fetcher.fetch(feed_server.route("/e", status=status, body="<html>oops</html>"))
    assert result.outcome == "error"
    assert result.http_status == status
    assert result.error == message
    assert result.body == b""
    assert result.retry_after is None


async def test_unknown_path_on_the_static_server_is_404(feed_server: FeedServer, fetcher: Fetcher) -> None:
    result = await fetcher.fetch(feed_server.url("/fetch/missing.rss"))
    assert (result.outcome, result.http_status) == ("error", 404)


async def test_429_with_delta_seconds(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route("/busy", status=429, headers={"Retry-After": "120"})
    result = await fetcher.fetch(url)
    assert (result.outcome, result.http_status, result.retry_after) == ("error", 429, 120.0)
    assert result.error == "HTTP 429 Too Many Requests (retry after 120 s)"


async def test_503_with_http_date(feed_server: FeedServer, fetcher: Fetcher) -> None:
    when = http_date(time.time() + 300)
    url = feed_server.route("/down", status=503, headers={"Retry-After": when})
    result = await fetcher.fetch(url)
    assert (result.outcome, result.http_status) == ("error", 503)
    assert result.retry_after is not None and 290 <= result.retry_after <= 301


@pytest.mark.parametrize(("status", "header"), [(429, None), (503, "soon"), (500, "60")])
async def test_retry_after_absent_or_unusable(
    feed_server: FeedServer, fetcher: Fetcher, status: int, header: str | None
) -> None:
    url = feed_server.route("/x", status=status, headers={"Retry-After": header} if header else {})
    result = await fetcher.fetch(url)
    assert result.outcome == "error" and result.http_status == status
    assert result.retry_after is None


def test_parse_retry_after() -> None:
    now = datetime(2025, 3, 2, 8, 0, 0, tzinfo=UTC)
    assert parse_retry_after("0", now) == 0.0
    assert parse_retry_after(" 3600 ", now) == 3600.0
    assert parse_retry_after("Sun, 02 Mar 2025 08:02:00 GMT", now) == 120.0
    assert parse_retry_after("Sun, 02 Mar 2025 07:00:00 GMT", now) == 0.0
    assert parse_retry_after("Sun, 02 Mar 2025 08:00:30 -0000", now) == 30.0
    assert parse_retry_after((now + timedelta(seconds=45)).strftime("%a, %d %b %Y %H:%M:%S GMT"), now) == 45
    for bad in (None, "", "-5", "1.5", "tomorrow"):
        assert parse_retry_after(bad, now) is None


async def test_html_page_is_returned_as_is_for_the_parser_to_judge(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    html = "<!doctype html><html><head><title>الصفحة الرئيسية</title></head></html>"
    result = await fetcher.fetch(feed_server.route("/index.html", body=html, content_type="text/html"))
    assert result.outcome == "ok"
    assert result.headers["content-type"] == "text/html"
    assert result.body == html.encode()


async def test_custom_charset_header_and_bytes_pass_through(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    body = '<?xml version="1.0"?><rss><channel><title>أخبار اليوم</title></channel></rss>'.encode("cp1256")
    url = feed_server.route(
        "/cp1256.xml", body=body, content_type="application/rss+xml; charset=windows-1256"
    )
    result = await fetcher.fetch(url)
    assert result.outcome == "ok"
    assert result.body == body
    assert result.headers["content-type"] == "application/rss+xml; charset=windows-1256"


# --- network failures ------------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_connection_refused(fetcher: Fetcher) -> None:
    port = free_port()
    result = await fetcher.fetch(f"http://127.0.0.1:{port}/feed.xml")
    assert result.outcome == "error"
    assert result.error == f"connection refused by 127.0.0.1:{port}"


async def test_dns_failure(fetcher: Fetcher, fake_dns: FakeDNS) -> None:
    result = await fetcher.fetch("https://nowhere.test/feed.xml")
    assert result.outcome == "error"
    assert result.error is not None and result.error.startswith("DNS lookup failed for 'nowhere.test'")
    assert fake_dns.calls == ["nowhere.test"]


async def test_server_hanging_up_mid_body(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route("/cut", body=b"<rss><chan", content_length=5000)
    result = await fetcher.fetch(url)
    assert result.outcome == "error"
    assert result.error is not None and "127.0.0.1" in result.error


# --- concurrency ------------------------------------------------------------------------------------------


async def test_per_host_limit(feed_server: FeedServer) -> None:
    url = feed_server.route("/slowish", body="<rss/>", delay_s=0.15)
    async with Fetcher(policy(per_host=2, concurrency=16)) as f:
        results = await asyncio.gather(*(f.fetch(url) for _ in range(6)))
    assert [r.outcome for r in results] == ["ok"] * 6
    assert feed_server.max_in_flight == 2


async def test_global_limit_across_hosts(feed_server: FeedServer, fake_dns: FakeDNS) -> None:
    hosts = ["a.test", "b.test", "c.test", "d.test"]
    for host in hosts:
        fake_dns[host] = ["127.0.0.1"]
    feed_server.route("/slowish", body="<rss/>", delay_s=0.15)
    async with Fetcher(policy(per_host=2, concurrency=3)) as f:
        urls = [feed_server.url("/slowish", host=h) for h in hosts for _ in range(2)]
        results = await asyncio.gather(*(f.fetch(u) for u in urls))
    assert [r.outcome for r in results] == ["ok"] * 8
    assert feed_server.max_in_flight == 3
    assert all(feed_server.max_in_flight_for_host(f"{h}:{feed_server.port}") <= 2 for h in hosts)


async def test_many_concurrent_fetches_share_one_client(feed_server: FeedServer) -> None:
    urls = [feed_server.route(f"/f{i}.xml", body=f"<rss>{i}</rss>") for i in range(20)]
    async with Fetcher(policy(per_host=4, concurrency=8)) as f:
        results = await asyncio.gather(*(f.fetch(u) for u in urls))
    assert [r.body for r in results] == [f"<rss>{i}</rss>".encode() for i in range(20)]
    assert feed_server.max_in_flight <= 4


# --- injected transport (unit level) -----------------------------------------------------------------------


async def test_injected_transport_is_used_and_url_rules_still_apply() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"<rss/>", headers={"ETag": '"m"'})

    async with Fetcher(FetchPolicy(), transport=httpx.MockTransport(handler)) as f:
        ok = await f.fetch(
            "https://example.com/feed", etag='"old"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT"
        )
        refused = await f.fetch("http://169.254.169.254/latest/meta-data/")
    assert (ok.outcome, ok.body, ok.etag) == ("ok", b"<rss/>", '"m"')
    assert ok.last_modified is None
    assert refused.outcome == "error" and "link-local" in (refused.error or "")
    assert len(seen) == 1
    assert seen[0].headers["if-none-match"] == '"old"'
    assert seen[0].headers["if-modified-since"] == "Mon, 01 Jan 2024 00:00:00 GMT"


def test_fetch_result_is_immutable() -> None:
    result = FetchResult(url="u", final_url="u", outcome="ok", http_status=200)
    with pytest.raises(AttributeError):
        result.body = b"x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.headers["x"] = "y"  # type: ignore[index]


async def test_a_primed_result_answers_the_same_fetch_once(fetcher: Fetcher, feed_server: FeedServer) -> None:
    url = feed_server.route("/primed.xml", body=b"<rss/>", etag='"1"')
    first = await fetcher.fetch(url)
    fetcher.prime(first, etag=None, last_modified=None)
    assert await fetcher.fetch(url) is first  # handed over: no second request
    assert len(feed_server.requests_for("/primed.xml")) == 1
    fetcher.prime(first, etag=None, last_modified=None)
    again = await fetcher.fetch(url, etag='"1"')  # other validators: the server is asked
    assert again.outcome == "not_modified"
    assert len(feed_server.requests_for("/primed.xml")) == 2
