"""parse_feed on the generated fixtures: RSS 2.0, RSS 1.0, Atom, windows-1256, broken input, no I/O."""

from __future__ import annotations

import http.server
import json
import re
import socket
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from news.models import ParsedFeed
from news.parse import MAX_ENTRIES, FeedParseError, parse_feed

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
MANIFEST: dict[str, Any] = json.loads((FEEDS / "manifest.json").read_text(encoding="utf-8"))
OUTLET_FEEDS = sorted(n for n, info in MANIFEST.items() if not n.startswith("_") and "outlet" in info)


def _parse(name: str, **overrides: Any) -> ParsedFeed:
    info = MANIFEST[name]
    headers = overrides.get("headers", {"Content-Type": info["content_type"]})
    return parse_feed((FEEDS / name).read_bytes(), headers, overrides.get("url", info["feed_url"]))


def _raw_items(name: str, tag: str) -> list[str]:
    """Text of every ``<tag>`` inside the items, read straight from the fixture bytes (UTF-8 files)."""
    xml = (FEEDS / name).read_text(encoding="utf-8")
    return re.findall(rf"<item>.*?<{tag}>(.*?)</{tag}>", xml, flags=re.S)


@pytest.mark.parametrize("name", OUTLET_FEEDS)
def test_outlet_feed_parses_completely(name: str) -> None:
    info = MANIFEST[name]
    feed = _parse(name)
    assert feed.warning is None
    assert feed.title
    assert feed.link and feed.link.startswith("https://")
    assert len(feed.entries) == info["items"] == 30
    for entry in feed.entries:
        assert entry.title
        assert entry.link and re.match(r"https?://[^/]+/", entry.link)
        assert entry.guid
        assert entry.published is not None and entry.published.tzinfo == UTC
        assert entry.categories
        assert entry.summary_html
        assert bool(entry.content_html) == info["with_content"]


@pytest.mark.parametrize("name", OUTLET_FEEDS)
def test_pubdate_becomes_aware_utc(name: str) -> None:
    expected = [parsedate_to_datetime(raw).astimezone(UTC) for raw in _raw_items(name, "pubDate")]
    assert [e.published for e in _parse(name).entries] == expected


def test_rss_fields_map_to_feed_entry() -> None:
    bbc = _parse("bbc.xml").entries[0]
    assert bbc.guid == bbc.link  # BBC guids are permalinks
    assert bbc.author is None
    alarabiya = _parse("alarabiya.xml").entries
    assert all(e.author for e in alarabiya)  # dc:creator, e.g. «دبي - العربية.نت»
    assert all(e.content_html.startswith("<p>") for e in alarabiya)
    assert all(e.guid and not e.guid.startswith("http") for e in alarabiya)


def test_rss_pubdate_with_offset() -> None:
    # Al Arabiya, 15 March 2018: the +0400 offset must be applied, not dropped.
    body = (
        "<rss version='2.0'><channel><title>العربية.نت</title><item><title>السدحان: بدون فلتر</title>"
        "<link>https://www.alarabiya.net/ar/x.html</link><pubDate>Thu, 15 Mar 2018 11:37:48 +0400</pubDate>"
        "</item></channel></rss>"
    ).encode()
    (entry,) = parse_feed(body, {}, "https://www.alarabiya.net/.mrss/ar.xml").entries
    assert entry.published == datetime(2018, 3, 15, 7, 37, 48, tzinfo=UTC)


def test_atom_feed_with_relative_links() -> None:
    info = MANIFEST["atom.xml"]
    feed = _parse("atom.xml")
    assert feed.warning is None
    assert feed.title == "فرانس 24"
    assert feed.link == "https://www.france24.com/ar/"
    assert len(feed.entries) == info["items"] == 10
    # Relative hrefs resolve against the feed URL's host; absolute ones stay as the feed wrote them.
    for entry, url in zip(feed.entries, info["urls"], strict=True):
        path = url.split("france24.com", 1)[1]
        assert entry.link in (url, "https://www.france24.com" + path)
        assert entry.guid == url
        assert entry.published is not None and entry.published.tzinfo == UTC
        assert entry.categories and entry.author
    assert sum(1 for e in feed.entries if e.link and e.link.startswith("https://www.france24.com/ar/")) >= 7
    assert feed.entries[0].content_html.startswith("<p>") and not feed.entries[1].content_html


def test_atom_updated_is_used_when_published_is_missing() -> None:
    body = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><title>خبر</title>'
        '<link href="/ar/1"/><id>tag:x,2018:1</id><updated>2018-06-04T10:12:55+03:00</updated></entry></feed>'
    ).encode()
    (entry,) = parse_feed(
        body, {"content-type": "application/atom+xml"}, "https://example.com/ar/rss"
    ).entries
    assert entry.published == datetime(2018, 6, 4, 7, 12, 55, tzinfo=UTC)
    assert entry.link == "https://example.com/ar/1"


def test_rss1_feed() -> None:
    info = MANIFEST["rss1.rdf"]
    feed = _parse("rss1.rdf")
    assert feed.warning is None
    assert feed.title == "BBC News عربي"
    assert [e.link for e in feed.entries] == info["urls"]
    assert all(e.published is not None and e.summary_html and e.categories for e in feed.entries)


# --------------------------------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------------------------------

CP1256 = (FEEDS / "cp1256.xml").read_bytes()
CP1256_TITLES: list[str] = MANIFEST["cp1256.xml"]["titles"]
DECLARATION = b'<?xml version="1.0" encoding="windows-1256"?>'


def test_cp1256_fixture_really_is_cp1256() -> None:
    assert CP1256.startswith(DECLARATION)
    with pytest.raises(UnicodeDecodeError):
        CP1256.decode("utf-8")
    assert CP1256_TITLES[0].encode("cp1256") in CP1256


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (CP1256, {"Content-Type": "text/xml; charset=windows-1256"}),  # header and declaration agree
        (
            CP1256.replace(DECLARATION, b'<?xml version="1.0"?>'),
            {"Content-Type": "text/xml; charset=windows-1256"},
        ),
        (CP1256, {}),  # the declaration alone
        (CP1256, {"Content-Type": "application/rss+xml"}),
        (CP1256, {"Content-Type": "text/xml"}),  # RFC 3023 says us-ascii; the declaration rescues it
        # The HTTP charset wins over a wrong declaration.
        (
            CP1256.replace(b"windows-1256", b"iso-8859-1"),
            {"content-type": "application/xml; charset=windows-1256"},
        ),
    ],
)
def test_windows_1256_feed_comes_out_as_arabic(body: bytes, headers: dict[str, str]) -> None:
    feed = parse_feed(body, headers, MANIFEST["cp1256.xml"]["feed_url"])
    assert [e.title for e in feed.entries] == CP1256_TITLES
    assert feed.title == "سكاي نيوز عربية"
    assert feed.warning is None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Content-Type": "text/xml"},
        {"Content-Type": "text/html; charset=utf-8"},
        {"CONTENT-TYPE": "application/xml"},
    ],
)
def test_utf8_feed_without_declaration_under_any_content_type(headers: dict[str, str]) -> None:
    body = "<rss version='2.0'><channel><title>سكاي نيوز عربية</title><item><title>هبوط أسعار النفط</title>" \
           "<link>https://www.skynewsarabia.com/business/1</link></item></channel></rss>"  # fmt: skip
    feed = parse_feed(body.encode("utf-8"), headers, "https://www.skynewsarabia.com/web/rss")
    assert feed.entries[0].title == "هبوط أسعار النفط"
    assert feed.warning is None  # a loose Content-Type is not a malformed feed


LYING = CP1256.replace(DECLARATION, b'<?xml version="1.0" encoding="utf-8"?>')  # windows-1256 bytes


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (LYING, {"Content-Type": "application/rss+xml; charset=utf-8"}),  # header and declaration both lie
        (LYING, {"Content-Type": 'text/xml; charset="UTF-8"'}),
        (LYING, {}),  # the declaration alone lies
        (CP1256, {"Content-Type": "application/xml; charset=utf-8"}),  # the header lies, the declaration not
        (CP1256.replace(DECLARATION, b""), {"Content-Type": "application/rss+xml; charset=x-unknown"}),
    ],
)
def test_windows_1256_bytes_claiming_utf8_come_out_as_arabic(body: bytes, headers: dict[str, str]) -> None:
    truth = parse_feed(
        CP1256, {"Content-Type": "text/xml; charset=windows-1256"}, MANIFEST["cp1256.xml"]["feed_url"]
    )
    feed = parse_feed(body, headers, MANIFEST["cp1256.xml"]["feed_url"])
    assert [e.title for e in feed.entries] == CP1256_TITLES
    assert feed.title == "سكاي نيوز عربية"
    assert feed.entries == truth.entries  # descriptions, links and dates too
    assert feed.warning and "read as cp1256" in feed.warning


def test_utf8_feed_with_a_stray_byte_keeps_its_arabic() -> None:
    good = (FEEDS / "skynews.xml").read_bytes()
    headers = {"Content-Type": "application/rss+xml; charset=utf-8"}
    truth = parse_feed(good, headers, "https://x.example/rss")
    first = truth.entries[0].title.encode("utf-8")
    body = good.replace(first, first + b" \x96", 1)  # one windows-1252 dash in a UTF-8 feed
    feed = parse_feed(body, headers, "https://x.example/rss")
    assert feed.entries[0].title == truth.entries[0].title + " \ufffd"
    assert feed.entries[1:] == truth.entries[1:]


# --------------------------------------------------------------------------------------------------
# Broken and non-feed documents
# --------------------------------------------------------------------------------------------------


def test_malformed_feed_recovers_entries_with_warning() -> None:
    info = MANIFEST["malformed.xml"]
    feed = _parse("malformed.xml")
    assert feed.warning and "malformed" in feed.warning
    assert [e.link for e in feed.entries] == info["urls"]
    assert all(e.title.endswith("تفاصيل") and e.published for e in feed.entries)


def test_empty_feed_is_valid_and_empty() -> None:
    feed = _parse("empty.xml")
    assert feed.entries == ()
    assert feed.title == "سكاي نيوز عربية - عاجل"
    assert feed.warning is None


@pytest.mark.parametrize(
    ("body", "headers", "message"),
    [
        (b"", {}, "empty"),
        (b" \n\t ", {"Content-Type": "application/rss+xml"}, "empty"),
        ((FEEDS / "homepage.html").read_bytes(), {"Content-Type": "text/html; charset=utf-8"}, "HTML page"),
        ((FEEDS / "homepage.html").read_bytes(), {}, "HTML page"),
        (b"\xef\xbb\xbf<!-- x --><html><body><p>hi</p></body></html>", {}, "HTML page"),
        (b"\x00\xff\xfe garbage \x89PNG", {}, "not an RSS or Atom feed"),
        (b'{"items": [{"title": "x"}]}', {"Content-Type": "application/json"}, "not an RSS or Atom feed"),
        (b"<urlset><url><loc>https://example.com/</loc></url></urlset>", {}, "not an RSS or Atom feed"),
        (b"https://www.bbc.com/arabic/rss.xml", {}, "not an RSS or Atom feed"),
        (b"<rss version='2.0'><channel></channel></rss>", {}, "neither feed metadata nor entries"),
    ],
)
def test_not_a_feed_raises(body: bytes, headers: dict[str, str], message: str) -> None:
    with pytest.raises(FeedParseError, match=message):
        parse_feed(body, headers, "https://example.com/feed")


def test_feed_parse_error_is_a_value_error() -> None:
    assert issubclass(FeedParseError, ValueError)


def test_relative_item_links_resolve_against_feed_url() -> None:
    body = (
        "<rss version='2.0'><channel><title>t</title><link>/ar/</link>"
        "<item><title>أ</title><link>/ar/2018/1.html</link></item>"
        "<item><title>ب</title><link>2.html</link></item>"
        "<item><title>ج</title><link>https://other.example/3</link></item></channel></rss>"
    ).encode()
    feed = parse_feed(body, {}, "https://www.alarabiya.net/feeds/rss.xml")
    assert feed.link == "https://www.alarabiya.net/ar/"
    assert [e.link for e in feed.entries] == [
        "https://www.alarabiya.net/ar/2018/1.html",
        "https://www.alarabiya.net/feeds/2.html",
        "https://other.example/3",
    ]


def test_entry_count_is_capped() -> None:
    items = "".join(
        f"<item><title>خبر {i}</title><link>https://e.com/{i}</link></item>" for i in range(MAX_ENTRIES + 5)
    )
    feed = parse_feed(f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode(), {}, "")
    assert len(feed.entries) == MAX_ENTRIES
    assert feed.entries[-1].title == f"خبر {MAX_ENTRIES - 1}"
    assert feed.warning and str(MAX_ENTRIES + 5) in feed.warning


def test_raw_title_html_is_kept_for_the_cleaner() -> None:
    titles = [e.title for e in _parse("dirty.xml").entries]
    assert any("<b>عاجل</b>" in t for t in titles)  # parse keeps markup; clean_title removes it


# --------------------------------------------------------------------------------------------------
# Parsing never fetches anything
# --------------------------------------------------------------------------------------------------


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012 - shared on purpose, reset per server

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        body = b'<!ENTITY leak "FETCHED-OVER-HTTP">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def counting_server() -> Iterator[tuple[str, list[str]]]:
    _CountingHandler.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _CountingHandler.hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _hostile_feeds(base: str, secret_file: Path) -> list[bytes]:
    file_url = secret_file.as_uri()
    return [
        # External general entities, over HTTP and from a file.
        f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY web SYSTEM "{base}/entity"><!ENTITY file SYSTEM "{file_url}">]>
<rss version="2.0"><channel><title>t &web; &file;</title>
<item><title>خبر &web;</title><description>&file;</description><link>{base}/item</link></item>
</channel></rss>""".encode(),
        # A parameter entity and an external DTD.
        f"""<?xml version="1.0"?>
<!DOCTYPE rss SYSTEM "{base}/dtd" [<!ENTITY % remote SYSTEM "{base}/param"> %remote;]>
<rss version="2.0"><channel><title>t &leak;</title>
<item><title>خبر</title></item></channel></rss>""".encode(),
        # XInclude and an xml-stylesheet pointing at the server.
        f"""<?xml version="1.0"?><?xml-stylesheet href="{base}/style.xsl" type="text/xsl"?>
<rss version="2.0" xmlns:xi="http://www.w3.org/2001/XInclude"><channel><title>t</title>
<item><title>خبر</title><description><xi:include href="{base}/xinclude"/></description></item>
</channel></rss>""".encode(),
        # Not even malformed input that contains URLs.
        f"<rss version='2.0'><channel><title>t</title><item><title>&web; <a href='{base}/a'>x".encode(),
    ]


def test_parse_never_fetches_or_reads_files(
    counting_server: tuple[str, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, hits = counting_server
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-FILE-CONTENT", encoding="utf-8")
    connects: list[Any] = []
    real_connect = socket.socket.connect

    def spy_connect(self: socket.socket, address: Any) -> None:
        connects.append(address)
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy_connect)
    for body in _hostile_feeds(base, secret):
        feed = parse_feed(body, {"Content-Type": "application/rss+xml"}, base + "/feed")
        assert feed.entries
        dumped = repr(feed)
        assert "TOP-SECRET" not in dumped
        assert "FETCHED-OVER-HTTP" not in dumped
    assert connects == []
    assert hits == []


def test_the_spy_would_see_a_fetch(counting_server: tuple[str, list[str]]) -> None:
    """Guard for the test above: the counting server does record a real request."""
    base, hits = counting_server
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(base + "/probe", timeout=5) as response:
        assert b"FETCHED-OVER-HTTP" in response.read()
    assert hits == ["/probe"]
