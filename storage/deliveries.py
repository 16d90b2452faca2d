"""The outbox: digest pages waiting for Telegram, and the state machine the delivery worker drives.

A row moves ``pending → sending → sent`` (or ``failed``/``cancelled``). Only the *head* of a chat's
queue is ever claimed: a row is claimable when no earlier row of the same chat is still ``pending`` or
``sending``. That one rule keeps pages in order per chat across retries, crashes and several workers, and
it bounds what a crash can duplicate to the one page per chat that was in flight.

Claims are short transactions. On PostgreSQL they lock with ``FOR UPDATE SKIP LOCKED`` so two workers
never take the same row; SQLite has one writer at a time and ignores the clause. Nothing here talks to
Telegram or decides on retries: ``jobs.deliver`` does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Exists,
    Insert,
    Select,
    Table,
    bindparam,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from news.models import DigestPage
from storage.db import Database
from storage.schema import Chat, Delivery, SentStory, UTCDateTime

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
CANCELLED = "cancelled"
"""Rows of a chat Telegram refused (blocked, kicked, not found) that were never attempted."""

OPEN = (PENDING, SENDING)
ERROR_MAX = 1000

Executor = AsyncSession | AsyncConnection
"""Where a statement runs: a session's transaction, or a bare connection for the worker's hot path."""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A claimed page with what sending it needs: the chat's current Telegram id and type."""

    id: int
    chat_pk: int
    telegram_id: int
    chat_type: str
    digest_key: str
    page: int
    text: str
    disable_preview: bool
    attempts: int
    more: bool = False
    """The chat has later pages waiting behind this one."""


# --- writing pages ---------------------------------------------------------------------------------


async def enqueue_pages(
    session: AsyncSession, chat_pk: int, digest_key: str, pages: Sequence[DigestPage], *, now: datetime
) -> int:
    """Queue ``pages`` under ``(chat, digest_key, page)``; returns how many rows were inserted.

    Pages already present are left alone (``ON CONFLICT DO NOTHING``), so a re-run of the same digest
    adds nothing. Digests are committed with ``write_digests``, which checks for the key under the chat's
    lock; this is for tests, tools and benchmarks that queue pages directly.
    """
    if not pages:
        return 0
    rows = [
        {
            "chat_id": chat_pk,
            "digest_key": digest_key,
            "page": p.index,
            "text": p.html,
            "disable_preview": p.disable_preview,
            "status": PENDING,
            "attempts": 0,
            "not_before": now,
            "created_at": now,
        }
        for p in pages
    ]
    stmt = _insert_ignoring(session, Delivery, ("chat_id", "digest_key", "page")).returning(
        Delivery.__table__.c.id
    )
    result = await session.execute(stmt, rows) if len(rows) > 1 else await session.execute(stmt, rows[0])
    return len(result.all())


async def sent_story_ids(
    session: AsyncSession, chat_pks: Sequence[int], story_ids: Sequence[int]
) -> dict[int, set[int]]:
    """Which of ``story_ids`` each chat has already received (chats with none are absent)."""
    out: dict[int, set[int]] = {}
    if not chat_pks or not story_ids:
        return out
    wanted = set(story_ids)
    for start in range(0, len(chat_pks), 500):
        rows = await session.execute(
            select(SentStory.chat_id, SentStory.story_id).where(
                SentStory.chat_id.in_(chat_pks[start : start + 500]),
                SentStory.story_id >= min(wanted),
                SentStory.story_id <= max(wanted),
            )
        )
        for chat_id, story_id in rows:
            if story_id in wanted:
                out.setdefault(chat_id, set()).add(story_id)
    return out


def _insert_ignoring(session: AsyncSession, model: type, keys: tuple[str, ...]) -> Insert:
    """``INSERT … ON CONFLICT (keys) DO NOTHING`` on the model's *table*.

    Core, not the ORM's bulk path: many rows then go to the driver's ``executemany`` directly, which is
    several times faster for the tens of thousands of rows a tick writes.
    """
    table = model.__table__  # type: ignore[attr-defined]
    dialect = _dialect(session)
    if dialect == "postgresql":
        return pg_insert(table).on_conflict_do_nothing(index_elements=list(keys))
    if dialect == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing(index_elements=list(keys))
    return insert(table)  # pragma: no cover - only SQLite and PostgreSQL are supported


# --- committing digests ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestWrite:
    """One chat's digest outcome, to be committed together with every other chat of its batch.

    ``seen_next``/``seen_last`` are the schedule values the digest was built from: the write applies only
    if the chat still has them (compare-and-set), so a double tick, a concurrent ``/digest`` or a settings
    change in between makes the loser skip instead of queueing a second digest. ``next_at``/``digest_at``
    of ``None`` leave that column alone (``/digest`` keeps the schedule; a skipped slot records no digest).
    """

    chat_pk: int
    seen_next: datetime | None
    seen_last: datetime | None
    digest_key: str
    pages: Sequence[DigestPage] = ()
    story_ids: Sequence[int] = ()
    next_at: datetime | None = None
    digest_at: datetime | None = None
    due_at: datetime | None = None
    """When the digest was due (the digest-lag metric starts there); ``None``: now, a request."""


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    applied: frozenset[int]
    """Chats whose write went through (schedule moved on; pages queued unless already queued)."""
    already_queued: frozenset[int]
    """Chats whose digest key was already in the outbox: schedule moved on, nothing queued again."""
    pages: int


async def write_digests(
    session: AsyncSession, writes: Sequence[DigestWrite], *, now: datetime
) -> WriteOutcome:
    """Queue pages, mark stories sent and move schedules on for a batch of chats, in the caller's transaction.

    The chats' rows are locked first (``FOR UPDATE`` on PostgreSQL; on SQLite a no-op write takes the
    database's write lock before anything is read, so the values compared are the latest), then each
    write is checked against what it was built from. The caller commits; a crash before the commit leaves
    no trace, and a re-run finds the chat due again and builds the same digest under the same key.
    """
    if not writes:
        return WriteOutcome(frozenset(), frozenset(), 0)
    pks = [w.chat_pk for w in writes]
    if len(set(pks)) != len(pks):
        raise ValueError("one write per chat and batch")
    current: dict[int, tuple[datetime | None, datetime | None]] = {}
    if _dialect(session) == "sqlite":
        await session.execute(update(Chat).where(Chat.id == -1).values(topics=Chat.topics))
    lock = select(Chat.id, Chat.next_digest_at, Chat.last_digest_at).where(Chat.id.in_(pks))
    if _dialect(session) == "postgresql":
        lock = lock.with_for_update()
    for pk, next_at, last_at in await session.execute(lock.order_by(Chat.id)):
        current[pk] = (next_at, last_at)
    ok = [w for w in writes if current.get(w.chat_pk) == (w.seen_next, w.seen_last)]
    if not ok:
        return WriteOutcome(frozenset(), frozenset(), 0)

    with_pages = [w for w in ok if w.pages]
    queued: set[int] = set()
    if with_pages:
        rows = await session.execute(
            select(Delivery.chat_id, Delivery.digest_key)
            .where(
                Delivery.chat_id.in_([w.chat_pk for w in with_pages]),
                Delivery.digest_key.in_({w.digest_key for w in with_pages}),
            )
            .distinct()
        )
        keys = {(w.chat_pk, w.digest_key) for w in with_pages}
        queued = {pk for pk, key in rows if (pk, key) in keys}
    fresh = [w for w in with_pages if w.chat_pk not in queued]
    at = await _driver_value(session, now)
    due = {w.chat_pk: await _driver_value(session, w.due_at) if w.due_at else at for w in fresh}
    page_rows = [
        (w.chat_pk, w.digest_key, p.index, p.html, p.disable_preview, PENDING, 0, at, at, due[w.chat_pk])
        for w in fresh
        for p in w.pages
    ]
    story_rows = [(w.chat_pk, sid, w.digest_key, at) for w in fresh for sid in dict.fromkeys(w.story_ids)]
    await _bulk_insert_ignoring(
        session,
        "deliveries",
        (
            "chat_id",
            "digest_key",
            "page",
            "text",
            "disable_preview",
            "status",
            "attempts",
            "not_before",
            "created_at",
            "due_at",
        ),
        ("chat_id", "digest_key", "page"),
        page_rows,
    )
    await _bulk_insert_ignoring(
        session,
        "sent_stories",
        ("chat_id", "story_id", "digest_key", "sent_at"),
        ("chat_id", "story_id"),
        story_rows,
    )
    await _update_schedules(session, ok, now)
    return WriteOutcome(frozenset(w.chat_pk for w in ok), frozenset(queued), len(page_rows))


async def _update_schedules(session: AsyncSession, writes: Sequence[DigestWrite], now: datetime) -> None:
    table = _C
    both = [w for w in writes if w.next_at is not None and w.digest_at is not None]
    only_next = [w for w in writes if w.next_at is not None and w.digest_at is None]
    only_last = [w for w in writes if w.next_at is None and w.digest_at is not None]
    if both:
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                next_digest_at=bindparam("b_next", type_=UTCDateTime),
                last_digest_at=bindparam("b_last", type_=UTCDateTime),
                updated_at=now,
            ),
            [{"b_id": w.chat_pk, "b_next": w.next_at, "b_last": w.digest_at} for w in both],
        )
    if only_next:
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(next_digest_at=bindparam("b_next", type_=UTCDateTime), updated_at=now),
            [{"b_id": w.chat_pk, "b_next": w.next_at} for w in only_next],
        )
    if only_last:
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(last_digest_at=bindparam("b_last", type_=UTCDateTime), updated_at=now),
            [{"b_id": w.chat_pk, "b_last": w.digest_at} for w in only_last],
        )


async def _driver_value(session: AsyncSession, value: datetime) -> object:
    """``value`` as the driver receives it for a ``UTCDateTime`` column (a string on SQLite)."""
    dialect = (await session.connection()).dialect
    aware = UTCDateTime().process_bind_param(value, dialect)
    processor = UTCDateTime.impl.bind_processor(dialect)
    return processor(aware) if processor else aware


async def _bulk_insert_ignoring(
    session: AsyncSession,
    table: str,
    columns: tuple[str, ...],
    keys: tuple[str, ...],
    rows: Sequence[tuple[object, ...]],
) -> None:
    """``INSERT … ON CONFLICT (keys) DO NOTHING`` of many plain tuples through the driver's executemany.

    A tick writes tens of thousands of rows; SQLAlchemy's per-row parameter processing cost more than the
    database did, so values arrive here already in driver form (see ``_driver_value``). Both backends
    accept this statement; only the placeholder differs.
    """
    if not rows:
        return
    conn = await session.connection()
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))}) "
        f"ON CONFLICT ({', '.join(keys)}) DO NOTHING"
    )
    for start in range(0, len(rows), 5000):
        await conn.exec_driver_sql(sql, list(rows[start : start + 5000]))


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


# --- the worker's connection --------------------------------------------------------------------------


class Ledger:
    """Short transactions for the delivery worker's per-page bookkeeping.

    On SQLite (one writer anyway) it keeps one connection open between ``open`` and ``close`` and runs
    every transaction on it: checking a connection out of the pool for each page cost more thread hops
    than the write itself. On PostgreSQL each transaction takes a pooled connection, so several run at
    once. Callers serialize their own use on SQLite.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: AsyncConnection | None = None

    async def open(self) -> None:
        if self._db.dialect == "sqlite" and self._conn is None:
            self._conn = await self._db.engine.connect()

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Executor]:
        if self._conn is not None:
            async with self._conn.begin():
                yield self._conn
        else:
            async with self._db.engine.begin() as conn:
                yield conn


# --- claiming and settling -------------------------------------------------------------------------
#
# The worker runs these once per page, so they are Core statements on the tables (no ORM unit of work)
# and take either a session or a plain connection.

_D = cast(Table, Delivery.__table__)
_C = cast(Table, Chat.__table__)


def _blocked() -> Exists:
    """An earlier row of the same chat is still open: this row is not the head of its chat's queue."""
    earlier = _D.alias("earlier")
    return exists().where(
        earlier.c.chat_id == _D.c.chat_id, earlier.c.id < _D.c.id, earlier.c.status.in_(OPEN)
    )


def _deliverable() -> tuple[ColumnElement[bool], ...]:
    return (_C.c.active.is_(True), _C.c.deactivated_reason.is_(None))


def _heads(now: datetime, limit: int, chat_pk: int | None = None) -> Select[tuple[int]]:
    """Ids of claimable rows: due, pending, first open row of a chat that still takes messages."""
    query = (
        select(_D.c.id)
        .select_from(_D.join(_C, _C.c.id == _D.c.chat_id))
        .where(_D.c.status == PENDING, _D.c.not_before <= now, ~_blocked(), *_deliverable())
        .order_by(_D.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=_D)
    )
    if chat_pk is not None:
        query = query.where(_D.c.chat_id == chat_pk)
    return query


async def claim(
    conn: Executor, now: datetime, *, limit: int = 500, chat_pk: int | None = None, owner: str | None = None
) -> list[OutboxRow]:
    """Move up to ``limit`` queue heads to ``sending`` (attempts + 1) and return them, oldest first.

    ``OutboxRow.more`` tells whether the chat has later pages waiting, so the worker only looks for the
    next head of chats that have one.
    """
    ids = list((await conn.execute(_heads(now, limit, chat_pk))).scalars())
    if not ids:
        return []
    await conn.execute(
        update(_D)
        .where(_D.c.id.in_(ids), _D.c.status == PENDING)
        .values(status=SENDING, claimed_at=now, claimed_by=owner, attempts=_D.c.attempts + 1)
    )
    later = _D.alias("later")
    more = exists().where(later.c.chat_id == _D.c.chat_id, later.c.id > _D.c.id, later.c.status == PENDING)
    rows = await conn.execute(
        select(
            _D.c.id,
            _D.c.chat_id,
            _C.c.telegram_id,
            _C.c.type,
            _D.c.digest_key,
            _D.c.page,
            _D.c.text,
            _D.c.disable_preview,
            _D.c.attempts,
            more.label("more"),
        )
        .select_from(_D.join(_C, _C.c.id == _D.c.chat_id))
        .where(_D.c.id.in_(ids))
        .order_by(_D.c.id)
    )
    return [OutboxRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], bool(r[9])) for r in rows]


async def claim_next(
    conn: Executor, done: OutboxRow, now: datetime, *, owner: str | None = None
) -> list[OutboxRow]:
    """After ``done`` was settled (in this transaction): claim its chat's next page if it is due.

    One ``UPDATE … RETURNING``: the chat's first open row is the next head, since ``done`` was the head.
    The result says ``more`` without looking, so the last page costs one empty claim.
    """
    first_open = (
        select(func.min(_D.c.id)).where(_D.c.chat_id == done.chat_pk, _D.c.status.in_(OPEN)).scalar_subquery()
    )
    result = await conn.execute(
        update(_D)
        .where(_D.c.id == first_open, _D.c.status == PENDING, _D.c.not_before <= now)
        .values(status=SENDING, claimed_at=now, claimed_by=owner, attempts=_D.c.attempts + 1)
        .returning(_D.c.id, _D.c.digest_key, _D.c.page, _D.c.text, _D.c.disable_preview, _D.c.attempts)
    )
    return [
        OutboxRow(
            row_id, done.chat_pk, done.telegram_id, done.chat_type, key, page, text, preview, attempts, True
        )
        for row_id, key, page, text, preview, attempts in result
    ]


async def mark_sent(conn: Executor, row_id: int, message_id: int | None, *, now: datetime) -> datetime | None:
    """Settle a row as sent; returns when its digest was due (``None`` for rows queued without one)."""
    result = await conn.execute(
        update(_D)
        .where(_D.c.id == row_id)
        .values(status=SENT, message_id=message_id, sent_at=now, error=None, claimed_by=None)
        .returning(_D.c.due_at)
    )
    due: datetime | None = result.scalar_one_or_none()
    return due


async def mark_failed(conn: Executor, row_id: int, error: str) -> None:
    """Telegram refused this page for good (its content, or the chat is gone)."""
    await conn.execute(update(_D).where(_D.c.id == row_id).values(status=FAILED, error=error[:ERROR_MAX]))


async def release(conn: Executor, row_id: int, *, not_before: datetime, error: str | None) -> None:
    """Back to ``pending`` until ``not_before`` (a retry); the chat's later pages keep waiting behind it."""
    await conn.execute(
        update(_D)
        .where(_D.c.id == row_id)
        .values(status=PENDING, not_before=not_before, error=error[:ERROR_MAX] if error else None)
    )


async def cancel_open(conn: Executor, chat_pk: int, reason: str) -> int:
    """Cancel every pending or sending row of a chat Telegram no longer accepts messages for."""
    result = await conn.execute(
        update(_D)
        .where(_D.c.chat_id == chat_pk, _D.c.status.in_(OPEN))
        .values(status=CANCELLED, error=reason[:ERROR_MAX])
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def renew_claims(conn: Executor, row_ids: Sequence[int], *, now: datetime, owner: str | None) -> int:
    """Extend the lease of rows a live worker still holds (``claimed_at`` is where the lease runs from).

    Only rows still ``sending`` under ``owner`` are touched: one taken back meanwhile stays taken back.
    """
    renewed = 0
    for start in range(0, len(row_ids), 1000):
        chunk = list(row_ids[start : start + 1000])
        query = update(_D).where(_D.c.id.in_(chunk), _D.c.status == SENDING)
        if owner is not None:
            query = query.where(_D.c.claimed_by == owner)
        result = await conn.execute(query.values(claimed_at=now))
        renewed += int(result.rowcount)  # type: ignore[attr-defined]
    return renewed


async def requeue_stuck(conn: Executor, *, claimed_before: datetime) -> int:
    """Rows left in ``sending`` by a worker that died: back to ``pending`` so they are sent again.

    Whether Telegram got such a page cannot be known (the Bot API has no idempotency key and bots cannot
    read chat history), so this is the at-least-once step. A worker calls it at start-up with its own
    start time; ``claimed_before`` older than any live worker's claims keeps several workers safe.
    """
    result = await conn.execute(
        update(_D)
        .where(_D.c.status == SENDING, _D.c.claimed_at < claimed_before)
        .values(status=PENDING, claimed_by=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def next_due(session: AsyncSession) -> datetime | None:
    """The earliest ``not_before`` of a queue head of a deliverable chat (when to look again)."""
    earliest: datetime | None = await session.scalar(
        select(func.min(_D.c.not_before))
        .select_from(_D.join(_C, _C.c.id == _D.c.chat_id))
        .where(_D.c.status == PENDING, ~_blocked(), *_deliverable())
    )
    return earliest


async def status_counts(session: AsyncSession, *, chat_pk: int | None = None) -> dict[str, int]:
    query = select(Delivery.status, func.count()).group_by(Delivery.status)
    if chat_pk is not None:
        query = query.where(Delivery.chat_id == chat_pk)
    return {status: int(n) for status, n in await session.execute(query)}


async def pages_of(session: AsyncSession, chat_pk: int) -> list[tuple[str, int, str, str]]:
    """(digest_key, page, status, text) of a chat's rows in queue order, for tests and operators."""
    rows = await session.execute(
        select(Delivery.digest_key, Delivery.page, Delivery.status, Delivery.text)
        .where(Delivery.chat_id == chat_pk)
        .order_by(Delivery.id)
    )
    return [(k, p, s, t) for k, p, s, t in rows]
