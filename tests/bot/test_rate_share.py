"""``bot.roles.RateShare``: a sending process's share of Telegram's overall rate among the live senders.

Real ``Membership`` heartbeats in a real database; ``apply`` and ``hold`` record what the budget is told.
"""

from __future__ import annotations

import asyncio

from bot.roles import RateShare
from jobs.workers import Membership
from storage.db import Database

OVERALL = 25.0


async def test_a_lone_sender_takes_the_whole_rate_and_never_holds(db: Database) -> None:
    alone = Membership(db, "updates", every=60)
    await alone.start()
    applied: list[float] = []
    held: list[bool] = []
    share = RateShare(alone, OVERALL, applied.append, held.append)
    share()
    assert applied == [OVERALL]
    assert await asyncio.wait_for(share.join(asyncio.Event(), window=30), 5)  # no window to wait out
    assert applied[-1] == OVERALL and held == []
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
    assert new_rates[-1] == OVERALL / 2 and held == [True, False]
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
