"""The group cooldown on reading commands, on every backend: one answer per cooldown, one "wait", then
silence, whichever session (process) asks."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

from storage.cooldowns import ReadTurn, prune, take_read_turn
from storage.db import Database

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
COOLDOWN = timedelta(seconds=20)
GROUP, OTHER = -100_200_300, -100_200_301


_updates = itertools.count(1)


async def _turn(db: Database, chat_id: int, at: datetime, update_id: int | None = None) -> ReadTurn:
    """A reading command of a new update (or of ``update_id`` again)."""
    update_id = next(_updates) if update_id is None else update_id
    async with db.session() as s, s.begin():
        return await take_read_turn(s, chat_id, at, COOLDOWN, update_id=update_id)


async def test_a_group_reads_once_per_cooldown_is_told_once_to_wait_then_nothing(db: Database) -> None:
    assert await _turn(db, GROUP, T0) == ReadTurn("go")
    assert await _turn(db, GROUP, T0 + timedelta(seconds=5)) == ReadTurn("warn", 15.0)
    assert await _turn(db, GROUP, T0 + timedelta(seconds=6)) == ReadTurn("quiet")
    assert await _turn(db, OTHER, T0 + timedelta(seconds=6)) == ReadTurn("go")  # per group
    assert await _turn(db, GROUP, T0 + timedelta(seconds=19)) == ReadTurn("quiet")
    # The cooldown starts again from the next answer, and the group may be told to wait again.
    assert await _turn(db, GROUP, T0 + timedelta(seconds=20)) == ReadTurn("go")
    assert await _turn(db, GROUP, T0 + timedelta(seconds=21)) == ReadTurn("warn", 19.0)


async def test_two_processes_asking_at_once_take_one_turn(db: Database) -> None:
    """Each asks in its own session at the same moment: the database gives the turn to one of them."""
    for at in (T0, T0 + timedelta(minutes=1)):  # a first turn (an insert), then a later one (an update)
        turns = await asyncio.gather(*(_turn(db, GROUP, at) for _ in range(4)))
        assert sorted(t.verdict for t in turns) == ["go", "quiet", "quiet", "warn"], turns


async def test_a_clock_gone_back_never_asks_to_wait_longer_than_the_cooldown(db: Database) -> None:
    assert await _turn(db, GROUP, T0) == ReadTurn("go")
    assert await _turn(db, GROUP, T0 - timedelta(minutes=5)) == ReadTurn("warn", 20.0)


async def test_an_update_handled_again_after_a_crash_is_answered_again(db: Database) -> None:
    """Its process took the turn, then died before the update was marked done: the update comes back
    (``bot.inbox``) and must be answered, not told to wait for itself; other updates still wait."""
    assert await _turn(db, GROUP, T0, update_id=500) == ReadTurn("go")
    assert await _turn(db, GROUP, T0 + timedelta(seconds=3), update_id=500) == ReadTurn("go")
    assert await _turn(db, GROUP, T0 + timedelta(seconds=4), update_id=501) == ReadTurn("warn", 19.0)
    assert await _turn(db, GROUP, T0 + timedelta(seconds=5), update_id=502) == ReadTurn("quiet")


async def test_prune_forgets_groups_idle_since_before_and_they_start_afresh(db: Database) -> None:
    assert await _turn(db, GROUP, T0) == ReadTurn("go")
    assert await _turn(db, OTHER, T0 + timedelta(hours=2)) == ReadTurn("go")
    async with db.engine.begin() as conn:
        assert await prune(conn, before=T0 + timedelta(hours=1)) == 1  # GROUP only
    async with db.session() as s, s.begin():
        assert await prune(s, before=T0 + timedelta(hours=1)) == 0  # a session prunes the same way
    # The pruned group starts afresh; the kept one is still within its cooldown.
    assert await _turn(db, GROUP, T0 + timedelta(hours=2)) == ReadTurn("go")
    assert await _turn(db, OTHER, T0 + timedelta(hours=2, seconds=1)) == ReadTurn("warn", 19.0)
