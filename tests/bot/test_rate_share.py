"""``bot.roles.RateShare``: a sending process's share of Telegram's overall rate among the live senders.

Real ``Membership`` heartbeats in a real database; ``apply`` and ``hold`` record what the budget is told.
"""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from bot.roles import RateShare
from jobs.workers import Membership
from storage.db import Database
from tests.heldread import HeldRead

OVERALL = 25.0


async def test_a_lone_sender_is_released_at_once_with_the_whole_rate(db: Database) -> None:
    alone = Membership(db, "updates", every=60)
    held: list[bool] = []
    applied: list[float] = []
    share = RateShare(alone, OVERALL, applied.append, held.append)
    assert held == [True]  # held from the start, before anything can send
    await alone.start()
    share()
    assert applied == [OVERALL]
    assert await asyncio.wait_for(share.join(asyncio.Event(), window=30), 5)  # no window to wait out
    assert share.alone and applied[-1] == OVERALL and held == [True, False]
    await alone.stop()


async def test_a_newcomer_holds_until_the_others_count_it_then_takes_its_share(db: Database) -> None:
    old = Membership(db, "deliver", every=60)
    await old.start()
    old_rates: list[float] = []
    old_share = RateShare(old, OVERALL, old_rates.append)
    old.on_beat.append(old_share)
    await old_share.join(asyncio.Event(), window=0)
    assert old_rates[-1] == OVERALL

    new = Membership(db, "updates", every=60)
    await new.start()
    new_rates: list[float] = []
    held: list[bool] = []
    new_share = RateShare(new, OVERALL, new_rates.append, held.append)
    new.on_beat.append(new_share)
    joining = asyncio.create_task(new_share.join(asyncio.Event(), window=0.05))
    await asyncio.sleep(1.5)  # the newcomer beats every second meanwhile; the old sender has not
    assert not joining.done()
    assert held == [True]  # nothing goes out: the old sender still takes the whole rate
    await old.beat()  # the old sender counts the newcomer and lowers its share at once
    assert old_rates[-1] == OVERALL / 2
    assert await asyncio.wait_for(joining, 5)
    assert new_share.alone is False and new_rates[-1] == OVERALL / 2 and held == [True, False]
    for m in (old, new):
        await m.stop()


async def test_a_stop_while_joining_ends_the_wait(db: Database) -> None:
    old = Membership(db, "all", every=60)
    await old.start()
    new = Membership(db, "deliver", every=60)
    await new.start()
    stop = asyncio.Event()
    share = RateShare(new, OVERALL, lambda _: None)
    joining = asyncio.create_task(share.join(stop, window=0))
    await asyncio.sleep(0.1)
    stop.set()
    assert await asyncio.wait_for(joining, 5) is False
    assert not share.joined
    for m in (old, new):
        await m.stop()


async def test_two_senders_starting_at_once_never_both_take_the_whole_rate(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each one's first heartbeat read the table before the other's row was committed, so each saw itself
    alone; ``join`` reads again after its own commit, and at most one of them can still see itself alone.
    PostgreSQL only: there the two transactions overlap (SQLite would serialise them)."""
    with psycopg.connect(pg_url) as conn:
        conn.execute("DELETE FROM workers")
    db = Database(pg_url)
    first = Membership(db, "deliver", every=60)
    second = Membership(db, "updates", every=60)
    race = HeldRead(monkeypatch, lambda rows: [w.id for w in rows] == [first.id])  # its first read, alone
    try:
        starting = asyncio.create_task(first.start())
        await race.reading.wait()
        await second.start()  # reads before the first one's row is committed: it sees itself alone
        race.release()
        await starting
        assert first.count("deliver", "updates") == second.count("deliver", "updates") == 1
        held: dict[str, list[bool]] = {"first": [], "second": []}
        shares = [
            RateShare(m, OVERALL, lambda _: None, held[name].append)
            for name, m in (("first", first), ("second", second))
        ]
        for m, share in zip((first, second), shares, strict=True):
            m.on_beat.append(share)
        joined = await asyncio.wait_for(
            asyncio.gather(*(s.join(asyncio.Event(), window=0.05) for s in shares)), 10
        )
        assert joined == [True, True]
        assert not (shares[0].alone and shares[1].alone)  # not both sent at once at the whole rate
        assert held == {"first": [True, False], "second": [True, False]}
        assert [s.rate() for s in shares] == [OVERALL / 2, OVERALL / 2]
    finally:
        for m in (first, second):
            await m.stop()
        await db.dispose()
