"""Breaking-news alerts: after an ingestion pass, find stories that just broke and queue one alert per chat.

A story breaks when enough outlets report it quickly (``news.alerts.breaking_moment``). Its alerts are
written to the outbox in one transaction with the story's ``breaking_at`` mark, so a crash before the
commit leaves no trace and the next pass tries again, and two passes never queue it twice. The delivery
worker then sends them like digest pages: same limits, same retries, same crash safety.

A chat gets the alert when it turned alerts on, follows one of the story's topics (built-in, or one of
its keyword topics matching the title and summary), has not muted every outlet that told it, is not in
its quiet hours and is under its daily cap (counted in its local day).
A chat that is skipped (quiet, capped) is not asked again for that story: its next digest carries it.
Nothing here sends or reads the clock.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from jobs.digest import zone
from news.alerts import (
    AlertRules,
    Report,
    breaking_moment,
    fresh_enough,
    is_urgent,
    quiet_now,
    render_alert,
    visible_story,
)
from news.calendar import Digits
from news.models import DigestStory, Topic
from news.topics import ArticleTerms, KeywordMatcher
from storage import alerts as alert_store
from storage import chats as chat_store
from storage import stories as story_store
from storage.alerts import ArticleReport
from storage.chats import ChatSettings
from storage.db import Database

log = logging.getLogger(__name__)

ALERTS_PER_DAY_MIN = 1
ALERTS_PER_DAY_MAX = 20


@dataclass(slots=True)
class AlertRun:
    """What one pass did, for logs, tests and the benchmark."""

    candidates: int = 0
    breaking: list[int] = field(default_factory=list)
    queued: int = 0
    quiet: int = 0
    capped: int = 0
    muted: int = 0
    chats: list[int] = field(default_factory=list)
    """Telegram ids of the chats that got an alert queued."""


def reports_of(rows: Sequence[ArticleReport]) -> list[Report]:
    """An article counts from when it was published, but never later than when it was fetched."""
    return [
        Report(
            r.source,
            min(r.published_at, r.fetched_at) if r.published_at else r.fetched_at,
            is_urgent("", r.categories),
        )
        for r in rows
    ]


def _local_day_start(chat: ChatSettings, now: datetime) -> datetime:
    local = now.astimezone(zone(chat.timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


async def run_alerts(db: Database, now: datetime, *, rules: AlertRules | None = None) -> AlertRun:
    """Queue the alerts of every story that broke since the last pass; see the module docstring."""
    rules = rules or AlertRules()
    run = AlertRun()
    async with db.session() as s:
        candidates = await alert_store.candidate_reports(s, now - rules.window - rules.max_age)
    run.candidates = len(candidates)
    broken: dict[int, datetime] = {}
    for story_id, reports in candidates.items():
        moment = breaking_moment(reports_of(reports), rules)
        if moment is not None and fresh_enough(moment, now, rules):
            broken[story_id] = moment
    if not broken:
        return run
    async with db.session() as s:
        stories = await story_store.stories_by_ids(s, sorted(broken))
        chats = await alert_store.alert_chats(s)
        earlier = await alert_store.alert_times(s, now - timedelta(hours=26))
        keyword = await chat_store.keyword_topics_for(s, [c.id for c in chats])
    # Most outlets first: when a chat's cap runs out, it is the smaller story that waits for the digest.
    stories.sort(key=lambda st: (-st.source_count, st.story_id))
    async with db.session() as s, s.begin():
        claimed = set(await alert_store.claim_breaking(s, [st.story_id for st in stories], now))
        broke = [st for st in stories if st.story_id in claimed]
        rows = _fan_out(broke, chats, earlier, now, run, keyword=keyword)
        await alert_store.queue_alerts(s, rows, now=now)
    run.breaking = sorted(claimed)
    run.queued = len(rows)
    if rows:
        log.info("alerts: %d stories broke, %d alerts queued", len(claimed), len(rows))
    return run


def _fan_out(
    stories: Sequence[DigestStory],
    chats: Sequence[ChatSettings],
    earlier: dict[int, list[datetime]],
    now: datetime,
    run: AlertRun,
    *,
    keyword: Mapping[int, Sequence[Topic]] | None = None,
) -> list[tuple[int, int, str]]:
    """``(chat pk, story id, html)`` for every chat that should get each story's alert.

    A chat follows a story when one of the story's built-in topics is among the chat's, or when one of
    the chat's keyword topics matches the story's title and summary (as in the digest).
    """
    keyword = keyword or {}
    matchers: dict[tuple[tuple[str, ...], tuple[str, ...]], KeywordMatcher] = {}
    rows: list[tuple[int, int, str]] = []
    rendered: dict[tuple[int, str, str, frozenset[str]], str] = {}
    left: dict[int, int] = {}
    for chat in chats:
        day_start = _local_day_start(chat, now)
        sent_today = sum(1 for at in earlier.get(chat.id, ()) if at >= day_start)
        left[chat.id] = max(0, chat.alerts_per_day - sent_today)
    for story in stories:
        topics = set(story.topics)
        outlets = {story.source, *(o.source for o in story.other_sources)}
        terms = ArticleTerms.of(story.title, story.summary)
        for chat in chats:
            if not topics.intersection(chat.topics) and not any(
                _matcher(matchers, t).matches(terms) for t in keyword.get(chat.id, ())
            ):
                continue
            local = now.astimezone(zone(chat.timezone))
            if quiet_now(local.hour * 60 + local.minute, chat.quiet_start, chat.quiet_end):
                run.quiet += 1
                continue
            if left[chat.id] <= 0:
                run.capped += 1
                continue
            muted = chat.muted_sources & outlets
            if muted >= outlets:
                run.muted += 1
                continue
            key = (story.story_id, chat.language, chat.digits, frozenset(muted))
            text = rendered.get(key)
            if text is None:
                shown = visible_story(story, frozenset(muted))
                assert shown is not None
                digits: Digits = "western" if chat.digits == "western" else "arabic"
                text = rendered[key] = render_alert(shown, lang=chat.language, digits=digits)
            rows.append((chat.id, story.story_id, text))
            left[chat.id] -= 1
            run.chats.append(chat.telegram_id)
    return rows


def _matcher(
    cache: dict[tuple[tuple[str, ...], tuple[str, ...]], KeywordMatcher], topic: Topic
) -> KeywordMatcher:
    """One compiled matcher per keyword definition: chats often define the same topic."""
    key = (tuple(topic.keywords), tuple(topic.excluded))
    matcher = cache.get(key)
    if matcher is None:
        matcher = cache[key] = KeywordMatcher(topic)
    return matcher
