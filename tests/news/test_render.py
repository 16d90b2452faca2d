"""Digest rendering: golden files from real stories, and properties that must hold for any input.

Golden files live in ``tests/news/golden/*.html``, one per rendering variant, pages separated by an HTML
comment line. They are compared byte for byte and never rewritten by a normal run. After an intended
change to the output, regenerate them and review the diff before committing:

    NASHRA_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/news/test_render.py

The stories come from ``tests/fixtures/digest/stories.json`` (real ANT corpus articles, see
ATTRIBUTION.md there; rebuilt by ``scripts/make_digest_fixtures.py``).
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import random
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from news.calendar import Digits
from news.digest import TopicSection, select_stories
from news.models import DigestPage, DigestStory, StorySource
from news.render import (
    ALLOWED_TAGS,
    MIN_PAGE_LEN,
    RLM,
    RenderCache,
    needs_rlm,
    other_sources_phrase,
    render_digest,
    render_empty,
    safe_href,
    shorten,
    telegram_length,
)

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
FIXTURE = HERE.parent / "fixtures" / "digest" / "stories.json"
REGENERATE = os.environ.get("NASHRA_REGEN_GOLDEN") == "1"

CAIRO = ZoneInfo("Africa/Cairo")
NAMES = {
    "world": "العالم",
    "middle_east": "الشرق الأوسط",
    "economy": "اقتصاد",
    "sports": "رياضة",
    "technology": "تقنية",
    "culture": "ثقافة وفن",
}
NAMES_EN = {
    "world": "World",
    "middle_east": "Middle East",
    "economy": "Economy",
    "sports": "Sports",
    "technology": "Technology",
    "culture": "Culture",
}


# --- helpers ------------------------------------------------------------------------------------------


class TagChecker(HTMLParser):
    """Records every tag and attribute and checks nesting with a stack."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.stack.append(tag)
        names = [k for k, _ in attrs]
        if tag == "a":
            if names != ["href"]:
                self.errors.append(f"<a> with attributes {names}")
            self.hrefs.append(attrs[0][1] or "")
        elif attrs:
            self.errors.append(f"<{tag}> with attributes {names}")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing <{tag}/>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.errors.append("comment")

    def handle_decl(self, decl: str) -> None:
        self.errors.append("declaration")


def check_page(html: str, max_len: int = 4096) -> TagChecker:
    """Assert the page is what Telegram accepts: short enough, balanced, known tags, http(s) links."""
    checker = TagChecker()
    checker.feed(html)
    checker.close()
    assert not checker.errors, checker.errors
    assert not checker.stack, f"unclosed {checker.stack}"
    assert set(checker.tags) <= ALLOWED_TAGS
    assert all(re.match(r"https?://[^\s\"<>]+$", h) for h in checker.hrefs), checker.hrefs
    assert telegram_length(html) <= max_len
    assert telegram_length(html) == len("".join(checker.text).encode("utf-16-le")) // 2
    return checker


def visible(html: str) -> str:
    checker = TagChecker()
    checker.feed(html)
    checker.close()
    return "".join(checker.text)


def load_fixture() -> list[DigestStory]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return [
        DigestStory(
            story_id=s["story_id"],
            title=s["title"],
            url=s["url"],
            summary=s["summary"],
            source=s["source"],
            published_at=datetime.fromisoformat(s["published_at"]),
            topics=tuple(s["topics"]),
            other_sources=tuple(StorySource(o["source"], o["url"], o["title"]) for o in s["other_sources"]),
        )
        for s in data["stories"]
    ]


def serialize(pages: list[DigestPage]) -> str:
    out = []
    for page in pages:
        out.append(f"<!-- page {page.index + 1}/{len(pages)} disable_preview={page.disable_preview} -->")
        out.append(page.html)
    return "\n".join(out) + "\n"


def compare_golden(name: str, pages: list[DigestPage]) -> None:
    path = GOLDEN / f"{name}.html"
    text = serialize(pages)
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with NASHRA_REGEN_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} differs; see the module docstring"


def mk(
    story_id: int,
    title: str = "",
    *,
    url: str | None = None,
    summary: str = "ملخص قصير للخبر.",
    source: str = "الجزيرة",
    hours_ago: float = 1,
    others: int = 0,
    topics: tuple[str, ...] = ("world",),
) -> DigestStory:
    return DigestStory(
        story_id=story_id,
        title=title or f"خبر رقم {story_id}",
        url=f"https://example.com/news/{story_id}" if url is None else url,
        summary=summary,
        source=source,
        published_at=NOW - timedelta(hours=hours_ago),
        topics=topics,
        other_sources=tuple(
            StorySource(f"مصدر {k}", f"https://source{k}.example/{story_id}", "عنوان") for k in range(others)
        ),
    )


NOW = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)  # 07:00 in Cairo, a Sunday


def one(stories: list[DigestStory], key: str = "world", heading: str = "العالم") -> list[TopicSection]:
    return [TopicSection(key, heading, tuple(stories))]


# --- golden files -------------------------------------------------------------------------------------

FIXTURE_NOW = datetime(2018, 3, 14, 5, 0, tzinfo=UTC)  # 07:00 in Cairo, a Wednesday
FIXTURE_SINCE = datetime(2018, 3, 1, tzinfo=UTC)
ALL_TOPICS = ["middle_east", "world", "economy", "sports", "technology", "culture"]


def fixture_sections(names: dict[str, str] = NAMES) -> list[TopicSection]:
    return select_stories(load_fixture(), topics=ALL_TOPICS, since=FIXTURE_SINCE, topic_names=names)


def test_fixture_is_present_and_real() -> None:
    stories = load_fixture()
    assert len(stories) >= 10
    assert sum(1 for s in stories if s.other_sources) >= 3
    assert all(s.url.startswith("http") for s in stories)


@pytest.mark.parametrize(
    ("name", "tz", "digits", "max_len"),
    [
        ("ar_cairo_arabic_digits", "Africa/Cairo", "arabic", 4096),
        ("ar_riyadh_western_digits_paged", "Asia/Riyadh", "western", 1200),
        ("ar_casablanca_arabic_digits_paged", "Africa/Casablanca", "arabic", 1600),
    ],
)
def test_golden_arabic(name: str, tz: str, digits: Digits, max_len: int) -> None:
    pages = render_digest(
        fixture_sections(),
        now=FIXTURE_NOW,
        tz=ZoneInfo(tz),
        digits=digits,
        max_len=max_len,
        preview_top_story=True,
    )
    for page in pages:
        check_page(page.html, max_len)
    compare_golden(name, pages)


def test_golden_english() -> None:
    pages = render_digest(
        fixture_sections(NAMES_EN), now=FIXTURE_NOW, tz=ZoneInfo("Europe/London"), digits="western", lang="en"
    )
    compare_golden("en_london_western_digits", pages)


def test_golden_empty() -> None:
    pages = [
        render_empty(now=FIXTURE_NOW, tz=CAIRO),
        render_empty(now=FIXTURE_NOW, tz=CAIRO, digits="western", lang="en"),
    ]
    compare_golden("empty", pages)


def test_golden_paged_variant_really_pages() -> None:
    pages = render_digest(fixture_sections(), now=FIXTURE_NOW, tz=ZoneInfo("Asia/Riyadh"), max_len=1200)
    assert len(pages) >= 3
    assert "(2/" in to_western(pages[1].html) or "(٢/" in pages[1].html


def to_western(s: str) -> str:
    return s.translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789"))


# --- header, stories, sources ------------------------------------------------------------------------


def test_header_has_arabic_date_and_hijri() -> None:
    (page,) = render_digest(one([mk(1)]), now=NOW, tz=CAIRO)
    lines = page.html.split("\n")
    assert lines[0] == "<b>نشرة</b>"
    assert lines[1] == "الأحد ٢٩ نوفمبر ٢٠٢٦ م · ١٩ جمادى الآخرة ١٤٤٨ هـ"


def test_header_uses_local_date_of_the_chat() -> None:
    late = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)  # already Sunday in Riyadh, still Saturday in UTC
    (page,) = render_digest(one([mk(1)]), now=late, tz=ZoneInfo("Asia/Riyadh"), digits="western")
    assert page.html.split("\n")[1].startswith("الأحد 29 نوفمبر 2026")


def test_story_block_title_summary_sources_and_local_time() -> None:
    story = mk(7, "ارتفاع أسعار النفط", others=3, hours_ago=1.5, summary="ارتفعت الأسعار اليوم.")
    (page,) = render_digest(one([story]), now=NOW, tz=CAIRO)
    block = page.html.split("\n\n")[2]
    title, summary, sources = block.split("\n")
    assert title == '<b><a href="https://example.com/news/7">ارتفاع أسعار النفط</a></b>'
    assert summary == "ارتفعت الأسعار اليوم."
    # 03:30 UTC is 05:30 in Cairo (UTC+2); the line starts with a digit, hence the mark.
    assert sources.startswith(RLM + "<i>٠٥:٣٠ · المصدر: الجزيرة و ٣ مصادر أخرى: ")
    assert '<a href="https://source0.example/7">مصدر 0</a>، <a href="https://source1.example/7">' in sources
    assert sources.endswith("</i>")


def test_story_time_in_chat_digits_and_day_labels() -> None:
    stories = [mk(1, hours_ago=1), mk(2, hours_ago=20), mk(3, hours_ago=50)]
    (page,) = render_digest(one(stories), now=NOW, tz=CAIRO, digits="western")
    text = visible(page.html)
    assert "06:00 · " in text
    assert "أمس 11:00 · " in text
    assert "27 نوفمبر 05:00 · " in text


@pytest.mark.parametrize(
    ("n", "arabic"),
    [
        (1, "ومصدر آخر"),
        (2, "ومصدران آخران"),
        (3, "و ٣ مصادر أخرى"),
        (10, "و ١٠ مصادر أخرى"),
        (11, "و ١١ مصدرًا آخر"),
        (25, "و ٢٥ مصدرًا آخر"),
        (99, "و ٩٩ مصدرًا آخر"),
        (100, "و ١٠٠ مصدر آخر"),
        (103, "و ١٠٣ مصادر أخرى"),
        (111, "و ١١١ مصدرًا آخر"),
    ],
)
def test_other_sources_number_agreement(n: int, arabic: str) -> None:
    assert other_sources_phrase(n, "arabic") == arabic


def test_other_sources_phrase_in_western_digits_and_english() -> None:
    assert other_sources_phrase(4, "western") == "و 4 مصادر أخرى"
    assert other_sources_phrase(1, "western", "en") == "and one other source"
    assert other_sources_phrase(12, "arabic", "en") == "and ١٢ other sources"
    with pytest.raises(ValueError):
        other_sources_phrase(0)


def test_many_other_sources_show_five_links_and_the_full_count() -> None:
    (page,) = render_digest(one([mk(1, others=12)]), now=NOW, tz=CAIRO)
    assert "و ١٢ مصدرًا آخر: " in page.html
    assert page.html.count("source") == 5
    assert "، …</i>" in page.html


def test_other_sources_same_outlet_as_primary_are_not_listed() -> None:
    story = DigestStory(
        1,
        "عنوان",
        "https://a.example/1",
        "ملخص",
        "الجزيرة",
        NOW,
        ("world",),
        (
            StorySource("الجزيرة", "https://a.example/2", "t"),
            StorySource("العربية", "https://b.example/1", "t"),
        ),
    )
    (page,) = render_digest(one([story]), now=NOW, tz=CAIRO)
    assert 'ومصدر آخر: <a href="https://b.example/1">العربية</a>' in page.html
    assert "a.example/2" not in page.html


def test_english_fixed_strings_and_no_marks() -> None:
    (page,) = render_digest(
        one([mk(1, others=2)], heading="World"), now=NOW, tz=CAIRO, lang="en", digits="western"
    )
    assert page.html.startswith("<b>Digest</b>\nSunday 29 November 2026")
    assert "Source: الجزيرة and 2 other sources: " in page.html
    assert RLM not in page.html


# --- right-to-left safety ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    ["iPhone 17 يصل إلى الأسواق", "2026 عام الانتخابات", "١٢ قتيلًا في حادث", "#عاجل انفجار", '"GM" تكشف'],
)
def test_title_lines_starting_ltr_or_neutral_get_rlm(title: str) -> None:
    (page,) = render_digest(one([mk(1, title)]), now=NOW, tz=CAIRO)
    title_line = page.html.split("\n\n")[2].split("\n")[0]
    assert title_line.startswith(RLM + "<b><a ")


@pytest.mark.parametrize(
    "summary", ["https://example.com هو الرابط", "#هاشتاغ في البداية", "100 ألف متظاهر", "BBC: تقرير"]
)
def test_summary_lines_starting_ltr_or_neutral_get_rlm(summary: str) -> None:
    (page,) = render_digest(one([mk(1, summary=summary)]), now=NOW, tz=CAIRO)
    summary_line = page.html.split("\n\n")[2].split("\n")[1]
    assert summary_line.startswith(RLM)
    assert visible(summary_line) == RLM + summary


def test_arabic_lines_get_no_mark() -> None:
    (page,) = render_digest(one([mk(1, "عنوان عربي", summary="نص عربي")]), now=NOW, tz=CAIRO)
    title_line, summary_line, _ = page.html.split("\n\n")[2].split("\n")
    assert not title_line.startswith(RLM)
    assert not summary_line.startswith(RLM)


def test_every_line_starts_rtl_or_with_a_mark() -> None:
    stories = [
        mk(i, random_title(random.Random(i)), summary=random_title(random.Random(-i))) for i in range(40)
    ]
    for page in render_digest(one(stories), now=NOW, tz=CAIRO, digits="western"):
        for line in page.html.split("\n"):
            text = visible(line)
            if text.strip():
                assert text.startswith(RLM) or not needs_rlm(text), line


def test_needs_rlm_rule() -> None:
    assert needs_rlm("Hello") and needs_rlm(" 12 خبر") and needs_rlm("#وسم") and needs_rlm("٣ أخبار")
    assert not needs_rlm("مرحبا") and not needs_rlm("  خبر") and not needs_rlm(RLM + "Hello")
    assert not needs_rlm("")


def test_bidi_overrides_and_controls_are_stripped() -> None:
    (page,) = render_digest(one([mk(1, "عنوان \u202eمقلوب\u202c\x07 هنا\nوسطر")]), now=NOW, tz=CAIRO)
    assert "\u202e" not in page.html and "\x07" not in page.html
    assert "عنوان مقلوب هنا وسطر" in page.html


# --- escaping and links ------------------------------------------------------------------------------


def test_hostile_fields_are_escaped() -> None:
    hostile = '<script>alert("x")</script> & "quoted" \'single\' <b>bold</b>'
    story = DigestStory(
        1,
        hostile,
        'https://evil.example/a"onmouseover="alert(1)',
        hostile,
        "<i>outlet</i>",
        NOW,
        ("world",),
        (StorySource('other"><script>', "https://x.example/?q=<script>", "t"),),
    )
    (page,) = render_digest(one([story], heading="<u>heading</u> & co"), now=NOW, tz=CAIRO)
    checker = check_page(page.html)
    assert "<script" not in page.html
    assert (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quoted&quot; &#x27;single&#x27;"
        in page.html
    )
    assert hostile in visible(page.html)
    assert "<u>heading</u> & co" in visible(page.html)
    assert checker.tags.count("a") == 2
    assert checker.hrefs[0] == "https://evil.example/a%22onmouseover=%22alert(1)"
    assert checker.hrefs[1] == "https://x.example/?q=%3Cscript%3E"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>",
        "tg://resolve?domain=x",
        "ftp://example.com/file",
        "//example.com/scheme-relative",
        "http:no-host",
        "",
        "https://exa mple.com/\nnewline",
    ],
)
def test_non_http_urls_are_shown_unlinked(url: str) -> None:
    (page,) = render_digest(one([mk(1, "عنوان الخبر", url=url)]), now=NOW, tz=CAIRO, preview_top_story=True)
    check_page(page.html)
    assert "<a " not in page.html
    assert "<b>عنوان الخبر</b>" in page.html
    assert page.disable_preview  # no link to preview
    assert safe_href(url) is None


def test_safe_href_encodes_iris_and_keeps_escapes() -> None:
    assert (
        safe_href("https://ar.example/أخبار/1?a=b c")
        == "https://ar.example/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/1?a=b%20c"
    )
    assert safe_href("HTTPS://example.com/a%20b#frag") == "HTTPS://example.com/a%20b#frag"


# --- lengths and pages -------------------------------------------------------------------------------


def test_telegram_length_counts_utf16_after_entity_parsing() -> None:
    assert telegram_length("<b>a&amp;b</b>") == 3
    assert telegram_length('<a href="https://very-long.example/' + "x" * 500 + '">link</a>') == 4
    assert telegram_length("😀") == 2
    assert telegram_length("&lt;&gt;&quot;&#x27;") == 4
    assert telegram_length("عربي") == 4
    assert telegram_length("&nbsp;") == 6  # Telegram knows only four named references
    assert telegram_length("&#1575;&#x627;&amp") == 3


def test_shorten_cuts_at_word_boundary() -> None:
    assert shorten("كلمة أولى ثانية ثالثة", 12) == "كلمة أولى…"
    assert shorten("قصير", 10) == "قصير"
    assert shorten("😀😀😀", 4) == "😀…"


def test_preview_only_for_top_story_on_first_page_when_asked() -> None:
    stories = [mk(i, summary="كلام " * 150) for i in range(30)]
    pages = render_digest(one(stories), now=NOW, tz=CAIRO)
    assert len(pages) > 1 and all(p.disable_preview for p in pages)
    pages = render_digest(one(stories), now=NOW, tz=CAIRO, preview_top_story=True)
    assert not pages[0].disable_preview and all(p.disable_preview for p in pages[1:])
    first_href = check_page(pages[0].html).hrefs[0]
    assert first_href == stories[0].url


def test_continued_pages_have_numbers_and_continued_headings() -> None:
    stories = [mk(i, summary="كلام " * 150) for i in range(30)]
    pages = render_digest(one(stories), now=NOW, tz=CAIRO)
    count = len(pages)
    assert count >= 3
    assert "(" not in pages[0].html.split("\n")[0]
    for page in pages[1:]:
        header, heading = page.html.split("\n\n")[:2]
        assert header == f"<b>نشرة ({to_arabic(page.index + 1)}/{to_arabic(count)})</b>"
        assert heading == "<u><b>العالم (تابع)</b></u>"
    assert [p.index for p in pages] == list(range(count))


def to_arabic(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


def test_new_section_on_new_page_is_not_marked_continued() -> None:
    a = [mk(i, summary="كلام " * 150) for i in range(6)]
    b = [mk(100 + i, summary="كلام " * 150) for i in range(6)]
    sections = [TopicSection("world", "العالم", tuple(a)), TopicSection("economy", "اقتصاد", tuple(b))]
    pages = render_digest(sections, now=NOW, tz=CAIRO, max_len=MIN_PAGE_LEN)
    headings = [h for p in pages for h in p.html.split("\n\n") if h.startswith("<u>")]
    assert headings.count("<u><b>العالم</b></u>") == 1
    assert headings.count("<u><b>اقتصاد</b></u>") == 1
    assert "<u><b>اقتصاد (تابع)</b></u>" in headings


def test_single_huge_story_is_shortened_at_a_word_boundary() -> None:
    words = [f"كلمة{i}" for i in range(3000)]
    summary = " ".join(words)
    (page,) = render_digest(one([mk(1, summary=summary, others=12)]), now=NOW, tz=CAIRO)
    check_page(page.html)
    shown = page.html.split("\n\n")[2].split("\n")[1]
    assert shown.endswith("…")
    prefix = shown[:-1]
    assert summary.startswith(prefix) and summary[len(prefix)] == " "
    assert telegram_length(page.html) > 4096 - 200  # it used the room it had


def test_too_small_pages_are_refused_and_empty_input_gives_no_pages() -> None:
    with pytest.raises(ValueError):
        render_digest(one([mk(1)]), now=NOW, tz=CAIRO, max_len=MIN_PAGE_LEN - 1)
    assert render_digest([], now=NOW, tz=CAIRO) == []
    assert render_digest([TopicSection("world", "العالم", ())], now=NOW, tz=CAIRO) == []


def test_render_empty_is_one_line() -> None:
    page = render_empty(now=NOW, tz=CAIRO)
    assert "\n" not in page.html
    assert "لا جديد" in page.html
    assert page.html.startswith("<b>نشرة</b> · الأحد ٢٩ نوفمبر ٢٠٢٦")
    assert page.disable_preview and page.index == 0
    check_page(page.html)


# --- properties over many random stories ------------------------------------------------------------

_WORDS = [
    "خبر",
    "عاجل",
    "iPhone",
    "2026",
    "١٢",
    "#وسم",
    "<b>",
    "&",
    '"',
    "'",
    "😀",
    "الرئيس",
    "BBC",
    "https://x.y",
]
_URLS = [
    "https://ok.example/{}",
    "http://ok.example/{}?a=1&b=2",
    "javascript:alert({})",
    "tg://x/{}",
    "ftp://f/{}",
]


def random_title(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 12)))


def random_story(rng: random.Random, story_id: int) -> DigestStory:
    length = rng.choice([0, 5, 40, 200, 2000, 6000])
    summary = " ".join(rng.choices(_WORDS, k=length))
    title = f"⟦{story_id}⟧ {random_title(rng)}" + ("ط" * rng.choice([0, 0, 500]))
    others = tuple(
        StorySource(
            rng.choice(_WORDS) + str(k) + "س" * rng.choice([0, 100]), rng.choice(_URLS).format(k), "t"
        )
        for k in range(rng.choice([0, 1, 2, 3, 11, 20]))
    )
    return DigestStory(
        story_id=story_id,
        title=title,
        url=rng.choice(_URLS).format(story_id),
        summary=summary,
        source=rng.choice(["الجزيرة", "BBC عربي", "<سكاي>", "x" * 200]),
        published_at=NOW - timedelta(minutes=rng.randint(0, 3000)) if rng.random() > 0.05 else None,
        topics=(rng.choice(["world", "economy", "sports"]),),
        other_sources=others,
    )


@pytest.mark.parametrize(
    ("seed", "max_len", "digits"), [(1, 4096, "arabic"), (2, 1500, "western"), (3, 1024, "arabic")]
)
def test_properties_for_200_random_stories(seed: int, max_len: int, digits: Digits) -> None:
    rng = random.Random(seed)
    stories = [random_story(rng, i) for i in range(200)]
    sections = [
        TopicSection(
            key,
            f"قسم {key} " + ("ـ" * (200 if key == "sports" else 0)),
            tuple(s for s in stories if s.topics[0] == key),
        )
        for key in ("world", "economy", "sports")
    ]
    pages = render_digest(sections, now=NOW, tz=CAIRO, digits=digits, max_len=max_len, title="Nashra <&>")
    assert len(pages) > 1
    order: list[int] = []
    for page in pages:
        check_page(page.html, max_len)
        assert page.disable_preview
        chunks = page.html.split("\n\n")
        assert "Nashra &lt;&amp;&gt;" in chunks[0]
        for chunk in chunks[1:]:
            found = [int(m) for m in re.findall(r"⟦(\d+)⟧", chunk)]
            if chunk.lstrip(RLM).startswith("<u>"):  # a section heading
                assert not found
                continue
            # A story block: exactly one story, complete (title line first, sources line last).
            assert len(found) == 1, chunk[:200]
            lines = chunk.split("\n")
            assert f"⟦{found[0]}⟧" in lines[0]
            story = stories[found[0]]
            assert lines[-1].lstrip(RLM).startswith("<i>") and lines[-1].endswith("</i>")
            assert story.source[:10] in html.unescape(lines[-1])
            order.append(found[0])
    expected = [s.story_id for section in sections for s in section.stories]
    assert order == expected  # every story once, in section order, none split or lost


def test_cached_block_lengths_equal_telegram_length() -> None:
    rng = random.Random(11)
    cache = RenderCache()
    for i in range(150):
        story = random_story(rng, i)
        for tz, digits, lang in [(CAIRO, "arabic", "ar"), (ZoneInfo("America/New_York"), "western", "en")]:
            block, length, fixed = cache.block(story, tz, NOW.date(), digits, lang)
            assert length == telegram_length(block)
            summary_lines = 1 if story.summary.strip() else 0
            bare = "\n".join(
                line for k, line in enumerate(block.split("\n")) if not (summary_lines and k == 1)
            )
            assert fixed == telegram_length(bare)
            assert cache.block(story, tz, NOW.date(), digits, lang) == (block, length, fixed)


def test_cache_reuses_blocks_only_for_the_same_display_content() -> None:
    cache = RenderCache()
    a = mk(1, "عنوان أ")
    b = mk(1, "عنوان ب")  # same id, different content: must not be confused
    assert "عنوان أ" in cache.block(a, CAIRO, NOW.date(), "arabic", "ar")[0]
    assert "عنوان ب" in cache.block(b, CAIRO, NOW.date(), "arabic", "ar")[0]
    tagged = dataclasses.replace(b, topics=("world", "kw:gaza"))  # a copy with extra topics still hits
    assert cache.block(tagged, CAIRO, NOW.date(), "arabic", "ar") == cache.block(
        b, CAIRO, NOW.date(), "arabic", "ar"
    )
    assert len(cache) == 1
    western = cache.block(mk(2, hours_ago=1), CAIRO, NOW.date(), "western", "ar")[0]
    assert "06:00" in western
    pages_shared = render_digest(one([a, b]), now=NOW, tz=CAIRO, cache=cache)
    assert pages_shared == render_digest(one([a, b]), now=NOW, tz=CAIRO)
