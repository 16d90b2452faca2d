"""Composition root: builds the python-telegram-bot Application from ``Settings``.

Reads top to bottom like PTB's own examples: one builder chain, the services' lifecycle hooks, the
handlers, the scheduled ticks, and the error handler last. Nothing imports this module but the CLI and
the tests that run the bot end to end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import cast

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot import handlers, ticks
from bot.runtime import Services, seed_default_feeds, start_services, stop_services
from bot.settings import Settings
from jobs import metrics

log = logging.getLogger(__name__)

SERVICES_KEY = "nashra.services"


def services_of(application: Application) -> Services:  # type: ignore[type-arg]
    return cast(Services, application.bot_data[SERVICES_KEY])


class TimedApplication(Application):  # type: ignore[type-arg]
    """PTB's Application, timing each update's handling for the ``nashra_update_handling_seconds`` metric."""

    async def process_update(self, update: object) -> None:
        started = time.perf_counter()
        try:
            await super().process_update(update)
        finally:
            metrics.UPDATE_LATENCY.observe(time.perf_counter() - started)


def build_application(
    settings: Settings, *, migrate: bool = True, run_ticks: bool = True, role: str = "all"
) -> Application:  # type: ignore[type-arg]
    """The bot, ready for ``run_polling``. ``run_ticks=False`` leaves the scheduled ticks out (tests that
    drive conversations must not have an ingest pass or a digest fire under them); ``role`` picks which
    ticks run (``bot.ticks.register``)."""
    token = settings.require_token()

    async def post_init(application: Application) -> None:  # type: ignore[type-arg]
        # Services own their lifecycle: created once the event loop runs, closed at shutdown.
        svc = await start_services(settings, migrate=migrate)
        application.bot_data[SERVICES_KEY] = svc
        if seeded := await seed_default_feeds(svc):
            log.info("no feeds yet: loaded %d default Arabic feeds", seeded)
        await handlers.on_startup(application)

    async def post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
        svc = application.bot_data.pop(SERVICES_KEY, None)
        if svc is not None:
            await stop_services(svc)

    application = (
        ApplicationBuilder()
        .application_class(TimedApplication)
        .token(token)
        .base_url(settings.bot_api_base_url)
        .base_file_url(settings.bot_file_base_url)
        # Handlers for different chats run concurrently; a slow /search must not stall everyone.
        .concurrent_updates(True)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )

    # Commands, buttons and membership changes: one module per command family.
    handlers.register(application, settings)
    # Repeating ticks: the database holds the schedule, so ticks only ask what is due now.
    ticks.register(application, settings, enabled=run_ticks, role=role)
    # Last: anything a handler did not catch is logged (without the token) and answered politely.
    application.add_error_handler(on_error)
    return application


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("unhandled error while processing an update", exc_info=context.error)
    await handlers.reply_internal_error(update, context)


@asynccontextmanager
async def polling(application: Application) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """``application`` polling inside an event loop the caller runs (the demo, tests).

    The steps of ``run_polling`` in its order, and on exit their reverse, so that ``post_init`` and
    ``post_shutdown`` (services, database, delivery loop) run exactly as in ``nashra run``.
    """
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    updater = application.updater
    if updater is None:
        raise RuntimeError("the application was built without an updater")
    await updater.start_polling(poll_interval=0.0, timeout=1, allowed_updates=Update.ALL_TYPES)
    await application.start()
    try:
        yield application
    finally:
        await updater.stop()
        await application.stop()
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


def run_bot(settings: Settings, *, speedup: float = 1.0) -> None:
    """``nashra run``: the process's role (``settings.role``) until SIGINT or SIGTERM."""
    import asyncio
    import warnings

    from bot.roles import run_role

    log.info(
        "starting Nashra (role %s) at %s", settings.role, datetime.now(UTC).isoformat(timespec="seconds")
    )
    # Like PTB's run_polling: the process's current event loop, closed at the end.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        loop = asyncio.get_event_loop()
    try:
        loop.run_until_complete(run_role(settings, speedup=speedup))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
