"""Who this process is among the Nashra processes sharing a database, and how many of each role live.

``worker_id`` names claims (feeds, outbox rows) so they can be told apart and taken back after their
lease. ``Membership`` keeps the process's row in ``workers`` fresh and remembers how many live workers
each role had at the last heartbeat: delivery workers divide Telegram's overall rate by that number.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import workers as worker_store
from storage.db import Database
from storage.workers import WorkerInfo

log = logging.getLogger(__name__)


def worker_id(role: str) -> str:
    """``role:host:pid:random``: unique per process start, readable in the database (64 chars at most)."""
    host = socket.gethostname()[:32]
    return f"{role}:{host}:{os.getpid()}:{uuid.uuid4().hex[:6]}"[:64]


def pid_scope() -> str | None:
    """The kernel boot and PID namespace this process runs in: where its pid means this process.

    Two processes with the same scope see each other's pids; a host name does not say as much
    (containers sharing a host's network share its name, not its pids). ``None`` off Linux.
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return f"{boot}/{namespace}"[:128]


_SCOPE = pid_scope()
_HERE: set[str] = set()
"""The ids of this process's memberships (tests run several in one process)."""


def _gone(worker: WorkerInfo) -> bool:
    """A worker of this process's scope whose process has exited: dead now, not once its lease lapses.

    Its pid is asked about only where it means the same process (``pid_scope``); a row with this very
    pid that no membership here owns was an earlier process's. A pid taken again by another process
    keeps the row counting until the lease, as a worker elsewhere does.
    """
    if _SCOPE is None or worker.pid_scope != _SCOPE:
        return False
    if worker.pid == os.getpid():
        return worker.id not in _HERE
    try:
        os.kill(worker.pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive under another user (EPERM), or the call is refused: count it
        return False
    return False


class Membership:
    """The process's heartbeat in ``workers``; ``count(role)`` is the live workers of a role, itself included.

    ``every`` is the heartbeat period; a worker is live while its last heartbeat is within ``lease``
    (three periods by default, so one slow beat does not drop it). A process that dies stops counting
    after ``lease``, or at once where its pid can be asked (``_gone``); one that stops cleanly removes
    its row at once. ``on_beat`` callbacks run right after each heartbeat, on the counts it read: a
    sending process lowers its share of the overall rate the moment it sees a newcomer, not up to a
    period later (``seen_by_all`` is what the newcomer waits for before it sends).
    """

    def __init__(
        self,
        db: Database,
        role: str,
        *,
        every: float = 5.0,
        lease: float | None = None,
        ident: str | None = None,
    ) -> None:
        self.db = db
        self.role = role
        self.id = ident or worker_id(role)
        _HERE.add(self.id)
        self.every = every
        self.lease = lease if lease is not None else 3 * every
        self._counts: dict[str, int] = {role: 1}
        self._others: list[tuple[str, datetime]] = []  # (role, last heartbeat) of the other live workers
        self._task: asyncio.Task[None] | None = None
        self.alive = False
        self.joined_at: datetime | None = None
        """When this worker's first heartbeat was committed: any heartbeat stamped later has counted it."""
        self.on_beat: list[Callable[[], None]] = []

    def count(self, *roles: str) -> int:
        """Live workers of ``roles`` (default: this one's) at the last heartbeat; at least 1."""
        return max(1, sum(self._counts.get(r, 0) for r in roles or (self.role,)))

    async def beat(self) -> None:
        now = datetime.now(UTC)
        async with self.db.session() as s, s.begin():
            await worker_store.heartbeat(
                s, self.id, role=self.role, host=socket.gethostname()[:255], pid=os.getpid(), now=now,
                pid_scope=_SCOPE,
            )  # fmt: skip
            live = await worker_store.live_workers(s, since=now - timedelta(seconds=self.lease))
        live = [w for w in live if not _gone(w)]
        counts: dict[str, int] = {}
        for w in live:
            counts[w.role] = counts.get(w.role, 0) + 1
        self._counts = counts
        self._others = [(w.role, w.heartbeat_at) for w in live if w.id != self.id]
        if self.joined_at is None:
            # Once the row is committed, not when this beat began: another worker stamps its heartbeat
            # before it reads the table, so a stamp later than this commit means a read that counted
            # this worker. A stamp taken while this transaction was still open proves nothing (its
            # read may have missed the row), and two senders would each keep the larger share.
            self.joined_at = datetime.now(UTC)
        self.alive = True
        for callback in self.on_beat:
            callback()

    def seen_by_all(self, *roles: str) -> bool:
        """Whether every other live worker of ``roles`` (default: this one's) has beaten since this one
        joined, as of this one's last heartbeat: each has counted it by then, and run its ``on_beat``."""
        if self.joined_at is None:
            return False
        wanted = roles or (self.role,)
        return all(at > self.joined_at for role, at in self._others if role in wanted)

    async def start(self) -> None:
        now = datetime.now(UTC)
        async with self.db.session() as s, s.begin():
            await worker_store.prune(s, before=now - timedelta(hours=1))
            # A predecessor killed a moment ago (a crash, then a restart) would count for a whole lease,
            # halving this process's share, and hold back its start (``seen_by_all``).
            for w in await worker_store.live_workers(s, since=now - timedelta(seconds=self.lease)):
                if _gone(w):
                    await worker_store.remove(s, w.id)
        await self.beat()
        self._task = asyncio.create_task(self._loop(), name=f"heartbeat {self.id}")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.beat()
            except Exception:
                self.alive = False
                log.warning("heartbeat failed (database unreachable?)", exc_info=True)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            async with self.db.session() as s, s.begin():
                await worker_store.remove(s, self.id)
        _HERE.discard(self.id)
