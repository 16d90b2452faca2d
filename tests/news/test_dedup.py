"""Canonical URLs and content fingerprints: every spelling of one article folds, different articles don't."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from news.dedup import FINGERPRINT_WORDS, canonical_url, content_fingerprint
from news.parse import parse_feed

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
MANIFEST: dict[str, Any] = json.loads((FEEDS / "manifest.json").read_text(encoding="utf-8"))

# Real ANT URLs: Al Arabiya links carry raw Arabic, Sky News links percent-encoded Arabic.
ALARABIYA_RAW = "https://www.alarabiya.net/ar/culture-and-art/2018/03/15/السدحان-بدون-فلتر-سيغير-مسار-الدراما-السعودية.html"
ALARABIYA_ENCODED = (
    "http://www.alarabiya.net/ar/culture-and-art/2018/03/15/%D8%A7%D9%84%D8%B3%D8%AF%D8%AD%D8%A7%D9%86-"
    "%D8%A8%D8%AF%D9%88%D9%86-%D9%81%D9%84%D8%AA%D8%B1-%D8%B3%D9%8A%D8%BA%D9%8A%D8%B1-%D9%85%D8%B3%D8%A7%D8%B1-"
    "%D8%A7%D9%84%D8%AF%D8%B1%D8%A7%D9%85%D8%A7-%D8%A7%D9%84%D8%B3%D8%B9%D9%88%D8%AF%D9%8A%D8%A9.html"
)
SKY_ENCODED = (
    "https://www.skynewsarabia.com/business/1164797-%D9%87%D8%A8%D9%88%D8%B7-%D8%A7%D9%94%D8%B3%D8%B9%D8%A7%D8%B1-"
    "%D8%A7%D9%84%D9%86%D9%81%D8%B7-%D9%84%D9%84%D9%8A%D9%88%D9%85-%D8%A7%D9%84%D8%AB%D8%A7%D9%86%D9%8A"
)


@pytest.mark.parametrize(
    ("variant", "original"),
    [
        (ALARABIYA_ENCODED, ALARABIYA_RAW),
        (ALARABIYA_RAW + "?utm_source=twitter&utm_medium=social&utm_campaign=share", ALARABIYA_RAW),
        (ALARABIYA_RAW + "#comments", ALARABIYA_RAW),
        (ALARABIYA_RAW.replace(".html", ".amp.html"), ALARABIYA_RAW),
        ("https://www.skynewsarabia.com/business/1164797-هبوط-أسعار-النفط-لليوم-الثاني", SKY_ENCODED),
        (SKY_ENCODED.replace("https://www.", "https://m.") + "/", SKY_ENCODED),
        (SKY_ENCODED.replace("skynewsarabia.com/", "skynewsarabia.com/amp/"), SKY_ENCODED),
        (SKY_ENCODED + "?outputType=amp", SKY_ENCODED),
        (SKY_ENCODED + "?amp", SKY_ENCODED),
        (SKY_ENCODED + "?amp=1&fbclid=IwAR0abc", SKY_ENCODED),
        (SKY_ENCODED + "/amp", SKY_ENCODED),
        (SKY_ENCODED + "/amp/", SKY_ENCODED),
        (
            "http://www.bbc.co.uk/arabic/art-and-culture-43105759",
            "https://bbc.co.uk/arabic/art-and-culture-43105759",
        ),
        (
            "https://www.bbc.co.uk/arabic/art-and-culture-43105759.amp",
            "https://bbc.co.uk/arabic/art-and-culture-43105759",
        ),
        (
            "https://amp.bbc.co.uk/arabic/art-and-culture-43105759",
            "https://bbc.co.uk/arabic/art-and-culture-43105759",
        ),
        (
            "HTTPS://ARABIC.CNN.COM:443/business/2018/02/13/vue-cinema-saudi-arabia/",
            "https://arabic.cnn.com/business/2018/02/13/vue-cinema-saudi-arabia",
        ),
        (
            "http://arabic.cnn.com:80/business/2018/./02/x/../13/vue-cinema-saudi-arabia",
            "https://arabic.cnn.com/business/2018/02/13/vue-cinema-saudi-arabia",
        ),
        ("https://arabic.cnn.com/world/article?b=2&a=1", "https://arabic.cnn.com/world/article?a=1&b=2"),
        (
            "https://arabic.cnn.com/world/article?id=7&ref=rss&ref_src=twsrc&gclid=x&cmpid=y&ocid=z",
            "https://arabic.cnn.com/world/article?id=7",
        ),
        (
            "https://www.france24.com/ar/20180126-فرنسا?q=مصر",
            "https://www.france24.com/ar/20180126-فرنسا?q=%D9%85%D8%B5%D8%B1",
        ),
        (
            "https://www.france24.com/ar/20180126-x?xtor=RSS-1&at_medium=rss&at_campaign=feed&ns_source=a&ns_mchannel=b",
            "https://www.france24.com/ar/20180126-x",
        ),
        ("https://user:secret@www.france24.com/ar/x", "https://france24.com/ar/x"),
        ("https://example.com", "https://example.com/"),
    ],
)
def test_url_spellings_fold_to_one_key(variant: str, original: str) -> None:
    assert canonical_url(variant) == canonical_url(original)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTP://WWW.Example.COM:80/a/./b/../c/?utm_source=x&b=2&a=1#frag",
            "https://example.com/a/c?a=1&b=2",
        ),
        (
            ALARABIYA_ENCODED,
            "https://alarabiya.net/ar/culture-and-art/2018/03/15/السدحان-بدون-فلتر-سيغير-مسار-الدراما-السعودية.html",
        ),
        # Combining hamza (U+0654) in Sky News slugs is composed (NFC) into «أ».
        (SKY_ENCODED, "https://skynewsarabia.com/business/1164797-هبوط-أسعار-النفط-لليوم-الثاني"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://example.com/a%2Fb/%7Euser/%41", "https://example.com/a%2Fb/~user/A"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("https://example.com/s?q=a+b", "https://example.com/s?q=a%20b"),
        (
            "https://example.com/legacy/%C7%E1%DA%D1%C8%ED%C9",
            "https://example.com/legacy/%C7%E1%DA%D1%C8%ED%C9",
        ),
        ("https://m.example.com/", "https://example.com/"),
        ("https://m.com/x", "https://m.com/x"),
        ("mailto:news@example.com", "mailto:news@example.com"),
        ("  not a url  ", "not a url"),
        ("http://[::1", "http://[::1"),
    ],
)
def test_canonical_url_exact_output(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://arabic.cnn.com/world/article?id=7", "https://arabic.cnn.com/world/article?id=8"),
        ("https://arabic.cnn.com/world/a", "https://arabic.cnn.com/world/A"),
        ("https://arabic.cnn.com/world/a", "https://edition.cnn.com/world/a"),
        ("https://www.bbc.co.uk/arabic/x", "https://www.bbc.com/arabic/x"),
        ("https://example.com/a%2Fb", "https://example.com/a/b"),
        ("https://example.com/x?page=2", "https://example.com/x"),
        ("https://example.com/x?amp=0", "https://example.com/x"),
        ("https://example.com/examples", "https://example.com/exampl"),
    ],
)
def test_different_pages_keep_different_keys(a: str, b: str) -> None:
    assert canonical_url(a) != canonical_url(b)


@pytest.mark.parametrize(
    "param",
    [
        "utm_source",
        "utm_content",
        "UTM_TERM",
        "fbclid",
        "gclid",
        "msclkid",
        "ref",
        "ref_src",
        "cmpid",
        "ocid",
        "at_medium",
        "at_custom1",
        "_ga",
        "mc_cid",
        "mc_eid",
        "igshid",
        "xtor",
        "ns_campaign",
    ],
)
def test_tracking_parameters_are_dropped(param: str) -> None:
    assert canonical_url(f"https://example.com/news/1?{param}=abc&id=1") == "https://example.com/news/1?id=1"


def _fixture_links() -> list[str]:
    links: list[str] = []
    for name, info in MANIFEST.items():
        if name.startswith("_") or info["format"] == "html":
            continue
        feed = parse_feed(
            (FEEDS / name).read_bytes(), {"Content-Type": info["content_type"]}, info["feed_url"]
        )
        links.extend(e.link for e in feed.entries if e.link)
    return links


def test_canonical_url_is_idempotent_on_every_fixture_link() -> None:
    links = _fixture_links()
    assert len(links) > 150
    for link in links:
        key = canonical_url(link)
        assert key.startswith("https://")
        assert canonical_url(key) == key


def test_duplicate_fixture_urls_share_one_key_and_others_do_not() -> None:
    groups = MANIFEST["duplicates.xml"]["groups"]
    same = {canonical_url(u) for u in groups["same_url"]}
    assert len(groups["same_url"]) == 6
    assert len(same) == 1
    others = {canonical_url(u) for u in groups["distinct"] + groups["same_content"]}
    assert len(others) == len(groups["distinct"]) + len(groups["same_content"])
    assert same.isdisjoint(others)


# --------------------------------------------------------------------------------------------------
# Content fingerprints
# --------------------------------------------------------------------------------------------------

TITLE = "هبوط أسعار النفط لليوم الثاني"
TEXT = (
    "نزلت أسعار النفط للجلسة الثانية، الثلاثاء، مع انحسار المخاوف من تعطل محتمل لبعض الإمدادات، في حين ركز "
    "المستثمرون على احتمال تضرر النمو العالمي من جراء تفاقم الخلاف التجاري بين الصين والولايات المتحدة.\n"
    "وتراجع العقود الآجلة لخام القياس العالمي مزيج برنت 32 سنتا بما يوازي 0.5 بالمئة إلى 71.52 دولار للبرميل."
)


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("عاجل: " + TITLE, TEXT),
        ("<b>عاجل</b> | " + TITLE, TEXT),
        ("هُبُوطُ أَسْعَارِ النِّفْطِ لِلْيَوْمِ الثَّانِي", TEXT),  # tashkeel
        ("هبوط اسعار النفط لليوم الثاني", TEXT),  # hamza dropped
        ("هبـــوط أسعار النفط لليوم الثاني", TEXT),  # tatweel
        ("  هبوط أسعار   النفط لليوم الثاني.  ", TEXT),
        (TITLE, TEXT.replace("32", "٣٢").replace("0.5", "٠.٥")),  # Arabic-Indic digits
        (TITLE, "<p>" + TEXT.replace("\n", "</p><p>") + "</p>"),  # markup between the words
        (TITLE, TEXT + "\nاقرأ أيضا: شيء آخر تماما بعد الكلمات الأولى"),  # change after the first N words
    ],
)
def test_same_article_same_fingerprint(title: str, text: str) -> None:
    assert content_fingerprint(title, text) == content_fingerprint(TITLE, TEXT)


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("ارتفاع أسعار النفط لليوم الثاني", TEXT),
        (TITLE, TEXT.replace("الثلاثاء", "الأربعاء")),
        (TITLE, TEXT.split("\n")[1]),
        (TITLE, ""),
        ("", TEXT),
    ],
)
def test_different_article_different_fingerprint(title: str, text: str) -> None:
    assert content_fingerprint(title, text) != content_fingerprint(TITLE, TEXT)


def test_fingerprint_looks_at_the_first_words_only() -> None:
    words = TEXT.split()
    head = " ".join(words[:FINGERPRINT_WORDS])
    assert content_fingerprint(TITLE, head + " مختلف") == content_fingerprint(TITLE, head + " آخر")
    assert content_fingerprint(TITLE, head, words=10) != content_fingerprint(TITLE, head)


def test_fingerprint_is_hex() -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", content_fingerprint(TITLE, TEXT))
