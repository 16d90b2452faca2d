"""Feed bytes → ``ParsedFeed``: RSS 2.0, RSS 1.0 and Atom 1.0 through feedparser, without any I/O.

The fetcher hands over the body and the HTTP response headers; parsing never sees a URL it could open.
feedparser always gets a ``BytesIO`` (a ``str`` argument would make it fetch a URL or open a file) and
the headers, so the HTTP ``charset`` decides the encoding before the XML declaration does, as RFC 3023
says. When the bytes are not valid in the declared charset (windows-1256 served as UTF-8 by older Arabic
sites), ``news.charset`` picks the charset by content and the body is re-encoded as UTF-8 first, because
feedparser's own fallback, windows-1252, would store mojibake. feedparser drops DOCTYPE declarations
and external entities before its SAX parser runs and turns off external general entities in the parser
itself, so a hostile feed cannot make it read a file or call a URL; the tests hold it to that.

What this does not do: clean text, drop boilerplate or build ``Article`` values (``news.article``).
"""

from __future__ import annotations

import calendar
import io
import re
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from news.charset import content_charset, declared_charsets
from news.models import FeedEntry, ParsedFeed

MAX_ENTRIES = 500
"""Entries beyond this many are ignored: no real news feed carries more, a hostile one might."""

# Parser complaints that say nothing about the document's shape: a feed served as text/html or text/xml
# without a charset still parses correctly, and operators cannot act on the complaint.
_BENIGN_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
_HTML_START = re.compile(
    rb"^(?:\s|<!--.*?-->|<\?xml[^>]*>)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
_DATE_KEYS = ("published_parsed", "updated_parsed", "created_parsed")
_XML_DECL_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?[^\s;"']*["']?""", re.I)


class FeedParseError(ValueError):
    """The bytes are not a feed at all (HTML page, empty body, garbage, a document without content)."""


def _headers_for_feedparser(headers: Mapping[str, str], url: str) -> dict[str, str]:
    """Lower-cased response headers, with the feed URL as base for relative links.

    Without a ``Content-Type`` feedparser would fall back to ISO-8859-1 for a document with no XML
    declaration; ``application/xml`` makes it use the declaration, the BOM or UTF-8 instead.
    """
    out = {str(k).lower(): str(v) for k, v in headers.items()}
    out.setdefault("content-type", "application/xml")
    if url:
        out["content-location"] = urljoin(url, out["content-location"]) if "content-location" in out else url
    return out


def _reread(body: bytes, headers: dict[str, str], charset: str) -> bytes:
    """``body`` decoded as ``charset`` and re-encoded as UTF-8, its declaration and ``headers`` saying so.

    feedparser believes the HTTP header and the XML declaration, so both are made to tell the truth;
    bytes even the chosen charset cannot read become U+FFFD instead of taking the whole feed down.
    """
    text = _XML_DECL_ENCODING.sub(r"\1\2utf-8\2", body.decode(charset, "replace").lstrip("\ufeff"), count=1)
    content_type = headers["content-type"]
    if _CHARSET_PARAM.search(content_type):
        headers["content-type"] = _CHARSET_PARAM.sub("charset=utf-8", content_type, count=1)
    else:
        headers["content-type"] = f"{content_type}; charset=utf-8"
    return text.encode("utf-8")


def _looks_like_html(body: bytes) -> bool:
    return bool(_HTML_START.match(body[:4096].lstrip(b"\xef\xbb\xbf")))


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _to_utc(entry: Mapping[str, Any]) -> datetime | None:
    for key in _DATE_KEYS:
        parsed = entry.get(key)
        if isinstance(parsed, time.struct_time):
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _categories(tags: Iterable[Mapping[str, Any]] | None) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tag in tags or ():
        term = _text(tag.get("term")) or _text(tag.get("label"))
        if term:
            seen.setdefault(term, None)
    return tuple(seen)


def _resolve(link: str, base: str) -> str:
    if not link:
        return ""
    try:
        return urljoin(base, link) if base else link
    except ValueError:
        return link


def _entry(raw: Mapping[str, Any], base: str) -> FeedEntry:
    content = raw.get("content") or []
    content_html = _text(content[0].get("value")) if content else ""
    link = _resolve(_text(raw.get("link")), base)
    return FeedEntry(
        guid=_text(raw.get("id")) or None,
        link=link or None,
        title=_text(raw.get("title")),
        summary_html=_text(raw.get("summary")),
        content_html=content_html,
        published=_to_utc(raw),
        categories=_categories(raw.get("tags")),
        author=_text(raw.get("author")) or None,
    )


def _describe(exc: object) -> str:
    return str(exc).strip() or type(exc).__name__


def parse_feed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """Parse one fetched feed document.

    ``headers`` are the HTTP response headers (any case); ``url`` is the feed's final URL, used only as
    the base for relative links. A document that is malformed but still yields entries parses with
    ``warning`` set to the parser's complaint. Raises ``FeedParseError`` for an empty body, an HTML page,
    garbage, or a document with neither feed metadata nor entries. A feed with a title and no items is a
    valid, empty feed.
    """
    if not body or not body.strip():
        raise FeedParseError("empty response body: the server sent no feed")
    feed_headers = _headers_for_feedparser(headers, url)
    declared = declared_charsets(body, headers)
    charset = content_charset(body, declared)
    encoding_note = None
    if charset is not None:
        encoding_note = f"bytes invalid in the declared charset {declared[0]}: read as {charset}"
        body = _reread(body, feed_headers, charset)
    result = feedparser.parse(
        io.BytesIO(body),
        response_headers=feed_headers,
        # Both off: every HTML field goes through ``news.clean.html_to_text``, which keeps only text
        # (scripts, styles and links dropped), so feedparser's own sanitizer and link rewriting, a
        # second HTML parse of every item in pure Python, bought nothing and cost ~30% of parsing.
        resolve_relative_uris=False,
        sanitize_html=False,
    )
    version = result.get("version") or ""
    raw_entries = list(result.get("entries") or [])
    feed = result.get("feed") or {}
    if not version and not raw_entries:
        if _looks_like_html(body):
            raise FeedParseError(
                "got an HTML page, not a feed: the URL is probably a web page, not its RSS link"
            )
        reason = f" ({_describe(result['bozo_exception'])})" if result.get("bozo_exception") else ""
        raise FeedParseError(f"not an RSS or Atom feed{reason}")
    title = _text(feed.get("title"))
    link = _text(feed.get("link"))
    if not raw_entries and not (title or link or _text(feed.get("subtitle"))):
        raise FeedParseError("the document has neither feed metadata nor entries")

    warning: str | None = encoding_note
    exc = result.get("bozo_exception")
    if result.get("bozo") and exc is not None and not isinstance(exc, _BENIGN_BOZO):
        complaint = f"malformed feed, parsed what could be recovered: {_describe(exc)}"
        warning = f"{warning}; {complaint}" if warning else complaint
    if len(raw_entries) > MAX_ENTRIES:
        extra = f"feed has {len(raw_entries)} entries, kept the first {MAX_ENTRIES}"
        warning = f"{warning}; {extra}" if warning else extra
        raw_entries = raw_entries[:MAX_ENTRIES]

    base = url if urlsplit(url).scheme in ("http", "https") else ""
    return ParsedFeed(
        title=title,
        link=_resolve(link, base) or None,
        entries=tuple(_entry(raw, base) for raw in raw_entries),
        warning=warning,
    )
