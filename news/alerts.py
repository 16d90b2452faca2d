"""Breaking news: when a story deserves an alert, when a chat may get one, and what the alert says.

A story is breaking when either

* at least ``AlertRules.outlets`` distinct outlets report it within ``AlertRules.window``; or
* one outlet marks its item urgent («عاجل» in the headline or a category) and another outlet reports the
  same story within ``AlertRules.urgent_window`` of it.

``breaking_moment`` answers with the instant the story first met a rule, from plain reports (outlet, time,
urgent flag). Whether a chat receives the alert (topics, muted outlets, quiet hours, daily cap) is decided
by ``quiet_now`` and the caller; ``render_alert`` writes the one short message. No I/O, no clock: ``now``
is always a parameter.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from news.arabic import normalize
from news.calendar import Digits, to_digits
from news.models import DigestStory, StorySource
from news.render import RLM, clean_field, needs_rlm, safe_href

URGENT = "عاجل"
_URGENT_NORMALIZED = normalize(URGENT)
ALERT_TITLE_MAX = 200
ALERT_SUMMARY_MAX = 200
ALERT_SOURCES_SHOWN = 6


@dataclass(frozen=True, slots=True)
class AlertRules:
    """The two breaking-news thresholds, and how stale a breaking moment may be and still alert.

    ``max_age`` keeps a first ingestion pass over a backlog (or a restart after downtime) from alerting
    stories that broke hours ago: the digest carries those.
    """

    outlets: int = 3
    window: timedelta = timedelta(minutes=60)
    urgent_window: timedelta = timedelta(minutes=30)
    max_age: timedelta = timedelta(hours=2)

    def __post_init__(self) -> None:
        if self.outlets < 2:
            raise ValueError("a breaking story needs at least two outlets")
        if min(self.window, self.urgent_window, self.max_age) <= timedelta(0):
            raise ValueError("alert windows must be positive")


@dataclass(frozen=True, slots=True)
class Report:
    """One outlet's article about a story: when it appeared and whether the outlet flagged it urgent."""

    source: str
    at: datetime
    urgent: bool = False


def is_urgent(title: str, categories: Iterable[str]) -> bool:
    """Does the headline or a category carry «عاجل» (any spelling the normalizer folds together)?"""
    if _URGENT_NORMALIZED in normalize(title):
        return True
    return any(_URGENT_NORMALIZED in normalize(c) for c in categories)


def breaking_moment(reports: Iterable[Report], rules: AlertRules) -> datetime | None:
    """The first instant at which the story met either rule, or ``None`` if it never did."""
    ordered = sorted((r for r in reports if r.source), key=lambda r: r.at)
    found: list[datetime] = []
    start = 0
    for end, latest in enumerate(ordered):
        while ordered[start].at < latest.at - rules.window:
            start += 1
        if len({r.source for r in ordered[start : end + 1]}) >= rules.outlets:
            found.append(latest.at)
            break
    for flagged in (r for r in ordered if r.urgent):
        for other in ordered:
            if other.source != flagged.source and abs(other.at - flagged.at) <= rules.urgent_window:
                found.append(max(other.at, flagged.at))
                break
    return min(found) if found else None


def fresh_enough(moment: datetime, now: datetime, rules: AlertRules) -> bool:
    return now - moment <= rules.max_age


def quiet_now(local_minute: int, start: int | None, end: int | None) -> bool:
    """Is ``local_minute`` (0–1439) inside the quiet hours ``[start, end)``, which may wrap midnight?

    ``None`` (or equal ends) means no quiet hours.
    """
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= local_minute < end
    return local_minute >= start or local_minute < end


# --- which outlets a chat sees ----------------------------------------------------------------------


def visible_story(story: DigestStory, muted: frozenset[str]) -> DigestStory | None:
    """``story`` as a chat that muted ``muted`` outlets sees it, or ``None`` if only muted outlets told it.

    Only unmuted outlets are named. When the story's lead outlet is muted, the first unmuted outlet's
    version leads instead (its title and link); its summary is not known here, so the story shows none
    rather than borrowing the muted outlet's words.
    """
    if not muted:
        return story
    tellings = [StorySource(story.source, story.url, story.title), *story.other_sources]
    kept = [t for t in tellings if t.source not in muted]
    if not kept:
        return None
    if len(kept) == len(tellings):
        return story
    lead, rest = kept[0], tuple(kept[1:])
    if lead.source == story.source:
        return DigestStory(
            story.story_id, story.title, story.url, story.summary, story.source, story.published_at,
            story.topics, rest,
        )  # fmt: skip
    return DigestStory(
        story.story_id, lead.title, lead.url, "", lead.source, story.published_at, story.topics, rest
    )


def alerted_earlier(story: DigestStory, lang: str) -> DigestStory:
    """``story`` with its title marked «سبق التنبيه»: the chat got an alert about it already."""
    mark = "🔔 سبق التنبيه ·" if lang == "ar" else "🔔 Alerted earlier ·"
    return DigestStory(
        story.story_id, f"{mark} {story.title}", story.url, story.summary, story.source,
        story.published_at, story.topics, story.other_sources,
    )  # fmt: skip


def titles_only(story: DigestStory) -> DigestStory:
    """``story`` without its summary, for chats that chose the short digest."""
    if not story.summary:
        return story
    return DigestStory(
        story.story_id, story.title, story.url, "", story.source, story.published_at, story.topics,
        story.other_sources,
    )  # fmt: skip


# --- the message --------------------------------------------------------------------------------------


def _one_line(text: str, limit: int) -> str:
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.6 else cut).rstrip(" ،,.") + "…"


def render_alert(story: DigestStory, *, lang: str = "ar", digits: Digits = "arabic") -> str:
    """The alert as Telegram HTML: a heading, the linked title, one summary line, the linked sources.

    Every field is escaped and cut to one line; only http(s) links are made. Always far below 4096.
    """
    tellings: Sequence[StorySource] = [
        StorySource(story.source, story.url, story.title),
        *story.other_sources,
    ]
    names: dict[str, str] = {}
    for t in tellings:
        name = _one_line(clean_field(t.source), 60)
        if name and name not in names:
            names[name] = t.url
    heading = "🔴 <b>عاجل</b>" if lang == "ar" else "🔴 <b>Breaking</b>"
    count = to_digits(str(len(names)), digits)
    heading += f" · {count} {'مصادر' if lang == 'ar' else 'sources'}" if len(names) > 1 else ""
    title = html.escape(_one_line(clean_field(story.title), ALERT_TITLE_MAX) or "…", quote=False)
    href = safe_href(story.url)
    title_line = f'<b><a href="{html.escape(href)}">{title}</a></b>' if href else f"<b>{title}</b>"
    lines = [heading, title_line]
    summary = _one_line(clean_field(story.summary), ALERT_SUMMARY_MAX)
    if summary:
        lines.append(html.escape(summary, quote=False))
    shown = []
    for name, url in list(names.items())[:ALERT_SOURCES_SHOWN]:
        link = safe_href(url)
        label = html.escape(name, quote=False)
        shown.append(f'<a href="{html.escape(link)}">{label}</a>' if link else label)
    if shown:
        lead = "المصادر" if lang == "ar" else "Sources"
        lines.append(f"<i>{lead}: {('، ' if lang == 'ar' else ', ').join(shown)}</i>")
    if lang == "ar":
        lines = [line if not needs_rlm(_visible(line)) else RLM + line for line in lines]
    return "\n".join(lines)


_TAG = re.compile(r"<[^>]*>")


def _visible(line: str) -> str:
    return html.unescape(_TAG.sub("", line))
