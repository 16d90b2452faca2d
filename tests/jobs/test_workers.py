"""``jobs.workers.Membership``: the live workers each process counts, and when a newcomer may send.

Sending processes split Telegram's overall rate by how many of them live; a newcomer that sent before
the others had counted it would push the sum over the limit for up to a heartbeat period."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from jobs.workers import Membership, pid_scope
from storage import workers as worker_store
from storage.db import Database
from tests.heldread import HeldRead


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


async def test_a_heartbeat_that_read_the_table_before_a_newcomer_committed_does_not_count_as_seen(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race that let two senders each take the whole rate: the old worker's heartbeat is stamped
    after the newcomer's, but its read ran before the newcomer's row was committed, so it did not count
    it. PostgreSQL only: there the two transactions overlap (SQLite would serialise them)."""
    with psycopg.connect(pg_url) as conn:
        conn.execute("DELETE FROM workers")
    db = Database(pg_url)
    old = Membership(db, "deliver", every=60)
    new = Membership(db, "deliver", every=60)
    # Only the newcomer's own read sees its uncommitted row.
    race = HeldRead(monkeypatch, lambda rows: any(w.id == new.id for w in rows))
    try:
        await old.beat()
        joining = asyncio.create_task(new.beat())
        await race.reading.wait()
        await old.beat()  # stamped after the newcomer's heartbeat, read before its commit
        assert old.count() == 1
        race.release()
        await joining
        await new.beat()  # now reads the old worker's heartbeat, stamped after its own first one
        assert new.count() == 2
        assert not new.seen_by_all()  # yet the old worker has not counted it
        await old.beat()
        assert old.count() == 2
        await new.beat()
        assert new.seen_by_all()
    finally:
        for m in (old, new):
            await m.stop()
        await db.dispose()


async def test_a_worker_whose_process_exited_counts_for_nobody_where_its_pid_can_be_asked(
    db: Database,
) -> None:
    """A crash then a restart: the dead predecessor's row is not live for the lease's remaining seconds.

    Only rows of this process's scope (kernel boot and PID namespace) are judged by their pid: another
    container on the same host network has the same host name but pids of its own.
    """
    exited = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await exited.wait()
    alive = await asyncio.create_subprocess_exec(sys.executable, "-c", "import time; time.sleep(60)")
    scope = pid_scope()
    assert scope is not None  # Linux, as CI
    rows = [
        ("deliver:dead", exited.pid, scope),
        ("deliver:alive", alive.pid, scope),
        ("deliver:earlier-me", os.getpid(), scope),  # a previous process that had this pid
        ("deliver:other-namespace", exited.pid, "another-boot/pid:[1]"),
    ]
    try:
        async with db.session() as s, s.begin():
            for ident, pid, rows_scope in rows:
                await worker_store.heartbeat(
                    s, ident, role="deliver", host=socket.gethostname(), pid=pid, now=datetime.now(UTC),
                    pid_scope=rows_scope,
                )  # fmt: skip
        newcomer = Membership(db, "deliver", every=60)
        await newcomer.start()
        assert newcomer.count() == 3  # itself, the live process and the other namespace's worker
        since = datetime.now(UTC) - timedelta(hours=1)
        async with db.session() as s:
            ids = {w.id for w in await worker_store.live_workers(s, since=since)}
        assert ids == {newcomer.id, "deliver:alive", "deliver:other-namespace"}
        await newcomer.stop()
    finally:
        alive.kill()
        await alive.wait()
