"""news.charset: a declared charset stands while the bytes are valid in it; when not, content decides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from news.charset import arabic_share, content_charset, declared_charsets

FEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
MANIFEST = json.loads((FEEDS / "manifest.json").read_text(encoding="utf-8"))
TITLES: list[str] = MANIFEST["cp1256.xml"]["titles"]
PROSE = " ".join(TITLES)  # real Arabic headlines (Sky News Arabia, ANT corpus)


def test_claims_come_strongest_first() -> None:
    body = b'\xef\xbb\xbf<?xml version="1.0" encoding="windows-1256"?><rss/>'
    headers = {"Content-Type": "application/rss+xml; charset=UTF-8"}
    assert declared_charsets(body, headers) == ["utf-8", "UTF-8", "windows-1256"]
    assert declared_charsets(b"<?xml version='1.0' encoding='ISO-8859-6'?><rss/>", {}) == ["ISO-8859-6"]
    assert declared_charsets(b"<rss/>", {"content-type": 'text/xml; charset="windows-1256"'}) == [
        "windows-1256"
    ]
    assert declared_charsets(b"<rss/>", {"content-type": "application/xml"}) == []


@pytest.mark.parametrize(
    ("body", "declared"),
    [
        (PROSE.encode("utf-8"), ["utf-8"]),
        (PROSE.encode("cp1256"), ["windows-1256"]),
        (PROSE.encode("cp1256"), ["windows-1256", "utf-8"]),  # the stronger claim holds: it decodes
        (b"plain ASCII headline", ["us-ascii"]),
        (PROSE.encode("cp1256"), []),  # nothing declared: RFC 3023's defaults are feedparser's business
    ],
)
def test_a_declaration_the_bytes_are_valid_in_stands(body: bytes, declared: list[str]) -> None:
    assert content_charset(body, declared) is None


@pytest.mark.parametrize(
    "declared",
    [["utf-8"], ["UTF-8", "utf-8"], ["us-ascii"], ["x-no-such-charset"], ["utf-8", "windows-1256"]],
)
def test_windows_1256_bytes_under_a_false_claim_are_read_as_windows_1256(declared: list[str]) -> None:
    body = PROSE.encode("cp1256")
    charset = content_charset(body, declared)
    assert charset == "cp1256"
    assert body.decode(charset) == PROSE


def test_a_utf8_feed_with_one_stray_byte_stays_utf8() -> None:
    body = PROSE.encode("utf-8").replace(b" ", b" \x92 ", 1)  # one windows-1252 quote in the middle
    assert content_charset(body, ["utf-8"]) == "utf-8"


def test_latin_text_under_a_false_utf8_claim_falls_back_to_windows_1252() -> None:
    body = "Le café de l'été à Genève".encode("cp1252")
    charset = content_charset(body, ["utf-8"])
    assert charset == "cp1252"
    assert body.decode(charset) == "Le café de l'été à Genève"


def test_arabic_share_ranks_the_right_reading_above_each_kind_of_mojibake() -> None:
    right = arabic_share(PROSE)
    assert right > 0.95
    as_latin = PROSE.encode("cp1256").decode("cp1252", "replace")  # «ÇáÈÚËÉ»
    utf8_as_1256 = PROSE.encode("utf-8").decode("cp1256")  # «ط§ظ„»
    cp1256_as_utf8 = PROSE.encode("cp1256").decode("utf-8", "replace")  # «���»
    for wrong in (as_latin, utf8_as_1256, cp1256_as_utf8):
        assert arabic_share(wrong) < right - 0.3, wrong[:40]
    assert arabic_share("ASCII only") == 0.0


def test_without_arabic_a_charset_that_reads_every_byte_wins_the_tie() -> None:
    body = "Le café de l'été".encode("cp1252")
    assert content_charset(body, ["us-ascii"]) == "cp1252"  # UTF-8 would leave replacement characters
