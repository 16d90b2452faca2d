"""``jobs.workers.Membership``: the live workers each process counts, and when a newcomer may send.

Sending processes split Telegram's overall rate by how many of them live; a newcomer that sent before
the others had counted it would push the sum over the limit for up to a heartbeat period."""

from __future__ import annotations

from jobs.workers import Membership
from storage.db import Database


async def test_a_newcomer_is_seen_by_all_once_each_has_beaten_since_it_joined(db: Database) -> None:
    old = Membership(db, "deliver", every=60)
    shares: list[int] = []
    old.on_beat.append(lambda: shares.append(old.count("all", "deliver")))
    await old.beat()
    ingest = Membership(db, "ingest", every=60)
    await ingest.beat()
    new = Membership(db, "deliver", every=60)
    await new.beat()
    assert new.count("all", "deliver") == 2 and old.count("all", "deliver") == 1
    assert not new.seen_by_all("all", "deliver")  # the old sender has not counted it yet

    await old.beat()  # counts the newcomer and, at once, runs its callbacks on the new count
    assert shares == [1, 2]
    assert not new.seen_by_all("all", "deliver")  # the newcomer knows only at its own next beat
    await new.beat()
    assert new.seen_by_all("all", "deliver")
    assert not new.seen_by_all("ingest")  # roles it does not wait for are told apart

    await ingest.stop()  # a clean stop removes the row: nobody waits for it
    await new.beat()
    assert new.seen_by_all()
    for m in (old, new):
        await m.stop()


async def test_a_worker_that_never_beat_is_seen_by_nobody(db: Database) -> None:
    assert not Membership(db, "deliver").seen_by_all()
