"""Scheduled ticks on PTB's JobQueue. Each tick asks the database what is due; none keeps state in memory.

APScheduler runs at most one instance of a job at a time, so a slow pass is skipped, not stacked.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram.ext import Application, ContextTypes

from bot.settings import Settings

log = logging.getLogger(__name__)


async def ingest_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    from bot.app import services_of

    svc = services_of(context.application)
    summary = await svc.ingestor.run(datetime.now(UTC))
    if summary.feeds_ok or summary.feeds_failed:
        log.info(
            "ingest: %d feeds ok, %d failed, %d new, %d duplicates",
            summary.feeds_ok,
            summary.feeds_failed,
            summary.new,
            summary.duplicates,
        )


def register(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    jq = application.job_queue
    if jq is None:  # pragma: no cover - the job-queue extra is a dependency
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")
    jq.run_repeating(ingest_tick, interval=60, first=2, name="ingest")
