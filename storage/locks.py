"""Advisory locks: which process runs the work that must happen once (the poller, the digest tick).

On PostgreSQL a lock is ``pg_try_advisory_lock`` on a connection this object keeps checked out for as
long as it holds the lock: a session-level lock, so it goes away with the connection. A process that
dies (killed, crashed, its host gone) loses its connection and the server frees the lock; the server
side TCP keepalives and ``tcp_user_timeout`` set here make it notice a vanished host in about 20 s
instead of the system default of hours.

On SQLite there is one process by design, so the lock is trivially held.

Nothing here loops or retries: ``jobs.singleton`` decides when to try again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database

log = logging.getLogger(__name__)

# Server-side detection of a dead client: keepalive probes after 5 s idle, every 3 s, 4 misses; and any
# unacknowledged data aborts the connection after 15 s. The lock then returns to the standbys.
_KEEPALIVE = (
    "SET tcp_keepalives_idle = 5",
    "SET tcp_keepalives_interval = 3",
    "SET tcp_keepalives_count = 4",
    "SET tcp_user_timeout = 15000",
)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (``pg_advisory_lock`` takes a bigint)."""
    digest = hashlib.blake2b(f"nashra:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryLock:
    """One named lock; ``try_acquire`` never waits, ``still_held`` checks the connection under it."""

    def __init__(self, db: Database, name: str) -> None:
        self.db = db
        self.name = name
        self.key = lock_key(name)
        self._conn: AsyncConnection | None = None
        self._trivial = db.dialect != "postgresql"
        self.held = False

    async def try_acquire(self) -> bool:
        if self.held:
            return True
        if self._trivial:
            self.held = True
            return True
        conn = await self.db.engine.connect()
        try:
            for statement in _KEEPALIVE:
                await conn.execute(text(statement))
            got = bool(
                (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})).scalar_one()
            )
            # Leave no transaction open on the connection that holds the lock: an idle-in-transaction
            # session would keep a snapshot and block vacuum for as long as the process lives.
            await conn.commit()
        except BaseException:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        self.held = True
        return True

    async def still_held(self) -> bool:
        """Whether the lock is still ours: its connection answers and the server lists the lock."""
        if not self.held:
            return False
        if self._trivial:
            return True
        assert self._conn is not None
        try:
            mine = (
                await self._conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                        " AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = :k"
                    ),
                    {"k": self.key},
                )
            ).scalar_one()
            await self._conn.commit()
        except Exception:
            log.warning("lock %s: its connection failed; the lock is lost", self.name)
            await self._drop()
            return False
        if not mine:
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        if not self.held:
            return
        if self._trivial:
            self.held = False
            return
        assert self._conn is not None
        with contextlib.suppress(Exception):
            await self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            await self._conn.commit()
        await self._drop()

    async def _drop(self) -> None:
        self.held = False
        conn, self._conn = self._conn, None
        if conn is not None:
            # Never back to the pool: it carries this lock's session settings, and may be broken.
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()
