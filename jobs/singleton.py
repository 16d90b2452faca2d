"""Work that must happen once across every process: run it only while holding its advisory lock.

``Leadership`` tries the lock every ``retry`` seconds while on standby and checks it every ``check``
seconds while holding it, calling ``on_gain``/``on_lose`` at the transitions. With the defaults a
standby takes over at most ``retry`` seconds after the server freed a dead holder's lock (at once for
a killed process, about 20 s for a vanished host: see ``storage.locks``), well inside 30 s.

The poller uses the callbacks (start and stop ``getUpdates``); ticks just ask ``held`` before working.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from jobs import metrics
from storage.db import Database
from storage.locks import AdvisoryLock

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


class Leadership:
    def __init__(
        self,
        db: Database,
        name: str,
        *,
        on_gain: Hook = _nothing,
        on_lose: Hook = _nothing,
        retry: float = 5.0,
        check: float = 2.0,
    ) -> None:
        self.lock = AdvisoryLock(db, name)
        self.name = name
        self.on_gain = on_gain
        self.on_lose = on_lose
        self.retry = retry
        self.check = check
        self._task: asyncio.Task[None] | None = None
        self.alive = False
        """The loop runs (``/healthz``): standby and holder alike are healthy."""

    @property
    def held(self) -> bool:
        return self.lock.held

    def start(self) -> None:
        self._gauge()  # 0 on standby: the series exists from the start
        self._task = asyncio.create_task(self._run(), name=f"leadership {self.name}")

    async def _run(self) -> None:
        self.alive = True
        try:
            while True:
                if not self.lock.held:
                    try:
                        gained = await self.lock.try_acquire()
                    except Exception:
                        log.warning("lock %s: database unreachable; retrying", self.name, exc_info=True)
                        gained = False
                    if gained:
                        log.info("lock %s: acquired; this process runs it now", self.name)
                        if await self._call(self.on_gain):
                            self._gauge()
                            continue
                        await self.lock.release()  # could not start the work: let another process try
                    await asyncio.sleep(self.retry)
                    continue
                await asyncio.sleep(self.check)
                if not await self.lock.still_held():
                    log.warning("lock %s: lost; standing by", self.name)
                    self._gauge()
                    await self._call(self.on_lose)
        finally:
            self.alive = False

    async def _call(self, hook: Hook) -> bool:
        try:
            await hook()
        except Exception:
            log.exception("lock %s: callback failed", self.name)
            return False
        return True

    def _gauge(self) -> None:
        metrics.LEADER.labels(lock=self.name).set(1 if self.lock.held else 0)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.lock.held:
            await self._call(self.on_lose)
        await self.lock.release()
        self._gauge()
