"""What breaking-news alerts read and write: candidate stories, who takes alerts, the alert outbox rows.

An alert is an ordinary outbox row (``deliveries``) of kind ``alert`` keyed ``alert:<story id>``, so the
delivery worker sends it with the digests' limits and crash safety, and the unique (chat, key, page)
key makes a second alert about the same story to the same chat impossible. ``stories.breaking_at`` is
claimed with a compare-and-set in the same transaction that queues the rows: two ticks (or two workers)
cannot both queue a story's alerts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.chats import ChatSettings, settings_of
from storage.schema import ArticleRow, Chat, Delivery, Story

ALERT = "alert"
ALERT_PREFIX = "alert:"


def alert_key(story_id: int) -> str:
    return f"{ALERT_PREFIX}{story_id}"


@dataclass(frozen=True, slots=True)
class ArticleReport:
    """One stored article of a candidate story, as the breaking rules need it."""

    story_id: int
    source: str
    published_at: datetime | None
    fetched_at: datetime
    categories: tuple[str, ...]


async def candidate_reports(session: AsyncSession, since: datetime) -> dict[int, list[ArticleReport]]:
    """Articles of stories seen since ``since`` that have two outlets or more and never alerted."""
    ids = list(
        await session.scalars(
            select(Story.id).where(
                Story.last_seen_at >= since, Story.breaking_at.is_(None), Story.source_count >= 2
            )
        )
    )
    out: dict[int, list[ArticleReport]] = defaultdict(list)
    a = ArticleRow
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(a.story_id, a.source, a.published_at, a.fetched_at, a.categories).where(
                a.story_id.in_(ids[start : start + 500])
            )
        )
        for sid, source, published, fetched, categories in rows:
            if sid is not None:
                out[sid].append(ArticleReport(sid, source, published, fetched, tuple(categories.split("\n"))))
    return dict(out)


async def claim_breaking(session: AsyncSession, story_ids: Sequence[int], at: datetime) -> list[int]:
    """Mark these stories breaking; returns the ones this call marked (not already marked by another)."""
    if not story_ids:
        return []
    result = await session.execute(
        update(Story)
        .where(Story.id.in_(story_ids), Story.breaking_at.is_(None))
        .values(breaking_at=at)
        .returning(Story.id)
    )
    return sorted(int(i) for i in result.scalars())


async def alert_chats(session: AsyncSession) -> list[ChatSettings]:
    """Chats that turned alerts on and still receive messages."""
    rows = await session.scalars(
        select(Chat)
        .where(Chat.alerts.is_(True), Chat.active.is_(True), Chat.deactivated_reason.is_(None))
        .order_by(Chat.id)
    )
    return [settings_of(r) for r in rows]


async def alert_times(session: AsyncSession, since: datetime) -> dict[int, list[datetime]]:
    """``chat pk → when each alert was queued`` since ``since``, for the daily caps."""
    rows = await session.execute(
        select(Delivery.chat_id, Delivery.created_at).where(
            Delivery.kind == ALERT, Delivery.created_at >= since
        )
    )
    out: dict[int, list[datetime]] = defaultdict(list)
    for pk, at in rows:
        out[int(pk)].append(at)
    return dict(out)


async def queue_alerts(session: AsyncSession, rows: Sequence[tuple[int, int, str]], *, now: datetime) -> None:
    """Outbox rows for ``(chat pk, story id, html)``; a row already queued for that chat and story stays."""
    if not rows:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = [
        {
            "chat_id": pk,
            "digest_key": alert_key(story_id),
            "page": 0,
            "kind": ALERT,
            "text": text,
            "disable_preview": True,
            "status": "pending",
            "attempts": 0,
            "not_before": now,
            "created_at": now,
        }
        for pk, story_id, text in rows
    ]
    statement = insert(cast(Table, Delivery.__table__)).on_conflict_do_nothing(
        index_elements=["chat_id", "digest_key", "page"]
    )
    for start in range(0, len(values), 2000):
        await session.execute(statement, values[start : start + 2000])


async def alerted_stories(
    session: AsyncSession, chat_pks: Sequence[int], since: datetime
) -> dict[int, set[int]]:
    """``chat pk → ids of stories it got an alert about`` since ``since`` (the digest marks them
    «سبق التنبيه»). A chat has at most twenty alerts a day, so this reads few rows however many
    stories the digest considers."""
    out: dict[int, set[int]] = defaultdict(set)
    for start in range(0, len(chat_pks), 500):
        rows = await session.execute(
            select(Delivery.chat_id, Delivery.digest_key).where(
                Delivery.chat_id.in_(chat_pks[start : start + 500]),
                Delivery.kind == ALERT,
                Delivery.created_at >= since,
                Delivery.status.in_(("pending", "sending", "sent")),
            )
        )
        for pk, key in rows:
            out[int(pk)].add(int(key.removeprefix(ALERT_PREFIX)))
    return dict(out)
