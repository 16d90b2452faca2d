"""Chats, their delivery settings and their admin-defined keyword topics."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from news.models import Topic
from storage.schema import Chat, KeywordTopic, UserTarget


@dataclass(frozen=True, slots=True)
class ChatSettings:
    id: int
    telegram_id: int
    type: str
    title: str
    username: str | None
    language: str
    active: bool
    deactivated_reason: str | None
    delivery_minute: int
    timezone: str
    digits: str
    topics: tuple[str, ...]
    linked_by: int | None
    last_digest_at: datetime | None
    next_digest_at: datetime | None
    edition_minutes: tuple[int, ...] = ()
    digest_length: str = "full"
    per_topic: int | None = None
    muted_sources: frozenset[str] = frozenset()
    alerts: bool = False
    alerts_per_day: int = 5
    quiet_start: int | None = 23 * 60
    quiet_end: int | None = 7 * 60

    @property
    def delivering(self) -> bool:
        """Subscribed, not paused, and Telegram still accepts messages for it."""
        return self.active and self.deactivated_reason is None

    @property
    def editions(self) -> tuple[int, ...]:
        """Every local delivery time, in order; a chat set up before editions has just its one time."""
        return self.edition_minutes or (self.delivery_minute,)


def settings_of(row: Chat) -> ChatSettings:
    """A chat row as the frozen settings every layer above storage works with."""
    return ChatSettings(
        id=row.id,
        telegram_id=row.telegram_id,
        type=row.type,
        title=row.title,
        username=row.username,
        language=row.language,
        active=row.active,
        deactivated_reason=row.deactivated_reason,
        delivery_minute=row.delivery_minute,
        timezone=row.timezone,
        digits=row.digits,
        topics=tuple(row.topics.split()),
        linked_by=row.linked_by,
        last_digest_at=row.last_digest_at,
        next_digest_at=row.next_digest_at,
        edition_minutes=tuple(sorted(int(m) for m in (row.edition_minutes or "").split())),
        digest_length=row.digest_length or "full",
        per_topic=row.per_topic,
        muted_sources=frozenset(s for s in (row.muted_sources or "").split("\n") if s),
        alerts=bool(row.alerts),
        alerts_per_day=row.alerts_per_day if row.alerts_per_day is not None else 5,
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
    )


_UPDATABLE = {
    "type",
    "title",
    "username",
    "language",
    "active",
    "deactivated_reason",
    "delivery_minute",
    "timezone",
    "digits",
    "topics",
    "linked_by",
    "last_digest_at",
    "next_digest_at",
    "edition_minutes",
    "digest_length",
    "per_topic",
    "muted_sources",
    "alerts",
    "alerts_per_day",
    "quiet_start",
    "quiet_end",
}


async def get_chat(session: AsyncSession, telegram_id: int) -> ChatSettings | None:
    row = await session.scalar(select(Chat).where(Chat.telegram_id == telegram_id))
    return settings_of(row) if row else None


async def get_chat_by_pk(session: AsyncSession, chat_pk: int) -> ChatSettings | None:
    row = await session.get(Chat, chat_pk)
    return settings_of(row) if row else None


async def create_chat(
    session: AsyncSession,
    telegram_id: int,
    *,
    type: str,
    title: str = "",
    username: str | None = None,
    language: str = "ar",
    delivery_minute: int,
    timezone: str,
    topics: Iterable[str],
    now: datetime,
    next_digest_at: datetime | None = None,
    linked_by: int | None = None,
    active: bool = True,
) -> ChatSettings:
    row = Chat(
        telegram_id=telegram_id,
        type=type,
        title=title[:256],
        username=username,
        language=language,
        delivery_minute=delivery_minute,
        timezone=timezone,
        topics=" ".join(topics),
        created_at=now,
        updated_at=now,
        next_digest_at=next_digest_at,
        linked_by=linked_by,
        active=active,
    )
    session.add(row)
    await session.flush()
    return settings_of(row)


async def update_chat(session: AsyncSession, telegram_id: int, **fields: object) -> ChatSettings:
    """Change settings by name; ``topics`` may be given as any iterable of keys."""
    unknown = set(fields) - _UPDATABLE
    if unknown:
        raise TypeError(f"not chat settings: {sorted(unknown)}")
    if "topics" in fields and not isinstance(fields["topics"], str):
        fields["topics"] = " ".join(fields["topics"])  # type: ignore[arg-type]
    if "edition_minutes" in fields and not isinstance(fields["edition_minutes"], str):
        minutes = cast(Iterable[int], fields["edition_minutes"])
        fields["edition_minutes"] = " ".join(str(m) for m in sorted(minutes))
    if "muted_sources" in fields and not isinstance(fields["muted_sources"], str):
        fields["muted_sources"] = "\n".join(sorted(cast(Iterable[str], fields["muted_sources"])))
    if "title" in fields and isinstance(fields["title"], str):
        fields["title"] = fields["title"][:256]
    row = await session.scalar(select(Chat).where(Chat.telegram_id == telegram_id))
    if row is None:
        raise LookupError(f"chat {telegram_id} is not known")
    for key, value in fields.items():
        setattr(row, key, value)
    await session.flush()
    return settings_of(row)


async def deactivate_chat(session: AsyncSession, telegram_id: int, reason: str) -> None:
    """Telegram refused the chat (blocked, kicked, not found): stop delivering, keep the reason."""
    await session.execute(
        update(Chat).where(Chat.telegram_id == telegram_id).values(deactivated_reason=reason[:1000])
    )


async def migrate_chat(session: AsyncSession, old_id: int, new_id: int) -> bool:
    """A group became a supergroup: move the row to the new id (settings, outbox and history follow)."""
    taken = await session.scalar(select(Chat.id).where(Chat.telegram_id == new_id))
    if taken is not None:
        # The new id is already known (e.g. the bot was re-added there): drop the stale row's identity.
        await session.execute(delete(Chat).where(Chat.telegram_id == old_id))
        return False
    result = await session.execute(
        update(Chat).where(Chat.telegram_id == old_id).values(telegram_id=new_id, type="supergroup")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def due_chats(session: AsyncSession, now: datetime) -> list[ChatSettings]:
    rows = await session.scalars(
        select(Chat)
        .where(
            Chat.active.is_(True),
            Chat.deactivated_reason.is_(None),
            Chat.next_digest_at.is_not(None),
            Chat.next_digest_at <= now,
        )
        .order_by(Chat.next_digest_at, Chat.id)
    )
    return [settings_of(r) for r in rows]


async def channels_linked_by(session: AsyncSession, user_id: int) -> list[ChatSettings]:
    rows = await session.scalars(
        select(Chat).where(Chat.linked_by == user_id, Chat.type == "channel").order_by(Chat.id)
    )
    return [settings_of(r) for r in rows]


async def get_target(session: AsyncSession, user_id: int) -> int | None:
    """The Telegram id of the chat ``user_id`` chose to configure, if it still exists."""
    return await session.scalar(
        select(Chat.telegram_id)
        .join(UserTarget, UserTarget.chat_id == Chat.id)
        .where(UserTarget.user_id == user_id)
    )


async def set_target(session: AsyncSession, user_id: int, telegram_id: int | None, now: datetime) -> None:
    """Remember the chat ``user_id`` configures (``None``, or an unknown chat: their own private chat).

    An upsert, because updates run concurrently: two quick presses of the chooser must not collide.
    """
    chat_pk = None
    if telegram_id is not None:
        chat_pk = await session.scalar(select(Chat.id).where(Chat.telegram_id == telegram_id))
    if chat_pk is None:
        await session.execute(delete(UserTarget).where(UserTarget.user_id == user_id))
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(UserTarget).values(user_id=user_id, chat_id=chat_pk, updated_at=now)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[UserTarget.user_id], set_={"chat_id": chat_pk, "updated_at": now}
        )
    )


async def count_chats(session: AsyncSession) -> dict[str, int]:
    """Subscribers by state, for operators."""
    rows = await session.execute(
        select(Chat.type, Chat.active, Chat.deactivated_reason.is_(None), func.count()).group_by(
            Chat.type, Chat.active, Chat.deactivated_reason.is_(None)
        )
    )
    out: dict[str, int] = defaultdict(int)
    for type_, active, reachable, n in rows:
        out["total"] += n
        out[type_] += n
        if active and reachable:
            out["delivering"] += n
        elif not reachable:
            out["deactivated"] += n
        else:
            out["paused"] += n
    return dict(out)


# --- keyword topics ---------------------------------------------------------------------------------


def _topic(row: KeywordTopic) -> Topic:
    words = [w for w in row.keywords.split("\n") if w]
    return Topic(
        key=row.key,
        name_ar=row.name,
        name_en=row.name,
        keywords=tuple(w for w in words if not w.startswith("-")),
        excluded=tuple(w[1:] for w in words if w.startswith("-")),
    )


async def save_keyword_topic(
    session: AsyncSession, chat_pk: int, topic: Topic, *, created_by: int | None, now: datetime
) -> bool:
    """Create or replace a chat's keyword topic; returns True when it is new."""
    words = "\n".join([*topic.keywords, *(f"-{w}" for w in topic.excluded)])
    row = await session.scalar(
        select(KeywordTopic).where(KeywordTopic.chat_id == chat_pk, KeywordTopic.key == topic.key)
    )
    if row is not None:
        row.name = topic.name_ar
        row.keywords = words
        return False
    session.add(
        KeywordTopic(
            chat_id=chat_pk,
            key=topic.key,
            name=topic.name_ar,
            keywords=words,
            created_by=created_by,
            created_at=now,
        )
    )
    await session.flush()
    return True


async def delete_keyword_topic(session: AsyncSession, chat_pk: int, key: str) -> bool:
    result = await session.execute(
        delete(KeywordTopic).where(KeywordTopic.chat_id == chat_pk, KeywordTopic.key == key)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def keyword_topics(session: AsyncSession, chat_pk: int) -> list[Topic]:
    rows = await session.scalars(
        select(KeywordTopic).where(KeywordTopic.chat_id == chat_pk).order_by(KeywordTopic.id)
    )
    return [_topic(r) for r in rows]


async def keyword_topics_for(session: AsyncSession, chat_pks: Sequence[int]) -> dict[int, list[Topic]]:
    out: dict[int, list[Topic]] = defaultdict(list)
    for start in range(0, len(chat_pks), 500):
        rows = await session.scalars(
            select(KeywordTopic)
            .where(KeywordTopic.chat_id.in_(chat_pks[start : start + 500]))
            .order_by(KeywordTopic.id)
        )
        for r in rows:
            out[r.chat_id].append(_topic(r))
    return dict(out)
