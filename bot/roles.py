"""``nashra run --role all|updates|ingest|deliver``: what one process does among several.

* ``all`` (default): everything in one process, as Nashra always ran on SQLite.
* ``updates``: answers readers. It polls ``getUpdates`` only while it holds the ``poller`` advisory lock
  (Telegram allows one consumer per bot); other ``updates``/``all`` processes stand by and take over
  within seconds of the holder's death. Its replies spend a share of the overall rate, as pages do.
* ``ingest``: fetches the due feeds it claims (``jobs.ingest``), with no Telegram connection at all.
* ``deliver``: sends the outbox pages it claims, at its share of the overall rate (the rate divided by
  the live sending processes, read from the ``workers`` heartbeats).

Every role also competes for the ``ticks`` lock: whichever process holds it runs the digest tick, so a
deployment missing any one role still queues its digests. Every role serves ``/healthz`` and
``/metrics`` when ``LISTEN`` (``--listen``) is set. SIGINT and SIGTERM stop a role cleanly: claims go
back, locks are released, the worker row is removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

from aiohttp import web

from bot.runtime import Services, services
from bot.settings import Settings, parse_listen
from bot.web import Health, WebServer
from jobs.singleton import Leadership
from jobs.workers import Membership

log = logging.getLogger(__name__)

SENDING_ROLES = ("all", "updates", "deliver")
"""Roles that send to Telegram: replies count against its limits as digest pages do."""
HEARTBEAT_SECONDS = 1.0
"""How often a process heartbeats: a newcomer waits up to about this long to be counted by the others."""
LEASE_SECONDS = 15.0
"""A process that has not heartbeaten for this long is dead: a slow beat or two does not drop it."""


class RateShare:
    """This process's share of the overall send rate: the rate divided by the live sending processes,
    re-applied right after each heartbeat (``Membership.on_beat``).

    A newcomer is counted by the others only at their next heartbeat; until then they still send at
    their old shares, which add up to the whole rate, and the room below Telegram's own limit is for
    network jitter, not for a newcomer. So a newcomer sends nothing (``hold``, from the moment this
    object exists: replies queue, first in line) until ``join`` saw every other sender beat since it
    joined, and one global window more for what they sent at their old share. A process with no other
    sender (``alone``) is released at once.
    """

    def __init__(
        self,
        membership: Membership,
        overall: float,
        apply: Callable[[float], None],
        hold: Callable[[bool], None] | None = None,
    ) -> None:
        self.membership = membership
        self.overall = overall
        self.apply = apply
        self.hold = hold
        self.joined = False
        self.alone: bool | None = None
        """Whether ``join`` found no other sender (``None`` before it decided)."""
        if hold is not None:
            hold(True)

    def rate(self) -> float:
        return self.overall / self.membership.count(*SENDING_ROLES)

    def __call__(self) -> None:
        self.apply(self.rate())

    async def join(self, stop: asyncio.Event, window: float) -> bool:
        """Wait until every other live sender has counted this process, beating every second to notice
        it soon; ``False`` when ``stop`` came first. Bounded by the lease: a sender that has not beaten
        for that long is dead and stops counting."""
        membership = self.membership
        loop = asyncio.get_running_loop()
        deadline = loop.time() + membership.lease
        # The first heartbeat may have read the table while a sender starting at the same moment had not
        # committed its row yet, and each would think itself alone. A read after this one's row was
        # committed settles it: of two such starters, the later one's second read sees the first.
        with contextlib.suppress(Exception):  # an unreachable database: the heartbeat loop says so
            await membership.beat()
        alone = self.alone = membership.count(*SENDING_ROLES) == 1 and membership.seen_by_all(*SENDING_ROLES)
        while not membership.seen_by_all(*SENDING_ROLES) and loop.time() < deadline:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=min(1.0, membership.every))
            if stop.is_set():
                return False
            with contextlib.suppress(Exception):  # an unreachable database: the heartbeat loop says so
                await membership.beat()
        if not alone:
            # What the others sent at their old share still counts in Telegram's window.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=window)
            if stop.is_set():
                return False
        self.joined = True
        self()
        if self.hold is not None:
            self.hold(False)
        return True


def stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def run_role(settings: Settings, *, stop: asyncio.Event | None = None, speedup: float = 1.0) -> None:
    """Run ``settings.role`` until ``stop`` is set (by default: SIGINT or SIGTERM).

    ``speedup`` shrinks every send limit and window, for the Bot API emulator's fast clock only.
    """
    stop = stop or stop_on_signals()
    if settings.role in ("all", "updates"):
        await _run_application(settings, stop, speedup)
    else:
        await _run_worker(settings, stop, speedup)


async def _serve_web(
    settings: Settings, svc: Services, health: Health, *, routes: Sequence[web.RouteDef] = ()
) -> WebServer | None:
    if not settings.listen:
        return None
    host, port = parse_listen(settings.listen)
    server = WebServer(host, port, db=svc.db, health=health)
    server.app.add_routes(routes)
    await server.start()
    return server


async def _periodic(
    stop: asyncio.Event, every: float, work: Callable[[], Awaitable[object]], name: str
) -> None:
    """``work`` every ``every`` seconds until ``stop``; a failure is logged and tried again next time."""
    while not stop.is_set():
        try:
            await work()
        except Exception:
            log.exception("%s failed; trying again in %.0f s", name, every)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


async def _run_application(settings: Settings, stop: asyncio.Event, speedup: float) -> None:
    """``all`` and ``updates``: the PTB Application handling stored updates; the poller under a lock.

    Every such process handles updates from the inbox table (claims with leases share them), but only
    the holder of the ``poller`` lock calls ``getUpdates``: Telegram allows one consumer per bot. In
    webhook mode (``WEBHOOK_URL``) nobody polls: every replica serves the webhook route on ``LISTEN``,
    stores what Telegram posts and handles it from the same inbox.
    """
    from bot import ticks
    from bot.app import ALLOWED_UPDATES, budget_of, build_application, services_of, start_receiving
    from bot.webhook import WebhookReceiver
    from jobs.updates import UpdatePoller

    application = build_application(settings, role=settings.role)
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    svc = services_of(application)
    membership = Membership(svc.db, settings.role, every=HEARTBEAT_SECONDS, lease=LEASE_SECONDS)
    application.bot_data[ticks.WORKER_ID_KEY] = membership.id
    # Replies and (for ``all``) the delivery loop's pages spend one budget: the process takes its share of
    # the overall rate as ``deliver`` workers do, and sends nothing, from now on, until the others have
    # counted it (``RateShare.join``, started below).
    budget = budget_of(application)
    share = RateShare(membership, budget.limits.per_second, budget.set_rate, budget.hold)
    await membership.start()
    await application.start()
    receiving = await start_receiving(application, poll=False)
    polling: list[asyncio.Task[None]] = []
    stop_poller = asyncio.Event()

    async def start_polling() -> None:
        poller = UpdatePoller(
            svc.db,
            application.bot,
            allowed_updates=ALLOWED_UPDATES,
            timeout=settings.poll_timeout_seconds,
            stored=receiving.inbox.wake,
        )
        with contextlib.suppress(Exception):
            # Polling and a webhook exclude each other; going back to polling drops the webhook.
            await application.bot.delete_webhook()
        stop_poller.clear()
        polling.append(asyncio.create_task(poller.run(stop_poller.is_set), name="poller"))

    async def stop_polling() -> None:
        # Cancelled mid-poll: what that poll fetched was not confirmed, so Telegram sends it again.
        stop_poller.set()
        while polling:
            task = polling.pop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def poller_ok() -> bool:
        return poller.alive and (not poller.held or bool(polling and not polling[-1].done()))

    webhook = settings.webhook_url
    receiver = (
        WebhookReceiver(svc.db, application.bot, settings.webhook_secret_value(), stored=receiving.inbox.wake)
        if webhook
        else None
    )
    routes = [web.post(urlsplit(webhook).path or "/", receiver.handle)] if webhook and receiver else []
    poller = Leadership(svc.db, "poller", on_gain=start_polling, on_lose=stop_polling)
    ticks_lock = Leadership(svc.db, "ticks")
    application.bot_data[ticks.TICKS_LOCK_KEY] = ticks_lock
    health = Health(settings.role)
    health.add("application", lambda: application.running)
    health.add("inbox", lambda: bool(receiving.tasks) and not receiving.tasks[0].done())
    if not webhook:
        health.add("poller", poller_ok)
    health.add("ticks", lambda: ticks_lock.alive)
    health.add("heartbeat", lambda: membership.alive)
    if settings.role == "all":
        health.add("delivery", lambda: ticks.delivery_loop_of(application).running)

    joining: asyncio.Task[bool] | None = None

    server: WebServer | None = None
    try:
        share()
        membership.on_beat.append(share)
        joining = asyncio.create_task(share.join(stop, budget.limits.global_window), name="join senders")
        if not webhook:
            poller.start()
        ticks_lock.start()
        server = await _serve_web(settings, svc, health, routes=routes)
        if receiver is not None and webhook:
            # Once the route is served: Telegram may post at once. Every replica may call it.
            await receiver.register(webhook, allowed_updates=ALLOWED_UPDATES)
        await stop.wait()
    finally:
        if joining is not None:
            joining.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await joining
        if server is not None:
            await server.stop()
        if not webhook:
            await poller.stop()
        await ticks_lock.stop()
        await receiving.stop()
        await membership.stop()
        await application.stop()
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


async def _run_worker(settings: Settings, stop: asyncio.Event, speedup: float) -> None:
    """``ingest`` and ``deliver``: no Application; a few asyncio loops around the shared services."""
    from bot import ticks

    async with services(settings, long_running=True) as svc:
        membership = Membership(svc.db, settings.role, every=HEARTBEAT_SECONDS, lease=LEASE_SECONDS)
        ticks_lock = Leadership(svc.db, "ticks")
        health = Health(settings.role)
        health.add("ticks", lambda: ticks_lock.alive)
        health.add("heartbeat", lambda: membership.alive)
        tasks: list[asyncio.Task[None]] = []
        server: WebServer | None = None
        await membership.start()
        ticks_lock.start()
        wake: Callable[[], None] = lambda: None  # noqa: E731 - replaced by the deliver role

        async def digest() -> None:
            if ticks_lock.held and await ticks.digest_pass(svc.db, settings):
                wake()

        try:
            if settings.role == "ingest":
                svc.ingestor.owner = membership.id
                work = _ingest_loop(svc, stop, settings.ingest_tick_seconds)
                tasks.append(asyncio.create_task(work, name="ingest"))
            else:
                deliver, wake = _deliver_loop(settings, svc, membership, stop, speedup)
                tasks.append(asyncio.create_task(deliver, name="deliver"))
            main = tasks[0]
            health.add(main.get_name(), lambda: not main.done())
            tasks.append(
                asyncio.create_task(_periodic(stop, ticks.DIGEST_INTERVAL / speedup, digest, "digest"))
            )
            server = await _serve_web(settings, svc, health)
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait([stopped, main], return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if main.done() and not stop.is_set():
                main.result()  # a loop that died (a fatal error): raise it, exit non-zero
        finally:
            stop.set()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(asyncio.shield(task), timeout=30)
            if server is not None:
                await server.stop()
            await ticks_lock.stop()
            await membership.stop()


async def _ingest_loop(svc: Services, stop: asyncio.Event, every: float) -> None:
    from bot.digest_cli import alert_rules
    from bot.ticks import log_ingest
    from jobs.alerts import run_alerts

    async def one_pass() -> None:
        summary = await svc.ingestor.run(datetime.now(UTC))
        if summary.new:  # stories that just broke: their alerts go into the outbox for the deliverers
            await run_alerts(svc.db, datetime.now(UTC), rules=alert_rules(svc.settings))
        log_ingest(summary)

    await _periodic(stop, every, one_pass, "ingest pass")


def _deliver_loop(
    settings: Settings, svc: Services, membership: Membership, stop: asyncio.Event, speedup: float
) -> tuple[Coroutine[object, object, None], Callable[[], None]]:
    """The outbox worker and its wake-up; the overall rate is split among the live sending processes."""
    from bot.digest_cli import build_deliverer
    from jobs.deliver import make_bot

    bot = make_bot(settings.require_token(), settings.bot_api_base_url)
    deliverer = build_deliverer(settings, svc.db, bot, speedup=speedup, owner=membership.id)
    share = RateShare(membership, deliverer.limits.per_second, deliverer.set_rate)

    async def run() -> None:
        # No page before every other sending process has counted this one: nobody waits for pages.
        share()
        membership.on_beat.append(share)
        try:
            if not await share.join(stop, deliverer.limits.global_window):
                return
            async with bot:
                # Pages queued by another process (the digest tick, /digest) wake nobody here: look
                # every second (one indexed query) rather than every ten.
                await deliverer.run(should_stop=stop.is_set, poll=1.0)
        finally:
            membership.on_beat.remove(share)

    return run(), deliverer.wake
