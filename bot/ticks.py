"""Scheduled ticks on PTB's JobQueue. Each tick asks the database what is due; none keeps state in memory.

APScheduler runs at most one instance of a job at a time, so a slow pass is skipped, not stacked.

* ``ingest`` (every 60 s): fetch due feeds.
* ``digest`` (every 30 s): queue the digests of due chats, then wake the delivery loop.
* ``delivery`` (once, at start): the delivery loop, a long-running job that drains the outbox whenever it
  is woken (``wake_delivery``: the digest tick, ``/digest``) and on its own poll; it ends when the
  Application stops, after the pages in flight are answered.
* ``delivery-watch`` (every 15 s): wakes the loop (a retry may have fallen due) and restarts it if it died.
* ``updates-prune`` (hourly): forgets handled updates older than a day (Telegram resends none that old),
  and the group cooldowns of groups that have not read for a day (``storage.cooldowns.prune``).

By role (``nashra run --role``): ``all`` schedules every tick; ``updates`` the digest tick and the
updates prune. The digest tick must happen once across all processes, so where ``bot.roles`` put a
``Leadership`` for the ``ticks`` lock in ``bot_data`` it works only while that lock is held; without
one (tests, SQLite) it always works. The prune is idempotent and runs wherever updates are handled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from telegram.ext import Application, ContextTypes

from bot.settings import Settings
from jobs.deliver import Deliverer, FatalDeliveryError, make_bot
from storage.db import Database

if TYPE_CHECKING:
    from jobs.ingest import IngestSummary

log = logging.getLogger(__name__)

DELIVERY_KEY = "nashra.delivery"
TICKS_LOCK_KEY = "nashra.ticks-lock"
WORKER_ID_KEY = "nashra.worker-id"
DIGEST_INTERVAL = 30.0
DELIVERY_WATCH_INTERVAL = 15.0
UPDATES_KEPT = timedelta(days=1)


@dataclass(slots=True)
class DeliveryLoop:
    """The process's one delivery loop: its ``Deliverer`` once started, and whether it is running."""

    deliverer: Deliverer | None = None
    running: bool = False
    woken_early: bool = field(default=False)

    def wake(self) -> None:
        if self.deliverer is not None:
            self.deliverer.wake()
        else:
            self.woken_early = True


def delivery_loop_of(application: Application) -> DeliveryLoop:  # type: ignore[type-arg]
    loop = application.bot_data.get(DELIVERY_KEY)
    if loop is None:
        loop = application.bot_data[DELIVERY_KEY] = DeliveryLoop()
    return loop  # type: ignore[no-any-return]


def wake_delivery(application: Application) -> None:  # type: ignore[type-arg]
    """Pages were queued: have the delivery loop look at the outbox now, not at its next poll."""
    delivery_loop_of(application).wake()


async def ingest_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    from bot.app import services_of

    svc = services_of(context.application)
    summary = await svc.ingestor.run(datetime.now(UTC))
    if summary.new:
        await alert_pass(context.application, svc.settings)
    log_ingest(summary)


def log_ingest(summary: IngestSummary) -> None:
    """One line per pass that fetched anything (every role that ingests logs the same)."""
    if summary.feeds_ok or summary.feeds_failed:
        log.info(
            "ingest: %d feeds ok, %d failed, %d new, %d duplicates",
            summary.feeds_ok,
            summary.feeds_failed,
            summary.new,
            summary.duplicates,
        )


async def alert_pass(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """Right after new articles were stored: queue the alerts of stories that just broke, wake delivery."""
    from bot.app import services_of
    from bot.digest_cli import alert_rules
    from jobs.alerts import run_alerts

    run = await run_alerts(services_of(application).db, datetime.now(UTC), rules=alert_rules(settings))
    if run.queued:
        wake_delivery(application)


async def digest_pass(db: Database, settings: Settings) -> int:
    """One digest tick's work; returns the pages queued. Shared by the JobQueue tick and plain roles."""
    from bot.digest_cli import digest_policy
    from jobs.digest import run_digests

    run = await run_digests(db, datetime.now(UTC), policy=digest_policy(settings))
    if run.pages:
        log.info(
            "digest: %d chats, %d pages queued (%d renderings)", run.queued_chats, run.pages, run.renderings
        )
    return run.pages


async def digest_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    from bot.app import services_of

    lock = context.application.bot_data.get(TICKS_LOCK_KEY)
    if lock is not None and not lock.held:
        return  # another process holds the ticks lock and runs this tick
    settings: Settings = context.job.data  # type: ignore[union-attr,assignment]
    if await digest_pass(services_of(context.application).db, settings):
        wake_delivery(context.application)


async def delivery_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs the delivery loop until the Application stops; a fresh ``telegram.Bot`` per start."""
    from bot.app import budget_of, services_of
    from bot.digest_cli import build_deliverer

    application = context.application
    settings: Settings = context.job.data  # type: ignore[union-attr,assignment]
    state = delivery_loop_of(application)
    if state.running:
        return
    state.running = True
    try:
        bot = make_bot(settings.require_token(), settings.bot_api_base_url)
        # The handlers' budget: a digest page to a reader waits for their reply, never races it.
        deliverer = build_deliverer(
            settings,
            services_of(application).db,
            bot,
            budget=budget_of(application),
            owner=application.bot_data.get(WORKER_ID_KEY),
        )
        state.deliverer = deliverer
        if state.woken_early:  # pages queued before the loop was up
            state.woken_early = False
            deliverer.wake()
        async with bot:
            await deliverer.run(should_stop=lambda: not application.running)
    except FatalDeliveryError:
        log.critical("delivery stopped: Telegram refused the bot itself", exc_info=True)
        raise
    finally:
        state.running = False
        state.deliverer = None


async def prune_updates_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    from bot.app import services_of
    from storage import cooldowns
    from storage import updates as inbox

    now = datetime.now(UTC)
    async with services_of(context.application).db.engine.begin() as conn:
        pruned = await inbox.prune(conn, done_before=now - UPDATES_KEPT)
        idle = await cooldowns.prune(conn, before=now - UPDATES_KEPT)
    if pruned:
        log.info("updates: forgot %d handled update(s) older than a day", pruned)
    if idle:
        log.info("cooldowns: forgot %d group(s) that have not read for a day", idle)


async def delivery_watch(context: ContextTypes.DEFAULT_TYPE) -> None:
    state = delivery_loop_of(context.application)
    if state.running:
        state.wake()
    elif context.application.running and context.job_queue is not None:
        log.warning("delivery loop is not running: starting it again")
        context.job_queue.run_once(delivery_job, when=0, data=context.job.data, name="delivery")  # type: ignore[union-attr]


def register(
    application: Application,  # type: ignore[type-arg]
    settings: Settings,
    *,
    enabled: bool = True,
    role: str = "all",
) -> None:
    """Schedule the role's ticks; ``enabled=False`` schedules none (handler tests drive jobs themselves)."""
    jq = application.job_queue
    if jq is None:  # pragma: no cover - the job-queue extra is a dependency
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")
    delivery_loop_of(application)
    if not enabled:
        return
    jq.run_repeating(digest_tick, interval=DIGEST_INTERVAL, first=5, name="digest", data=settings)
    jq.run_repeating(prune_updates_tick, interval=3600, first=60, name="updates-prune")
    if role != "all":
        return
    jq.run_repeating(ingest_tick, interval=60, first=2, name="ingest")
    jq.run_once(delivery_job, when=1, name="delivery", data=settings)
    jq.run_repeating(
        delivery_watch,
        interval=DELIVERY_WATCH_INTERVAL,
        first=DELIVERY_WATCH_INTERVAL,
        name="delivery-watch",
        data=settings,
    )
