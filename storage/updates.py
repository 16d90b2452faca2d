"""The update inbox: Telegram updates stored before they are confirmed, handled from here, at least once.

Statements take a session or a connection (``Executor``), like the outbox's, because the update loop runs
them many times a second under a burst. A row is *open* until ``done_at`` is set; an open row is
*claimed* while its ``lease_until`` lies ahead. Claims never take a chat's update while another process
holds an earlier one of the same chat, so a reader's commands are handled in the order they were sent
even with several processes handling updates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.schema import updates_table as _U

Executor = AsyncSession | AsyncConnection
ERROR_MAX = 500


@dataclass(frozen=True, slots=True)
class IncomingUpdate:
    """An update as received: its id, the chat it belongs to (for ordering) and its JSON text."""

    update_id: int
    chat_id: int | None
    payload: str


@dataclass(frozen=True, slots=True)
class ClaimedUpdate:
    update_id: int
    chat_id: int | None
    payload: str
    attempts: int


def _dialect(conn: Executor) -> str:
    bind: Any = conn.get_bind() if isinstance(conn, AsyncSession) else conn
    return str(bind.dialect.name)


async def store(conn: Executor, items: Sequence[IncomingUpdate], now: datetime) -> list[int]:
    """Insert what is not stored yet; returns the ids that were new (a repeat is ignored, not an error)."""
    if not items:
        return []
    insert = pg_insert if _dialect(conn) == "postgresql" else sqlite_insert
    stmt = (
        insert(_U)
        .values(
            [
                {
                    "update_id": u.update_id,
                    "chat_id": u.chat_id,
                    "payload": u.payload,
                    "received_at": now,
                    "attempts": 0,
                }
                for u in items
            ]
        )
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(_U.c.update_id)
    )
    return sorted(int(i) for i in (await conn.execute(stmt)).scalars())


async def claim(
    conn: Executor, owner: str, now: datetime, *, lease_until: datetime, limit: int
) -> list[ClaimedUpdate]:
    """Take up to ``limit`` open, unclaimed updates for ``owner``, oldest first (attempts + 1).

    Skips a chat while another owner holds an earlier update of it (its order is theirs to keep).
    """
    other = _U.alias("other")
    held_elsewhere = exists().where(
        other.c.chat_id == _U.c.chat_id,
        other.c.done_at.is_(None),
        other.c.lease_until >= now,
        other.c.owner != owner,
        other.c.update_id < _U.c.update_id,
    )
    free = or_(_U.c.lease_until.is_(None), _U.c.lease_until < now)
    picked = (
        select(_U.c.update_id)
        .where(_U.c.done_at.is_(None), free, ~held_elsewhere)
        .order_by(_U.c.update_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list((await conn.execute(picked)).scalars())
    if not ids:
        return []
    result = await conn.execute(
        update(_U)
        .where(_U.c.update_id.in_(ids), _U.c.done_at.is_(None), free)
        .values(owner=owner, lease_until=lease_until, attempts=_U.c.attempts + 1)
        .returning(_U.c.update_id, _U.c.chat_id, _U.c.payload, _U.c.attempts)
    )
    rows = [ClaimedUpdate(int(r[0]), r[1], r[2], int(r[3])) for r in result]
    return sorted(rows, key=lambda r: r.update_id)


async def renew(conn: Executor, owner: str, *, lease_until: datetime) -> int:
    """Push out the lease of every open update ``owner`` holds (it is alive and still working)."""
    result = await conn.execute(
        update(_U).where(_U.c.owner == owner, _U.c.done_at.is_(None)).values(lease_until=lease_until)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def finish(
    conn: Executor, update_ids: Sequence[int], now: datetime, *, error: str | None = None
) -> None:
    """Handled (``error``: given up on): never handed out again, kept until ``prune``."""
    if not update_ids:
        return
    await conn.execute(
        update(_U)
        .where(_U.c.update_id.in_(list(update_ids)))
        .values(done_at=now, owner=None, lease_until=None, error=error[:ERROR_MAX] if error else None)
    )


async def release(conn: Executor, *, owner: str | None = None) -> int:
    """Hand open updates back unclaimed: ``owner``'s (a clean stop), or everyone's (``owner=None``: the
    one process of an embedded SQLite deployment starting again, so any claim belonged to a dead run)."""
    cond = and_(_U.c.done_at.is_(None), _U.c.owner.is_not(None))
    if owner is not None:
        cond = and_(cond, _U.c.owner == owner)
    result = await conn.execute(update(_U).where(cond).values(owner=None, lease_until=None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def prune(conn: Executor, *, done_before: datetime) -> int:
    """Forget handled updates older than ``done_before`` (Telegram does not resend those)."""
    result = await conn.execute(delete(_U).where(_U.c.done_at < done_before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def next_offset(conn: Executor) -> int | None:
    """The ``getUpdates`` offset that confirms everything stored (``None``: nothing stored yet)."""
    top = (await conn.execute(select(func.max(_U.c.update_id)))).scalar_one_or_none()
    return None if top is None else int(top) + 1


async def open_count(conn: Executor) -> int:
    """Updates stored and not handled yet (the inbox's depth)."""
    return int((await conn.execute(select(func.count()).where(_U.c.done_at.is_(None)))).scalar_one())
