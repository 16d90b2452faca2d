"""The update inbox on every backend: stored once, claimed in order per chat, leases, done and prune."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import updates as inbox
from storage.db import Database
from storage.updates import IncomingUpdate

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def upd(update_id: int, chat_id: int | None) -> IncomingUpdate:
    return IncomingUpdate(update_id, chat_id, f'{{"update_id": {update_id}}}')


async def test_an_update_delivered_twice_is_stored_once(db: Database) -> None:
    async with db.engine.begin() as conn:
        assert await inbox.store(conn, [upd(10, 1), upd(11, 2)], T0) == [10, 11]
    async with db.engine.begin() as conn:
        assert await inbox.store(conn, [upd(11, 2), upd(12, 1)], T0) == [12]
        assert await inbox.open_count(conn) == 3
        assert await inbox.next_offset(conn) == 13


async def test_claims_keep_each_chat_in_order_across_owners_and_leases_expire(db: Database) -> None:
    lease = T0 + timedelta(seconds=30)
    async with db.engine.begin() as conn:
        await inbox.store(conn, [upd(1, 100), upd(2, 200)], T0)
    async with db.engine.begin() as conn:
        a = await inbox.claim(conn, "a", T0, lease_until=lease, limit=1)
    assert [(u.update_id, u.attempts) for u in a] == [(1, 1)]
    async with db.engine.begin() as conn:
        await inbox.store(conn, [upd(3, 100)], T0)  # chat 100's next command, while "a" holds its first
        b = await inbox.claim(conn, "b", T0, lease_until=lease, limit=10)
    assert [u.update_id for u in b] == [2]  # not 3: chat 100 is "a"'s until its update 1 is done
    async with db.engine.begin() as conn:
        again = await inbox.claim(conn, "a", T0, lease_until=lease, limit=10)
    assert [u.update_id for u in again] == [3]  # its own chat's next one may queue behind the first
    # "a" dies: after its lease, "b" takes what it held, counting the attempt (and its own expired one).
    later = T0 + timedelta(seconds=31)
    async with db.engine.begin() as conn:
        taken = await inbox.claim(conn, "b", later, lease_until=later + timedelta(seconds=30), limit=10)
    assert [(u.update_id, u.attempts) for u in taken] == [(1, 2), (2, 2), (3, 2)]


async def test_renew_finish_release_and_prune(db: Database) -> None:
    lease = T0 + timedelta(seconds=10)
    async with db.engine.begin() as conn:
        await inbox.store(conn, [upd(1, 5), upd(2, 6), upd(3, None)], T0)
        claimed = await inbox.claim(conn, "me", T0, lease_until=lease, limit=10)
        assert len(claimed) == 3
        assert await inbox.renew(conn, "me", lease_until=T0 + timedelta(seconds=60)) == 3
    # Renewed: still ours after the first lease would have run out.
    async with db.engine.begin() as conn:
        assert await inbox.claim(conn, "other", T0 + timedelta(seconds=20), lease_until=lease, limit=10) == []
        await inbox.finish(conn, [1], T0 + timedelta(seconds=1))
        assert await inbox.release(conn, owner="me") == 2  # a clean stop hands back what was not begun
        assert await inbox.open_count(conn) == 2
        back = await inbox.claim(conn, "next", T0 + timedelta(seconds=2), lease_until=lease, limit=10)
    assert [u.update_id for u in back] == [2, 3]
    async with db.engine.begin() as conn:
        assert await inbox.release(conn) == 2  # a lone process restarting: every claim was a dead run's
        await inbox.finish(conn, [2, 3], T0 + timedelta(hours=2), error="gave up")
        assert await inbox.prune(conn, done_before=T0 + timedelta(hours=1)) == 1
        assert await inbox.open_count(conn) == 0
        assert await inbox.next_offset(conn) == 4  # what is left still says where polling resumes
