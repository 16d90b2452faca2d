"""Operator statistics: feeds, today's articles and stories per topic, subscribers, the outbox.

Read-only aggregate queries; the deliveries table is read directly here (rather than through the outbox
module) so that ``/stats`` works whatever state the delivery code is in.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.chats import count_chats
from storage.db import Database
from storage.schema import ArticleRow, Delivery, Feed, Story


@dataclass(frozen=True, slots=True)
class Stats:
    feeds: dict[str, int] = field(default_factory=dict)  # ok | failing | disabled | new | total
    articles_today: int = 0
    stories_today: int = 0
    articles_by_topic: dict[str, int] = field(default_factory=dict)
    stories_by_topic: dict[str, int] = field(default_factory=dict)
    chats: dict[str, int] = field(default_factory=dict)  # see storage.chats.count_chats
    deliveries: dict[str, int] = field(default_factory=dict)  # pending | sending | failed | sent_today


async def _feed_states(session: AsyncSession) -> dict[str, int]:
    # Feeds number in the hundreds at most: reading three columns beats a portable GROUP BY on expressions.
    rows = await session.execute(select(Feed.disabled, Feed.error_count, Feed.last_ok_at))
    out: Counter[str] = Counter()
    for disabled, errors, last_ok in rows:
        out["total"] += 1
        if disabled:
            out["disabled"] += 1
        elif errors:
            out["failing"] += 1
        elif last_ok is not None:
            out["ok"] += 1
        else:
            out["new"] += 1
    return dict(out)


def _per_topic(topic_lists: list[str]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for topics in topic_lists:
        counts.update(set(topics.split()))
    return dict(counts)


async def _deliveries(session: AsyncSession, since: datetime) -> dict[str, int]:
    rows = await session.execute(
        select(Delivery.status, func.count()).where(Delivery.status != "sent").group_by(Delivery.status)
    )
    out = {str(status): int(n) for status, n in rows}
    sent = await session.scalar(
        select(func.count()).select_from(Delivery).where(Delivery.status == "sent", Delivery.sent_at >= since)
    )
    out["sent_today"] = int(sent or 0)
    return out


async def collect_stats(session: AsyncSession, *, since: datetime) -> Stats:
    """Everything ``/stats`` shows; "today" means since ``since`` (the caller picks the local midnight)."""
    article_topics = list(
        await session.scalars(select(ArticleRow.topics).where(ArticleRow.fetched_at >= since))
    )
    story_topics = list(await session.scalars(select(Story.topics).where(Story.first_seen_at >= since)))
    return Stats(
        feeds=await _feed_states(session),
        articles_today=len(article_topics),
        stories_today=len(story_topics),
        articles_by_topic=_per_topic(article_topics),
        stories_by_topic=_per_topic(story_topics),
        chats=await count_chats(session),
        deliveries=await _deliveries(session, since),
    )


@dataclass(frozen=True, slots=True)
class WeekFigures:
    """What the /stats chart draws, per local day (oldest first) over the last days."""

    days: tuple[date, ...]
    articles_by_topic: dict[str, list[int]]
    """topic key → articles fetched per day (an article counts under each of its topics)."""
    feeds: dict[str, int]
    sent_by_kind: dict[str, list[int]]
    """digest | alert → messages Telegram accepted per day."""


async def week_figures(session: AsyncSession, *, now: datetime, tz: ZoneInfo, days: int = 7) -> WeekFigures:
    """Articles per topic per day, feed health and messages sent per day, in ``tz`` local days.

    Rows are grouped in Python: a week of articles is tens of thousands of short rows, and grouping by a
    local calendar day portably (SQLite and PostgreSQL) in SQL costs more code than it saves.
    """
    today = now.astimezone(tz).date()
    span = tuple(today - timedelta(days=days - 1 - i) for i in range(days))
    start = datetime.combine(span[0], time(0), tzinfo=tz)
    index = {d: i for i, d in enumerate(span)}
    articles: dict[str, list[int]] = {}
    rows = await session.execute(
        select(ArticleRow.fetched_at, ArticleRow.topics).where(ArticleRow.fetched_at >= start)
    )
    for fetched, topics in rows:
        i = index.get(fetched.astimezone(tz).date())
        if i is None:
            continue
        for key in set(topics.split()) or {"other"}:
            articles.setdefault(key, [0] * days)[i] += 1
    sent: dict[str, list[int]] = {"digest": [0] * days, "alert": [0] * days}
    rows = await session.execute(
        select(Delivery.sent_at, Delivery.kind).where(Delivery.status == "sent", Delivery.sent_at >= start)
    )
    for sent_at, kind in rows:
        i = index.get(sent_at.astimezone(tz).date())
        if i is not None:
            sent.setdefault(kind, [0] * days)[i] += 1
    return WeekFigures(span, articles, await _feed_states(session), sent)


async def ping(db: Database) -> bool:
    """Whether the database answers at all (``/healthz``)."""
    async with db.session() as s:
        return int((await s.execute(select(1))).scalar_one()) == 1


async def outbox_depth(db: Database) -> dict[str, int]:
    """Outbox rows not yet settled, by status (pending, sending): the ``/metrics`` gauge.

    Only open rows are counted, through the (status, not_before) index, so the cost does not grow with
    the history of sent pages.
    """
    async with db.session() as s:
        rows = await s.execute(
            select(Delivery.status, func.count())
            .where(Delivery.status.in_(("pending", "sending")))
            .group_by(Delivery.status)
        )
        return {str(status): int(n) for status, n in rows}
