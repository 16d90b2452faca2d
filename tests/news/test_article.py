"""to_article: entries from the fixture feeds become clean, capped, fingerprinted Articles."""

from __future__ import annotations

import functools
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from news.article import (
    MAX_BODY,
    MAX_CATEGORIES,
    MAX_CATEGORY,
    MAX_SUMMARY,
    MAX_TITLE,
    clean_text,
    to_article,
)
from news.clean import clean_title
from news.dedup import canonical_url
from news.models import Article, FeedEntry
from news.parse import parse_feed

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
MANIFEST: dict[str, Any] = json.loads((FEEDS / "manifest.json").read_text(encoding="utf-8"))
OUTLET_FEEDS = sorted(n for n, info in MANIFEST.items() if not n.startswith("_") and "outlet" in info)
FEED_URL = "https://www.skynewsarabia.com/web/rss"


@functools.cache
def _articles(name: str) -> tuple[tuple[FeedEntry, Article | None], ...]:
    """Entries of a fixture feed with their articles (values are frozen, so sharing them is safe)."""
    info = MANIFEST[name]
    feed = parse_feed((FEEDS / name).read_bytes(), {"Content-Type": info["content_type"]}, info["feed_url"])
    return tuple(
        (e, to_article(e, source=name.removesuffix(".xml"), feed_url=info["feed_url"])) for e in feed.entries
    )


@pytest.mark.parametrize("name", OUTLET_FEEDS)
def test_every_outlet_entry_becomes_an_article(name: str) -> None:
    pairs = _articles(name)
    assert len(pairs) == 30
    for entry, article in pairs:
        assert article is not None
        assert article.url == entry.link
        assert article.canonical_url == canonical_url(entry.link)
        assert article.title == clean_title(entry.title) and article.title
        assert article.summary and "<" not in article.summary and "&quot;" not in article.summary
        assert article.source == name.removesuffix(".xml")
        assert article.published_at == entry.published
        assert article.guid == entry.guid
        assert article.categories == entry.categories
        assert re.fullmatch(r"[0-9a-f]{32}", article.fingerprint)
        assert article.topics == () and article.digest_summary == ""
        assert bool(article.body) == MANIFEST[name]["with_content"]


def test_outlet_feeds_have_no_duplicate_keys() -> None:
    articles = [a for name in OUTLET_FEEDS for _, a in _articles(name) if a is not None]
    assert len({a.canonical_url for a in articles}) == len(articles) == 150
    assert len({a.fingerprint for a in articles}) == len(articles)


def test_cnn_bodies_lose_their_datelines() -> None:
    bodies = [a.body for _, a in _articles("cnn.xml") if a is not None and a.body]
    raw = [e.content_html for e, _ in _articles("cnn.xml")]
    assert sum("(CNN)" in html[:120] for html in raw) >= 20  # the fixture does carry datelines
    for body in bodies:
        assert "(CNN)" not in body[:80]
        assert not body.startswith(("دبي،", "أتلانتا،", "نيويورك،", "واشنطن،", "-", "—"))


def test_title_prefixes_are_removed_from_outlet_titles() -> None:
    titles = [a.title for name in OUTLET_FEEDS for _, a in _articles(name) if a is not None]
    raw = [e.title for name in OUTLET_FEEDS for e, _ in _articles(name)]
    assert any(t.startswith(("شاهد..", "فيديو:", "بالفيديو..", "بالصور..")) for t in raw)
    assert not any(t.startswith(("شاهد..", "فيديو:", "بالفيديو..", "بالصور..")) for t in titles)


def test_dirty_feed_comes_out_clean() -> None:
    expected = MANIFEST["dirty.xml"]["expected"]
    pairs = _articles("dirty.xml")
    assert len(pairs) == len(expected) == 8
    for (_, article), want in zip(pairs, expected, strict=True):
        assert article is not None
        assert article.title == want["clean_title"]
        assert article.body.startswith(want["lead"])  # dateline stripped, caption and image gone
        for text in (article.summary, article.body):
            assert want["related_title"] not in text  # «اقرأ أيضاً» / «أقرا أيضا..» lines
            for junk in (
                "<",
                "alert",
                "color: red",
                "Getty",
                "صورة تعبيرية",
                "شارك:",
                "واتساب",
                "المصدر:",
                "©",
                "(صورة",
            ):
                assert junk not in text, junk
        assert "العربية.نت" not in article.body[:40] and "رويترز" not in article.body[:40]


def test_dirty_feed_title_only_prefix_is_kept() -> None:
    titles = [a.title for _, a in _articles("dirty.xml") if a is not None]
    assert "عاجل" in titles


def test_duplicates_fixture_groups() -> None:
    groups = MANIFEST["duplicates.xml"]["groups"]
    by_link = {a.url: a for _, a in _articles("duplicates.xml") if a is not None}
    assert len(by_link) == MANIFEST["duplicates.xml"]["items"]
    same_url = [by_link[u] for u in groups["same_url"]]
    assert len({a.canonical_url for a in same_url}) == 1
    assert len({a.fingerprint for a in same_url}) == 1
    repost = [by_link[u] for u in groups["same_content"]]
    assert len({a.canonical_url for a in repost}) == 2  # different URLs ...
    assert len({a.fingerprint for a in repost}) == 1  # ... same text, despite «عاجل:» and the diacritic
    assert repost[0].title == repost[1].title.replace("\u064e", "")
    distinct = {by_link[u].fingerprint for u in groups["distinct"]}
    assert len(distinct) == len(groups["distinct"])
    assert distinct.isdisjoint({same_url[0].fingerprint, repost[0].fingerprint})


# --------------------------------------------------------------------------------------------------
# Entries that cannot be stored, links, caps
# --------------------------------------------------------------------------------------------------


def _entry(**kwargs: Any) -> FeedEntry:
    fields: dict[str, Any] = {
        "guid": None,
        "link": "https://www.skynewsarabia.com/world/1",
        "title": "هبوط أسعار النفط",
    }
    fields.update(kwargs)
    return FeedEntry(**fields)


@pytest.mark.parametrize(
    ("entry", "url"),
    [
        (_entry(link="/world/1053870-x"), "https://www.skynewsarabia.com/world/1053870-x"),
        (_entry(link=" https://www.skynewsarabia.com/world/2 "), "https://www.skynewsarabia.com/world/2"),
        (
            _entry(link=None, guid="https://www.bbc.co.uk/arabic/world-44346982"),
            "https://www.bbc.co.uk/arabic/world-44346982",
        ),
        (_entry(link="", guid="http://www.bbc.co.uk/arabic/world-1"), "http://www.bbc.co.uk/arabic/world-1"),
    ],
)
def test_link_resolution(entry: FeedEntry, url: str) -> None:
    article = to_article(entry, source="sky", feed_url=FEED_URL)
    assert article is not None and article.url == url


@pytest.mark.parametrize(
    "entry",
    [
        _entry(link=None),
        _entry(link=None, guid="SK-world-1053870"),
        _entry(link=None, guid="tag:skynewsarabia.com,2018:1053870"),
        _entry(link="javascript:alert(1)"),
        _entry(link="mailto:news@skynewsarabia.com"),
        _entry(link="https://www.skynewsarabia.com/" + "a" * 5000),
        _entry(title=""),
        _entry(title="   "),
        _entry(title="<img src=x onerror=alert(1)>"),
        _entry(title="<script>عنوان مخفي</script>"),
        _entry(title="... - ..."),
    ],
)
def test_unstorable_entries_give_none(entry: FeedEntry) -> None:
    assert to_article(entry, source="sky", feed_url=FEED_URL) is None


def test_relative_link_without_feed_url_is_unusable() -> None:
    assert to_article(_entry(link="/world/1"), source="sky", feed_url="") is None


def test_hostile_sizes_are_capped() -> None:
    word = "كلمة "
    entry = _entry(
        title=word * 1_000,
        summary_html="<p>" + word * 20_000 + "</p>",
        content_html="<p>" + (word * 200 + "</p><p>") * 200 + "</p>",
        categories=(*(f"قسم {i}" for i in range(100)), "ق" * 1_000),
        guid="g" * 10_000,
    )
    article = to_article(entry, source="sky", feed_url=FEED_URL)
    assert article is not None
    assert len(article.title) <= MAX_TITLE and article.title.endswith("…")
    assert len(article.summary) <= MAX_SUMMARY and article.summary.endswith("…")
    assert len(article.body) <= MAX_BODY and article.body.endswith("…")
    assert not article.title.endswith(" …")  # cut at a word boundary, no dangling space
    assert len(article.categories) == MAX_CATEGORIES
    assert all(len(c) <= MAX_CATEGORY for c in article.categories)
    assert article.guid is not None and len(article.guid) < 2_000


def test_categories_are_cleaned_and_deduplicated() -> None:
    entry = _entry(categories=("اقتصاد", " اقتصاد ", "<b>رياضة</b>", "", "الشرق   الأوسط"))
    article = to_article(entry, source="sky", feed_url=FEED_URL)
    assert article is not None and article.categories == ("اقتصاد", "رياضة", "الشرق الأوسط")


def test_summary_and_body_are_cleaned_the_same_way() -> None:
    html = (
        "<p>(صورة: أرشيفية)</p><p>لندن - (رويترز) - ارتفعت أسعار النفط الثلاثاء.</p>"
        "<p>اقرأ أيضاً: <a href='/x'>خبر آخر</a></p><p>وقال محللون إن الطلب قوي.</p><p>© 2018 رويترز</p>"
    )
    expected = "ارتفعت أسعار النفط الثلاثاء.\nوقال محللون إن الطلب قوي."
    assert clean_text(html) == expected
    article = to_article(_entry(summary_html=html, content_html=html), source="sky", feed_url=FEED_URL)
    assert article is not None and article.summary == expected and article.body == expected


def test_fingerprint_uses_body_else_summary() -> None:
    with_body = to_article(
        _entry(summary_html="ملخص", content_html="<p>النص الكامل</p>"), source="s", feed_url=""
    )
    body_only = to_article(
        _entry(summary_html="ملخص آخر", content_html="النص الكامل"), source="s", feed_url=""
    )
    summary_only = to_article(_entry(summary_html="النص الكامل"), source="s", feed_url="")
    assert with_body is not None and body_only is not None and summary_only is not None
    assert with_body.fingerprint == body_only.fingerprint == summary_only.fingerprint


def test_published_date_passes_through() -> None:
    when = datetime(2018, 6, 4, 7, 12, 55, tzinfo=UTC)
    article = to_article(_entry(published=when), source="s", feed_url="")
    assert article is not None and article.published_at == when
