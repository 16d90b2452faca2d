"""The one place a feed entry becomes a storable ``Article``.

Everything an ingest needs to decide "is this new?" is computed here from the entry alone: display
title, absolute URL and its canonical key, cleaned summary and body, content fingerprint. Length caps
keep a hostile or broken feed from bloating the database. Topics and the digest summary are left
empty: classifying and summarizing belong to other modules.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from news.alerts import URGENT, is_urgent
from news.clean import clean_body, clean_title, html_to_text, strip_dateline
from news.dedup import canonical_url, content_fingerprint
from news.models import Article, FeedEntry

MAX_TITLE = 500
MAX_SUMMARY = 5_000
MAX_BODY = 20_000
MAX_URL = 4_096
MAX_GUID = 1_024
MAX_CATEGORIES = 20
MAX_CATEGORY = 100
MAX_HTML = 100_000
"""HTML beyond this many characters is not even parsed: the text cap would discard it anyway."""
MAX_RAW_TITLE = 5_000
_WORK_TEXT = 2 * MAX_BODY  # plain text looked at by the line filters; the rest would be capped away

_USABLE = re.compile(r"[^\W_]")
_ELLIPSIS = "…"


def _cap(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a word boundary when one is near, with «…»."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(_ELLIPSIS)]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space >= limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + _ELLIPSIS


def clean_text(markup: str) -> str:
    """Feed HTML → reader text: markup, boilerplate lines and the lead's dateline removed.

    Boilerplate goes first so that a caption or «اقرأ أيضا» line above the lead does not hide the
    dateline from ``strip_dateline``, which only looks at the first line.
    """
    return strip_dateline(clean_body(html_to_text(markup[:MAX_HTML])[:_WORK_TEXT]))


def _http_url(candidate: str | None, base: str) -> str | None:
    """``candidate`` made absolute against ``base``, if it is an http(s) URL of sane length."""
    if not candidate or not candidate.strip():
        return None
    try:
        url = urljoin(base, candidate.strip()) if base else candidate.strip()
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        return None
    return url


def _guid_url(guid: str | None) -> str | None:
    """A guid counts as a link only when it is already an absolute http(s) URL (RSS isPermaLink)."""
    if guid and guid.strip().lower().startswith(("http://", "https://")):
        return _http_url(guid, "")
    return None


def _categories(raw: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for category in raw:
        text = _cap(" ".join(html_to_text(category).split()), MAX_CATEGORY)
        if text:
            seen.setdefault(text, None)
        if len(seen) >= MAX_CATEGORIES:
            break
    return tuple(seen)


def to_article(entry: FeedEntry, *, source: str, feed_url: str) -> Article | None:
    """Build the cleaned ``Article`` for ``entry``, or ``None`` when it cannot be stored.

    ``None`` for an entry without a usable title (nothing left after ``clean_title``) and for one
    without an http(s) link; a missing link falls back to the guid when the guid is an absolute URL.
    Relative links are resolved against ``feed_url``. Summary and body are ``clean_text`` of the
    description and of the full content; the fingerprint covers the title and the start of the body
    (the summary when there is no body). Title, summary, body, guid and categories are capped.
    """
    url = _http_url(entry.link, feed_url) or _guid_url(entry.guid)
    if url is None:
        return None
    title = _cap(clean_title(entry.title[:MAX_RAW_TITLE]), MAX_TITLE)
    if not _USABLE.search(title):
        return None
    summary = _cap(clean_text(entry.summary_html), MAX_SUMMARY)
    body = _cap(clean_text(entry.content_html), MAX_BODY)
    guid = entry.guid.strip()[:MAX_GUID] if entry.guid and entry.guid.strip() else None
    return Article(
        url=url,
        canonical_url=canonical_url(url),
        title=title,
        summary=summary,
        body=body,
        guid=guid,
        published_at=entry.published,
        source=source,
        categories=_urgent_mark(entry.title[:MAX_RAW_TITLE], _categories(entry.categories)),
        fingerprint=content_fingerprint(title, body or summary),
    )


def _urgent_mark(raw_title: str, categories: tuple[str, ...]) -> tuple[str, ...]:
    """``categories`` plus «عاجل» when the raw headline carried it.

    ``clean_title`` strips «عاجل:» from the display title, yet breaking-news alerts need to know the
    outlet flagged the item; keeping the flag as a category puts both signals in one stored field.
    """
    if URGENT in categories or not is_urgent(raw_title, ()):
        return categories
    return (*categories[: MAX_CATEGORIES - 1], URGENT)
