"""Two heartbeats' transactions made to overlap on PostgreSQL: one is held open right after its read of the
``workers`` table, before its commit, until the test lets it go. The races between processes that start
or join at the same moment are reproduced with it, deterministically. PostgreSQL only: SQLite would
serialise the two transactions (and the held one would block the other)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from storage import workers as worker_store
from storage.workers import WorkerInfo


class HeldRead:
    """Holds the first heartbeat whose read ``holds`` picks (by the rows it saw) until ``release``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, holds: Callable[[list[WorkerInfo]], bool]) -> None:
        self.reading = asyncio.Event()
        """Set once the held heartbeat has read the table."""
        self._go_on = asyncio.Event()
        real_read = worker_store.live_workers

        async def read(session: AsyncSession, **kw: Any) -> list[WorkerInfo]:
            rows = await real_read(session, **kw)
            if not self._go_on.is_set() and holds(rows):
                self.reading.set()
                await self._go_on.wait()
            return rows

        monkeypatch.setattr(worker_store, "live_workers", read)

    def release(self) -> None:
        self._go_on.set()
