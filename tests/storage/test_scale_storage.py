"""Coordination through the database: feed claims with leases, advisory locks, worker heartbeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import feeds as feed_store
from storage import workers as worker_store
from storage.db import Database
from storage.locks import AdvisoryLock, lock_key

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


async def _feeds(db: Database, n: int) -> None:
    async with db.session() as s, s.begin():
        for i in range(n):
            await feed_store.add_feed(s, f"https://example.org/{i}.rss", now=NOW - timedelta(minutes=1))


async def _claim(db: Database, owner: str, limit: int, now: datetime = NOW) -> list[int]:
    async with db.session() as s, s.begin():
        feeds = await feed_store.claim_due_feeds(s, now, owner=owner, lease_until=now + LEASE, limit=limit)
    return [f.id for f in feeds]


async def test_two_workers_claim_disjoint_batches_and_nothing_twice(db: Database) -> None:
    await _feeds(db, 10)
    a = await _claim(db, "a", 4)
    b = await _claim(db, "b", 4)
    c = await _claim(db, "c", 4)
    assert len(a) == 4 and len(b) == 4 and len(c) == 2
    assert len(set(a) | set(b) | set(c)) == 10
    assert await _claim(db, "d", 4) == []  # all held


async def test_a_dead_workers_claims_come_back_after_the_lease(db: Database) -> None:
    await _feeds(db, 3)
    dead = await _claim(db, "dead", 10)
    assert len(dead) == 3
    assert await _claim(db, "live", 10, NOW + LEASE - timedelta(seconds=1)) == []
    assert sorted(await _claim(db, "live", 10, NOW + LEASE + timedelta(seconds=1))) == sorted(dead)


async def test_a_recorded_fetch_releases_the_claim_and_moves_the_schedule(db: Database) -> None:
    await _feeds(db, 2)
    first, second = await _claim(db, "a", 10)
    async with db.session() as s, s.begin():
        await feed_store.record_fetch_ok(
            s, first, now=NOW, next_check_at=NOW + timedelta(minutes=15), etag=None, last_modified=None
        )
        await feed_store.release_claims(s, "a", [second])
    # The fetched feed is not due again; the released one is claimable at once by another worker.
    assert await _claim(db, "b", 10) == [second]
    async with db.session() as s:
        feed = await feed_store.get_feed(s, first)
    assert feed is not None and feed.next_check_at == NOW + timedelta(minutes=15)


async def test_advisory_lock_has_one_holder_and_passes_on_release(db: Database) -> None:
    first, second = AdvisoryLock(db, "test-lock"), AdvisoryLock(db, "test-lock")
    other = AdvisoryLock(db, "another-lock")
    try:
        assert await first.try_acquire()
        assert await first.still_held()
        assert await other.try_acquire()  # locks of other names are independent
        if db.dialect == "postgresql":
            assert not await second.try_acquire()
            await first.release()
            assert not await first.still_held()
            assert await second.try_acquire()
            assert await second.still_held()
        else:  # one process by design: trivially held
            assert await second.try_acquire()
    finally:
        for lock in (first, second, other):
            await lock.release()
    assert lock_key("poller") == lock_key("poller") != lock_key("ticks")


async def test_a_lock_whose_connection_dies_is_lost_and_taken_over(db: Database) -> None:
    if db.dialect != "postgresql":
        assert await AdvisoryLock(db, "x").try_acquire()
        return
    holder, standby = AdvisoryLock(db, "takeover"), AdvisoryLock(db, "takeover")
    assert await holder.try_acquire()
    assert holder._conn is not None
    pid = (await holder._conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one()
    await holder._conn.commit()
    async with db.engine.connect() as admin:  # the server ends the holder's session, as when it dies
        await admin.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
    assert not await holder.still_held()
    assert await standby.try_acquire()
    await standby.release()


async def test_workers_heartbeat_count_and_expire(db: Database) -> None:
    async with db.session() as s, s.begin():
        for wid, role, at in (
            ("d1", "deliver", NOW),
            ("d2", "deliver", NOW),
            ("old", "deliver", NOW - LEASE),
        ):
            await worker_store.heartbeat(s, wid, role=role, host="h", pid=1, now=at)
        await worker_store.heartbeat(s, "i1", role="ingest", host="h", pid=2, now=NOW)
        await worker_store.heartbeat(s, "d1", role="deliver", host="h", pid=1, now=NOW)  # refresh only
    async with db.session() as s, s.begin():
        live = await worker_store.live_workers(s, since=NOW - timedelta(seconds=15), role="deliver")
        assert sorted(w.id for w in live) == ["d1", "d2"]
        assert await worker_store.prune(s, before=NOW - timedelta(minutes=1)) == 1
        await worker_store.remove(s, "d2")
        assert [w.id for w in await worker_store.live_workers(s, since=NOW - LEASE)] == ["d1", "i1"]
