"""Digest sections → Telegram-HTML pages: escaped, right-to-left safe, each within Telegram's limit.

Rules this module keeps, whatever the stories contain:

* Only the tags Telegram's HTML mode knows are produced (b, i, u, s, a, code, pre, blockquote; in practice
  b, i, u and a), every text field is escaped with ``html.escape`` and every ``href`` is an http(s) URL;
  a story with any other URL is shown unlinked.
* Each line whose first visible character is not a right-to-left letter (a Latin title, a number, a
  hashtag, a quotation mark) starts with U+200F RIGHT-TO-LEFT MARK, so Telegram's first-strong-character
  rule does not turn the line left-to-right inside an Arabic digest.
* Pages break only between stories, each page is balanced HTML on its own and at most ``max_len`` long as
  Telegram counts it (``telegram_length``: UTF-16 units of the text left after entity parsing). A section
  that continues on the next page repeats its heading with «(تابع)»; continued pages carry «(٢/٣)».

It does not choose stories (``news.digest``), send anything, or decide when a digest is due.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from news.calendar import Digits, date_line, day_month, to_digits
from news.digest import TopicSection
from news.models import DigestPage, DigestStory, StorySource

TELEGRAM_MAX_LEN = 4096
MIN_PAGE_LEN = 1024
"""Smallest ``max_len`` accepted: with the field caps below, any single story fits in it."""
ALLOWED_TAGS = frozenset({"b", "i", "u", "s", "a", "code", "pre", "blockquote"})
RLM = "\u200f"

TITLE_MAX = 300
SOURCE_NAME_MAX = 60
HEADING_MAX = 64
DIGEST_TITLE_MAX = 64
OTHER_SOURCES_SHOWN = 5
_SUMMARY_SCAN = 3 * TELEGRAM_MAX_LEN  # characters of a summary worth looking at; a page holds fewer
_MIN_SUMMARY = 24  # a shortened summary below this many units says nothing; drop it instead

_TAG = re.compile(r"<[^>]*>")
_WS = re.compile(r"\s+")
# Telegram's character references: four names and numeric ones, the semicolon optional.
_REFERENCE = re.compile(r"&(?:#[xX]([0-9a-fA-F]+)|#([0-9]+)|([A-Za-z]+));?")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# Bidi embeddings, overrides and isolates, plus C0/C1 controls: an unterminated U+202E in a title would
# reverse the rest of the message, so fields lose them. Plain marks (U+200E/U+200F) are harmless and stay.
_UNSAFE = re.compile("[\u202a-\u202e\u2066-\u2069\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_URL_SAFE = "!#$%&'()*+,-./:;=?@[]~_"


@dataclass(frozen=True, slots=True)
class _Strings:
    title: str
    source: str
    cont: str
    yesterday: str
    empty: str
    ellipsis_list: str
    list_sep: str

    def others(self, n: int, digits: Digits) -> str:
        return _others_ar(n, digits) if self is _AR else _others_en(n, digits)


_AR = _Strings(
    title="نشرة",
    source="المصدر",
    cont="تابع",
    yesterday="أمس",
    empty="لا جديد في مواضيعك منذ النشرة السابقة.",
    ellipsis_list="، …",
    list_sep="، ",
)
_EN = _Strings(
    title="Digest",
    source="Source",
    cont="cont.",
    yesterday="Yesterday",
    empty="Nothing new in your topics since the last digest.",
    ellipsis_list=", …",
    list_sep=", ",
)


def _strings(lang: str) -> _Strings:
    return _AR if lang == "ar" else _EN


def _others_ar(n: int, digits: Digits) -> str:
    """«ومصدر آخر», «ومصدران آخران», «و ٣ مصادر أخرى», «و ١١ مصدرًا آخر» with Arabic number agreement."""
    if n == 1:
        return "ومصدر آخر"
    if n == 2:
        return "ومصدران آخران"
    count = to_digits(str(n), digits)
    rest = n % 100
    if 3 <= rest <= 10:
        return f"و {count} مصادر أخرى"
    if 11 <= rest <= 99:
        return f"و {count} مصدرًا آخر"
    # 100, 101, 102, 200…: the counted noun follows the hundred in the singular genitive.
    return f"و {count} مصدر آخر"


def _others_en(n: int, digits: Digits) -> str:
    if n == 1:
        return "and one other source"
    return f"and {to_digits(str(n), digits)} other sources"


def other_sources_phrase(n: int, digits: Digits = "arabic", lang: str = "ar") -> str:
    """The «و N مصادر أخرى» phrase for ``n`` ≥ 1 other sources, in the chat's digits."""
    if n < 1:
        raise ValueError("other_sources_phrase needs at least one other source")
    return _strings(lang).others(n, digits)


def telegram_length(html_text: str) -> int:
    """Length of ``html_text`` as Telegram limits it: UTF-16 units of the text after entity parsing.

    Tags are removed and character references decoded the way Telegram does (only ``&lt; &gt; &amp;
    &quot;`` and numeric references; anything else, like ``&nbsp;``, stays literal text), so URLs inside
    ``href`` do not count. Meant for Telegram HTML as this module writes it (attributes escaped, no ``>``
    inside tags); it is not a general HTML parser and does not validate.
    """
    return _utf16_len(_visible(html_text))


def safe_href(url: str) -> str | None:
    """``url`` ready for an ``href`` when it is an absolute http(s) URL with a host, else ``None``.

    Non-ASCII characters and spaces are percent-encoded (an IRI becomes a URI); existing escapes stay.
    The result still has to be attribute-escaped.
    """
    url = url.strip()
    if not url or _UNSAFE.search(url) or any(c in url for c in "\r\n\t"):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(url, safe=_URL_SAFE)


def clean_field(text: str) -> str:
    """A display field as one safe line: bidi overrides and controls removed, whitespace collapsed."""
    return _WS.sub(" ", _UNSAFE.sub("", text)).strip()


def needs_rlm(visible_line: str) -> bool:
    """True when the line's first visible character is not a right-to-left letter (bidi R or AL).

    That covers Latin letters, digits (ASCII and Arabic-Indic alike: neither is a strong character),
    URLs, ``#`` hashtags, quotation marks and emoji. A line that already starts with a mark is left alone.
    """
    for ch in visible_line:
        if ch.isspace():
            continue
        if ch == RLM:
            return False
        return unicodedata.bidirectional(ch) not in ("R", "AL")
    return False


def shorten(text: str, max_units: int) -> str:
    """``text`` cut to at most ``max_units`` UTF-16 units at a word boundary, with «…» when cut."""
    if _utf16_len(text) <= max_units:
        return text
    if max_units < 1:
        return ""
    budget = max_units - 1  # room for the ellipsis
    cut = text[:budget]
    while (over := _utf16_len(cut) - budget) > 0:  # astral characters take two units each
        cut = cut[: len(cut) - (over + 1) // 2]
    space = cut.rfind(" ")
    if space > len(cut) // 2:  # prefer a word boundary unless it throws away most of the text
        cut = cut[:space]
    return cut.rstrip(" ،,;:-—") + "…"


def render_digest(
    sections: Sequence[TopicSection],
    *,
    now: datetime,
    tz: ZoneInfo,
    digits: Digits = "arabic",
    title: str = "نشرة",
    lang: str = "ar",
    max_len: int = TELEGRAM_MAX_LEN,
    preview_top_story: bool = False,
    cache: RenderCache | None = None,
) -> list[DigestPage]:
    """Pages of the digest, in order; an empty list when the sections hold no story.

    ``now`` gives the header date (in ``tz``) and tells "today" from "yesterday" for story times. Page
    ``index`` starts at 0. Link previews stay off, except on the first page when ``preview_top_story``
    is set and the top story has a linkable URL (its link is then the first link Telegram sees).
    Pass one ``RenderCache`` to all digests of a tick so each story is rendered once per timezone,
    digits and language instead of once per chat.
    """
    if not MIN_PAGE_LEN <= max_len <= TELEGRAM_MAX_LEN:
        raise ValueError(f"max_len must be between {MIN_PAGE_LEN} and {TELEGRAM_MAX_LEN}")
    sections = [s for s in sections if s.stories]
    if not sections:
        return []
    strings = _strings(lang)
    marks = lang == "ar"
    title = _digest_title(title, strings)
    today = now.astimezone(tz).date()
    blocks = cache if cache is not None else RenderCache()
    first_header, first_len = _header(title, today, digits, lang)
    total_stories = sum(len(s.stories) for s in sections)
    # Continued pages learn their total only at the end; reserve room for the widest «(n/n)».
    reserved = telegram_length(_cont_header(title, total_stories + 1, total_stories + 1, digits, marks))

    pages: list[list[str]] = []
    parts: list[str] = [first_header]
    used = first_len
    has_story = False
    for section in sections:
        heading_on_page = False
        for j, story in enumerate(section.stories):
            block, block_len, fixed_len = blocks.block(story, tz, today, digits, lang)
            extra = 0
            if not heading_on_page:
                heading, heading_len = _heading(section.heading, j > 0, lang)
                extra = 2 + heading_len
            if has_story and used + extra + 2 + block_len > max_len:
                pages.append(parts)
                parts, used, has_story = [], reserved, False
                heading, heading_len = _heading(section.heading, j > 0, lang)
                heading_on_page, extra = False, 2 + heading_len
            if used + extra + 2 + block_len > max_len:
                room = max_len - used - extra - 2
                when = _when(story.published_at, tz, today, digits, lang)
                parts_ = blocks._story_parts(story, digits, lang)
                block, block_len = _shortened_block(parts_, when, marks, room, fixed_len)
            if not heading_on_page:
                parts.append(heading)
                heading_on_page = True
            parts.append(block)
            used += extra + 2 + block_len
            has_story = True
    pages.append(parts)

    count = len(pages)
    top_linkable = safe_href(sections[0].stories[0].url) is not None
    result: list[DigestPage] = []
    for index, page_parts in enumerate(pages):
        if index > 0:
            page_parts = [_cont_header(title, index + 1, count, digits, marks), *page_parts]
        text = "\n\n".join(page_parts)
        preview = index == 0 and preview_top_story and top_linkable
        result.append(DigestPage(index=index, html=text, disable_preview=not preview))
    return result


def render_empty(
    *,
    now: datetime,
    tz: ZoneInfo,
    digits: Digits = "arabic",
    title: str = "نشرة",
    lang: str = "ar",
) -> DigestPage:
    """The one-line «لا جديد» message; whether to send it at all is the caller's choice."""
    strings = _strings(lang)
    title = _digest_title(title, strings)
    day = date_line(now.astimezone(tz).date(), digits, lang)
    return DigestPage(
        index=0,
        html=_mark(f"<b>{_esc(title)}</b> · {_esc(day)}: {_esc(strings.empty)}", lang == "ar"),
        disable_preview=True,
    )


# --- pieces -------------------------------------------------------------------------------------------


def _utf16_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _visible(html_text: str) -> str:
    text = _TAG.sub("", html_text)
    return _REFERENCE.sub(_decode_reference, text) if "&" in text else text


def _decode_reference(match: re.Match[str]) -> str:
    hexadecimal, decimal, name = match.groups()
    if name is not None:
        return _NAMED.get(name, match[0])
    value = int(hexadecimal, 16) if hexadecimal is not None else int(decimal)
    if value == 0 or value >= 0x10FFFF or 0xD800 <= value <= 0xDFFF:
        return match[0]
    return chr(value)


def _mark(html_line: str, marks: bool) -> str:
    """Prefix RLM when the line would otherwise start left-to-right (see ``needs_rlm``)."""
    if marks and needs_rlm(_visible(html_line)):
        return RLM + html_line
    return html_line


def _digest_title(title: str, strings: _Strings) -> str:
    if strings is not _AR and title == _AR.title:
        title = strings.title
    return shorten(clean_field(title), DIGEST_TITLE_MAX) or strings.title


@lru_cache(maxsize=512)
def _header(title: str, today: date, digits: Digits, lang: str) -> tuple[str, int]:
    """First-page header and its length; memoized since every chat of a tick shares a handful."""
    marks = lang == "ar"
    text = "\n".join(
        [_mark(f"<b>{_esc(title)}</b>", marks), _mark(_esc(date_line(today, digits, lang)), marks)]
    )
    return text, telegram_length(text)


def _cont_header(title: str, page: int, count: int, digits: Digits, marks: bool) -> str:
    numbers = to_digits(f"({page}/{count})", digits)
    return _mark(f"<b>{_esc(title)} {numbers}</b>", marks)


@lru_cache(maxsize=1024)
def _heading(name: str, continued: bool, lang: str) -> tuple[str, int]:
    """A section heading (with «(تابع)» when continued) and its length; memoized like ``_header``."""
    text = shorten(clean_field(name), HEADING_MAX)
    if continued:
        text = f"{text} ({_strings(lang).cont})"
    html_text = _mark(f"<u><b>{_esc(text)}</b></u>", lang == "ar")
    return html_text, telegram_length(html_text)


def _link(text: str, url: str) -> str:
    href = safe_href(url)
    if href is None:
        return _esc(text)
    return f'<a href="{_esc(href)}">{_esc(text)}</a>'


def _when(published: datetime | None, tz: ZoneInfo, today: date, digits: Digits, lang: str) -> str:
    if published is None:
        return ""
    local = published.astimezone(tz)
    clock = to_digits(local.strftime("%H:%M"), digits)
    if local.date() == today:
        return clock
    if local.date() == today - timedelta(days=1):
        return f"{_strings(lang).yesterday} {clock}"
    return f"{day_month(local.date(), digits, lang)} {clock}"


@dataclass(frozen=True, slots=True)
class _Parts:
    """The timezone-independent pieces of a story block, with their Telegram lengths."""

    title: str
    title_len: int
    summary: str
    summary_line: str
    summary_len: int
    sources: str  # «المصدر: … و N مصادر أخرى: <a>…</a>» without the time and the <i> wrapper
    sources_len: int


def _parts(story: DigestStory, digits: Digits, lang: str) -> _Parts:
    marks = lang == "ar"
    title = shorten(clean_field(story.title), TITLE_MAX) or "…"
    title_line = _mark(f"<b>{_link(title, story.url)}</b>", marks)
    summary = _summary(story)
    summary_line = _mark(_esc(summary), marks) if summary else ""
    sources = _sources(story, digits, lang)
    return _Parts(
        title_line,
        telegram_length(title_line),
        summary,
        summary_line,
        telegram_length(summary_line),
        sources,
        telegram_length(sources),
    )


def _sources(story: DigestStory, digits: Digits, lang: str) -> str:
    strings = _strings(lang)
    primary = shorten(clean_field(story.source), SOURCE_NAME_MAX)
    if not primary:
        return ""
    others: dict[str, StorySource] = {}
    for other in story.other_sources:
        name = shorten(clean_field(other.source), SOURCE_NAME_MAX)
        if name and name != primary and name not in others:
            others[name] = other
    line = f"{_esc(strings.source)}: {_esc(primary)}"
    if others:
        shown = [_link(name, s.url) for name, s in list(others.items())[:OTHER_SOURCES_SHOWN]]
        listing = strings.list_sep.join(shown)
        if len(others) > OTHER_SOURCES_SHOWN:
            listing += _esc(strings.ellipsis_list)
        line += f" {_esc(strings.others(len(others), digits))}: {listing}"
    return line


def _assemble(parts: _Parts, when: str, summary_line: str, marks: bool) -> tuple[str, int]:
    """Title, summary and «time · sources» lines joined, with the block's Telegram length.

    Lengths are added up from the cached parts instead of re-parsing the block: lines are joined by one
    newline each and ``when`` is plain text, so its visible length is its own.
    """
    lines = [parts.title]
    length = parts.title_len
    if summary_line:
        lines.append(summary_line)
        same = summary_line is parts.summary_line
        length += 1 + (parts.summary_len if same else telegram_length(summary_line))
    if when or parts.sources:
        tail = " · ".join(p for p in (_esc(when), parts.sources) if p)
        sources_line = _mark(f"<i>{tail}</i>", marks)
        lines.append(sources_line)
        length += 1 + _utf16_len(when) + (3 if when and parts.sources else 0) + parts.sources_len
        length += 1 if sources_line.startswith(RLM) else 0
    return "\n".join(lines), length


def _summary(story: DigestStory) -> str:
    """The cleaned summary; text far beyond any page is dropped before cleaning so huge input stays cheap."""
    return clean_field(story.summary[:_SUMMARY_SCAN])


class RenderCache:
    """Rendered story blocks shared by the digests of one tick.

    Most chats share a timezone, digits and language, so a story's block is the same in thousands of
    digests. Blocks are kept by ``story_id`` plus those settings, and a hit is used only when the cached
    story shows the same title, URL, summary, sources and time (``topics`` do not matter: copies made
    with ``dataclasses.replace`` to add topics still hit). Make one per tick and drop it afterwards: it
    never evicts.
    """

    __slots__ = ("_blocks", "_parts")

    def __init__(self) -> None:
        self._parts: dict[tuple[int, str, str], tuple[DigestStory, _Parts]] = {}
        self._blocks: dict[tuple[int, ZoneInfo, date, str, str], tuple[DigestStory, str, int, int]] = {}

    def __len__(self) -> int:
        return len(self._blocks)

    def _story_parts(self, story: DigestStory, digits: Digits, lang: str) -> _Parts:
        key = (story.story_id, digits, lang)
        hit = self._parts.get(key)
        if hit is not None and _same_display(hit[0], story):
            return hit[1]
        parts = _parts(story, digits, lang)
        self._parts[key] = (story, parts)
        return parts

    def block(
        self, story: DigestStory, tz: ZoneInfo, today: date, digits: Digits, lang: str
    ) -> tuple[str, int, int]:
        """(html, telegram length, length without the summary line) of one story."""
        key = (story.story_id, tz, today, digits, lang)
        hit = self._blocks.get(key)
        if hit is not None and _same_display(hit[0], story):
            return hit[1], hit[2], hit[3]
        parts = self._story_parts(story, digits, lang)
        when = _when(story.published_at, tz, today, digits, lang)
        block, length = _assemble(parts, when, parts.summary_line, lang == "ar")
        fixed = length - (parts.summary_len + 1 if parts.summary_line else 0)
        self._blocks[key] = (story, block, length, fixed)
        return block, length, fixed


def _same_display(a: DigestStory, b: DigestStory) -> bool:
    """Would ``a`` and ``b`` render the same block? Cheap for copies: equal fields are the same objects."""
    return a is b or (
        a.title == b.title
        and a.url == b.url
        and a.summary == b.summary
        and a.source == b.source
        and a.published_at == b.published_at
        and a.other_sources == b.other_sources
    )


def _shortened_block(parts: _Parts, when: str, marks: bool, room: int, fixed_len: int) -> tuple[str, int]:
    """The story with its summary cut to fit ``room`` units (or dropped when too little is left)."""
    # The summary line costs its text, a newline, and possibly a leading RLM.
    budget = room - fixed_len - 2
    cut = shorten(parts.summary, budget) if budget >= _MIN_SUMMARY else ""
    block, length = _assemble(parts, when, _mark(_esc(cut), marks) if cut else "", marks)
    if length > room:  # pragma: no cover - the field caps and MIN_PAGE_LEN make this unreachable
        raise RuntimeError("a story does not fit on a page even without its summary")
    return block, length
