"""Composition root: builds the python-telegram-bot Application from ``Settings``.

Reads top to bottom like PTB's own examples: one builder chain, the services' lifecycle hooks, the
handlers, the scheduled ticks, and the error handler last. Nothing imports this module but the CLI and
the tests that run the bot end to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

from telegram import Update
from telegram.error import Forbidden, RetryAfter
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot import handlers, ticks
from bot.inbox import UpdateInbox
from bot.ratelimit import BudgetRateLimiter
from bot.runtime import Services, seed_default_feeds, start_services, stop_services
from bot.settings import Settings
from jobs import metrics
from jobs.sendbudget import SendBudget
from jobs.updates import UpdatePoller

log = logging.getLogger(__name__)

SERVICES_KEY = "nashra.services"
BUDGET_KEY = "nashra.budget"
RECEIVER_KEY = "nashra.receiver"
ALLOWED_UPDATES = Update.ALL_TYPES


def services_of(application: Application) -> Services:  # type: ignore[type-arg]
    return cast(Services, application.bot_data[SERVICES_KEY])


def budget_of(application: Application) -> SendBudget:  # type: ignore[type-arg]
    """The process's one send budget, shared by the handlers' replies and the delivery loop."""
    return cast(SendBudget, application.bot_data[BUDGET_KEY])


class TimedApplication(Application):  # type: ignore[type-arg]
    """PTB's Application, timing each update's handling for the ``nashra_update_handling_seconds`` metric.

    The inbox (``bot.inbox``) hands every stored update to ``process_update``, so this sees them all.
    """

    async def process_update(self, update: object) -> None:
        started = time.perf_counter()
        try:
            await super().process_update(update)
        finally:
            metrics.UPDATE_LATENCY.observe(time.perf_counter() - started)


def build_application(
    settings: Settings, *, migrate: bool = True, run_ticks: bool = True, role: str = "all"
) -> Application:  # type: ignore[type-arg]
    """The bot, ready for ``polling``. ``run_ticks=False`` leaves the scheduled ticks out (tests that
    drive conversations must not have an ingest pass or a digest fire under them); ``role`` picks which
    ticks run (``bot.ticks.register``)."""
    token = settings.require_token()

    async def post_init(application: Application) -> None:  # type: ignore[type-arg]
        # Services own their lifecycle: created once the event loop runs, closed at shutdown.
        svc = await start_services(settings, migrate=migrate, long_running=True)
        application.bot_data[SERVICES_KEY] = svc
        if seeded := await seed_default_feeds(svc):
            log.info("no feeds yet: loaded %d default Arabic feeds", seeded)
        await handlers.on_startup(application)

    async def post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
        svc = application.bot_data.pop(SERVICES_KEY, None)
        if svc is not None:
            await stop_services(svc)

    # One budget for everything the process sends: handlers' replies through PTB's rate-limiter hook,
    # digest pages through the delivery loop (bot.ticks), replies first.
    budget = SendBudget(settings.send_limits())
    application = (
        ApplicationBuilder()
        .application_class(TimedApplication)
        .token(token)
        .base_url(settings.bot_api_base_url)
        .base_file_url(settings.bot_file_base_url)
        # No PTB Updater: updates are stored before Telegram is told they arrived, and handled from the
        # database (``receiving``), so a crash loses none.
        .updater(None)
        .rate_limiter(BudgetRateLimiter(budget))
        # A burst of readers waits in the budget, not in the connection pool.
        .connection_pool_size(64)
        .pool_timeout(60.0)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data[BUDGET_KEY] = budget

    # Commands, buttons and membership changes: one module per command family.
    handlers.register(application, settings)
    # Repeating ticks: the database holds the schedule, so ticks only ask what is due now.
    ticks.register(application, settings, enabled=run_ticks, role=role)
    # Last: anything a handler did not catch is logged (without the token) and answered politely.
    application.add_error_handler(on_error)
    return application


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    if isinstance(error, RetryAfter | Forbidden):
        # Telegram would not take a message to this chat (flood waits outlasted, a blocked bot): an
        # apology would meet the same fate.
        log.warning("could not answer update: %s: %s", type(error).__name__, error)
        return
    log.error("unhandled error while processing an update", exc_info=error)
    await handlers.reply_internal_error(update, context)


@dataclass(slots=True)
class Receiving:
    """The poller (or nothing, in webhook mode) and the inbox loop, as tasks of the running process."""

    inbox: UpdateInbox
    poller: UpdatePoller | None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stopping: bool = False

    async def stop(self) -> None:
        """Stop polling at once (what a poll in progress fetched is not confirmed, so not lost), then let
        the inbox finish the updates it is handling."""
        self.stopping = True
        for task in self.tasks[1:]:
            task.cancel()
        self.inbox.wake()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def start_receiving(application: Application, *, poll: bool = True) -> Receiving:  # type: ignore[type-arg]
    """Start handling stored updates and, with ``poll``, long polling that stores them."""
    settings = services_of(application).settings
    inbox = UpdateInbox(application, services_of(application).db, lease=settings.update_lease_seconds)
    poller = (
        UpdatePoller(
            services_of(application).db,
            application.bot,
            allowed_updates=ALLOWED_UPDATES,
            timeout=settings.poll_timeout_seconds,
            stored=inbox.wake,
        )
        if poll
        else None
    )
    receiving = Receiving(inbox, poller)
    receiving.tasks.append(asyncio.create_task(inbox.run(lambda: receiving.stopping), name="inbox"))
    if poller is not None:
        with contextlib.suppress(Exception):
            # Polling and a webhook exclude each other; going back to polling drops the webhook.
            await application.bot.delete_webhook()
        receiving.tasks.append(asyncio.create_task(poller.run(lambda: receiving.stopping), name="poller"))
    application.bot_data[RECEIVER_KEY] = receiving
    return receiving


@asynccontextmanager
async def polling(application: Application) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """``application`` running inside an event loop the caller runs (``nashra run``, the demo, tests).

    Initialize, ``post_init`` (services, database), start (job queue, ticks), then receive updates; on
    exit the reverse, so that ``post_shutdown`` closes what ``post_init`` opened.
    """
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()
    receiving = await start_receiving(application)
    try:
        yield application
    finally:
        await receiving.stop()
        await application.stop()
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


def run_bot(settings: Settings, *, speedup: float = 1.0) -> None:
    """``nashra run``: the process's role (``settings.role``) until SIGINT or SIGTERM."""
    from bot.roles import run_role

    log.info(
        "starting Nashra (role %s) at %s", settings.role, datetime.now(UTC).isoformat(timespec="seconds")
    )
    asyncio.run(run_role(settings, speedup=speedup))
    log.info("stopped")
