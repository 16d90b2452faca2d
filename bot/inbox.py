"""Handling updates from the inbox table: at least once, in order per chat, many chats at a time.

``jobs.updates.UpdatePoller`` (or a webhook) writes updates to the ``updates`` table; this loop claims
them with a lease, runs each through ``Application.process_update`` (every handler group, the error
handler) and marks it done. What a crash interrupts is still open in the table: the restarted process,
or another one once the lease runs out, handles it then.

* **Order per chat.** A chat's updates run one after another (a reader's /start before their /settings);
  different chats run concurrently, up to ``max_inflight`` updates claimed at once.
* **Leases.** Claims are renewed every ``lease / 3`` seconds while this process lives, so a slow handler is
  not taken over, and a dead process's claims come back after ``lease`` seconds at most.
* **Done marks** are written as handling finishes, batched by whatever finished meanwhile: one
  transaction per batch, not per update, when hundreds of readers arrive at once.

What can repeat after a crash: an update whose handling finished but whose done mark was not yet
committed is handled again. Settings writes are idempotent (subscribe, topics, time and timezone set a
state), so the repeat is at worst the same reply sent twice; ``/digest`` queues nothing the first run did
not already queue (the outbox's unique keys) and answers «لا جديد» if the first run queued it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from telegram import Update
from telegram.ext import Application

from storage import updates as store
from storage.db import Database
from storage.updates import ClaimedUpdate

log = logging.getLogger(__name__)


def owner_name() -> str:
    """This process, as it signs its claims: readable in the table, unique across restarts."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class UpdateInbox:
    """Claims stored updates and hands them to ``application``; ``run`` until ``should_stop``."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        db: Database,
        *,
        lease: float = 30.0,
        max_inflight: int = 256,
        poll: float = 1.0,
        max_attempts: int = 5,
        owner: str | None = None,
    ) -> None:
        if lease <= 0 or max_inflight < 1 or poll <= 0:
            raise ValueError("lease, max_inflight and poll must be positive")
        self.application = application
        self.db = db
        self.lease = lease
        self.max_inflight = max_inflight
        self.poll = poll
        self.max_attempts = max_attempts
        self.owner = owner or owner_name()
        self.handled = 0
        self.latencies: deque[float] = deque(maxlen=10_000)
        """Seconds from claim to done of recent updates (figures and metrics)."""
        self._wake = asyncio.Event()
        self._queues: dict[object, deque[ClaimedUpdate]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._outstanding = 0
        self._finished: list[int] = []
        self._flushed = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._gate = asyncio.Semaphore(1 if db.dialect == "sqlite" else 4)
        self._stopping = False

    def wake(self) -> None:
        """Updates were stored: claim them now rather than at the next poll."""
        self._wake.set()

    async def recover(self) -> int:
        """The single process of a SQLite deployment starts: whatever is claimed belonged to a dead run.

        (On PostgreSQL other processes may be alive and working, so their claims are left to expire.)
        """
        if self.db.dialect != "sqlite":
            return 0
        async with self._gate, self.db.engine.begin() as conn:
            n = await store.release(conn)
        if n:
            log.warning("inbox: %d update(s) left unfinished by a previous run are handled again", n)
        return n

    async def run(self, should_stop: Callable[[], bool]) -> None:
        await self.recover()
        renew_every = self.lease / 3
        renewed = time.monotonic()
        try:
            while not should_stop():
                self._wake.clear()
                claimed = 0
                try:
                    if self._outstanding < self.max_inflight:
                        claimed = await self._claim(self.max_inflight - self._outstanding)
                    if time.monotonic() - renewed >= renew_every:
                        await self._renew()
                        renewed = time.monotonic()
                except Exception:
                    # The database went away: what is stored stays stored; look again after a pause.
                    log.warning("inbox: claiming updates failed; retrying", exc_info=True)
                    await asyncio.sleep(self.poll)
                    continue
                if claimed and self._outstanding < self.max_inflight:
                    continue  # there may be more behind them
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(self.poll, renew_every))
        finally:
            await self._stop()

    async def settled(self) -> None:
        """Wait until every update claimed so far is handled and its done mark committed."""
        while self._workers or self._flusher is not None:
            if self._workers:
                await asyncio.wait(set(self._workers))
            if self._flusher is not None:
                await asyncio.wait({self._flusher})

    # --- claiming ------------------------------------------------------------------------------------

    def _lease_end(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.lease)

    async def _claim(self, room: int) -> int:
        now = datetime.now(UTC)
        async with self._gate, self.db.engine.begin() as conn:
            rows = await store.claim(conn, self.owner, now, lease_until=self._lease_end(), limit=room)
            poisoned = [r.update_id for r in rows if r.attempts > self.max_attempts]
            if poisoned:
                await store.finish(conn, poisoned, now, error=f"gave up after {self.max_attempts} attempts")
        for row in rows:
            if row.update_id in poisoned:
                log.error("inbox: update %d failed %d times; giving up on it", row.update_id, row.attempts)
                continue
            self._enqueue(row)
        return len(rows)

    async def _renew(self) -> None:
        if not self._outstanding:
            return
        async with self._gate, self.db.engine.begin() as conn:
            await store.renew(conn, self.owner, lease_until=self._lease_end())

    def _enqueue(self, row: ClaimedUpdate) -> None:
        key: object = row.chat_id if row.chat_id is not None else ("update", row.update_id)
        self._outstanding += 1
        queue = self._queues.get(key)
        if queue is not None:  # that chat's worker is running: it takes this one after the others
            queue.append(row)
            return
        self._queues[key] = deque([row])
        task = asyncio.create_task(self._chat_worker(key))
        self._workers.add(task)
        task.add_done_callback(self._workers.discard)

    # --- handling ------------------------------------------------------------------------------------

    async def _chat_worker(self, key: object) -> None:
        queue = self._queues[key]
        try:
            while queue and not self._stopping:
                row = queue[0]
                await self._handle(row)
                queue.popleft()
                self._outstanding -= 1
                self._finish(row.update_id)
                if self._outstanding < self.max_inflight:
                    self._wake.set()
        finally:
            del self._queues[key]

    async def _handle(self, row: ClaimedUpdate) -> None:
        started = time.monotonic()
        try:
            update = Update.de_json(json.loads(row.payload), self.application.bot)
            # Runs every handler group and, for an exception a handler raises, the error handler.
            await self.application.process_update(update)
        except Exception:
            # Only what process_update itself could not route (a payload that no longer parses).
            log.exception("inbox: update %d could not be handled", row.update_id)
        self.handled += 1
        self.latencies.append(time.monotonic() - started)

    def _finish(self, update_id: int) -> None:
        self._finished.append(update_id)
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        """Commit done marks for whatever finished, until nothing is left (one transaction per batch)."""
        try:
            while self._finished:
                batch, self._finished = self._finished, []
                for attempt in range(5):
                    try:
                        async with self._gate, self.db.engine.begin() as conn:
                            await store.finish(conn, batch, datetime.now(UTC))
                        break
                    except Exception:
                        # The lease keeps them ours a while; if the database stays away they are handled
                        # again after it, which is the at-least-once promise.
                        log.warning("inbox: marking %d update(s) done failed", len(batch), exc_info=True)
                        await asyncio.sleep(0.2 * 2**attempt)
        finally:
            self._flusher = None

    async def _stop(self, grace: float = 10.0) -> None:
        """Let running handlers finish (for ``grace`` seconds at most), commit their marks, and hand back
        what was claimed but not begun, so that the next process starts on it at once."""
        self._stopping = True
        if self._workers:
            _, late = await asyncio.wait(set(self._workers), timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        if self._flusher is not None:
            await asyncio.wait({self._flusher})
        async with self._gate, self.db.engine.begin() as conn:
            await store.release(conn, owner=self.owner)
