"""The ``workers`` table: one row per running process, kept fresh by its heartbeat.

Delivery workers count the live ones to split Telegram's overall send rate between them; operators can
read it to see what runs where. A row whose heartbeat is older than the caller's lease is a dead
process: ignored by ``live_workers`` and deleted by ``prune``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.schema import Worker


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    id: str
    role: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    pid_scope: str | None = None


async def heartbeat(
    session: AsyncSession,
    worker_id: str,
    *,
    role: str,
    host: str,
    pid: int,
    now: datetime,
    pid_scope: str | None = None,
) -> None:
    """Insert this worker's row on first call, refresh its heartbeat after."""
    result = await session.execute(update(Worker).where(Worker.id == worker_id).values(heartbeat_at=now))
    if not result.rowcount:  # type: ignore[attr-defined]
        session.add(
            Worker(
                id=worker_id, role=role, host=host, pid=pid, pid_scope=pid_scope, started_at=now,
                heartbeat_at=now,
            )
        )  # fmt: skip
        await session.flush()


async def live_workers(
    session: AsyncSession, *, since: datetime, role: str | None = None
) -> list[WorkerInfo]:
    """Workers that heartbeat at or after ``since``, oldest first."""
    query = select(Worker).where(Worker.heartbeat_at >= since).order_by(Worker.started_at, Worker.id)
    if role is not None:
        query = query.where(Worker.role == role)
    return [
        WorkerInfo(w.id, w.role, w.host, w.pid, w.started_at, w.heartbeat_at, w.pid_scope)
        for w in (await session.scalars(query)).all()
    ]


async def remove(session: AsyncSession, worker_id: str) -> None:
    """A clean stop: the others need not wait for the lease to count one worker fewer."""
    await session.execute(delete(Worker).where(Worker.id == worker_id))


async def prune(session: AsyncSession, *, before: datetime) -> int:
    result = await session.execute(delete(Worker).where(Worker.heartbeat_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
