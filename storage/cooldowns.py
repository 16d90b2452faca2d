"""The group cooldown on reading commands (``read_cooldowns``): whether a group's reading command is
answered now, told to wait, or left unanswered.

The state lives in the database, not in a process: with several processes handling updates, a group's
commands may be handled by any of them, one after another. Each step is one conditional statement, so
that the database, not a read followed by a write, decides who takes the turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, false, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.schema import read_cooldowns_table as _T


@dataclass(frozen=True, slots=True)
class ReadTurn:
    """``go``: answer, the cooldown starts again from now; ``warn``: within the cooldown, tell the group
    once to wait ``wait_seconds`` more; ``quiet``: within it and already told, say nothing."""

    verdict: Literal["go", "warn", "quiet"]
    wait_seconds: float = 0.0


async def take_read_turn(
    session: AsyncSession, chat_id: int, now: datetime, cooldown: timedelta, *, update_id: int
) -> ReadTurn:
    """The group's turn for the reading command of update ``update_id`` at ``now``; run it in the
    transaction that commits it.

    The update that took the turn takes it again: an update handled a second time (its process died
    before marking it done) is answered, not told to wait for itself.
    """
    mine_or_due = or_(_T.c.update_id == update_id, _T.c.last_at <= now - cooldown)
    taken = await session.execute(
        update(_T)
        .where(_T.c.chat_id == chat_id, mine_or_due)
        .values(last_at=now, warned=False, update_id=update_id)
    )
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        return ReadTurn("go")
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    first = (
        insert(_T)
        .values(chat_id=chat_id, last_at=now, warned=False, update_id=update_id)
        .on_conflict_do_nothing()
    )
    # RETURNING, not the row count: psycopg reports -1 for an INSERT … ON CONFLICT DO NOTHING.
    if (await session.execute(first.returning(_T.c.chat_id))).first() is not None:
        return ReadTurn("go")
    told = await session.execute(
        update(_T)
        .where(_T.c.chat_id == chat_id, _T.c.warned == false())
        .values(warned=True)
        .returning(_T.c.last_at)
    )
    row = told.first()
    if row is None:
        return ReadTurn("quiet")
    left = (row.last_at + cooldown - now).total_seconds()
    return ReadTurn("warn", min(max(left, 0.0), cooldown.total_seconds()))


async def prune(conn: AsyncSession | AsyncConnection, *, before: datetime) -> int:
    """Forget the groups whose last answered reading command is older than ``before``.

    A row past its cooldown means what no row means (the next command is answered), so old rows only
    fill the table: one per group that ever read, including groups the bot has left and the old ids of
    groups that became supergroups.
    """
    result = await conn.execute(delete(_T).where(_T.c.last_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
