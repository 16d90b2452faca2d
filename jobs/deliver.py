"""Drain the outbox into Telegram within its flood limits; nothing dropped, nothing sent twice on purpose.

The limits are the process's one ``jobs.sendbudget.SendBudget``, shared with the handlers' replies: each
page takes a ``BULK`` slot, so a reader waiting for an answer goes before the next page. Each chat is a
*lane* holding the head of its queue, ready when the budget's clock for that chat says so:

* overall at most ``SendLimits.per_second`` (evenly spaced, so the count in any one second stays under
  Telegram's ~30 even with network jitter), with at most ``concurrency`` requests in flight;
* at most ``group_per_minute`` per group or channel and one per ``private_interval`` per private chat,
  measured from when Telegram *answered* the previous message (a reply counts as much as a page): the
  server received that one earlier, so its own window can only count fewer messages than ours;
* a ``RetryAfter`` delays only its lane; only when several chats are told to wait at once (Telegram's
  answer for a flood of the whole bot) does the budget pause every send.

Pages of one chat go out in page order because only the head of a chat's queue is ever claimed
(``storage.deliveries``). Each page is marked ``sent`` with Telegram's ``message_id`` in its own commit
as soon as Telegram accepts it; a crash can only repeat the pages that were in flight (at most one per
chat, at most ``concurrency`` in all): the Bot API has no idempotency key, and bots cannot read a chat's
history to find out whether the lost answer was a success.

The delivery uses its own ``telegram.Bot`` (``make_bot``), not the Application's: the broadcast gets a
connection pool sized for it, so a long fan-out never queues the bot's replies to users behind it in a
connection pool, and the same code runs in the separate
worker process (``nashra deliver``, ``bot.digest_cli``) where there is no Application. It uses
``telegram.Bot`` and ``telegram.error`` only, never ``telegram.ext``.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from jobs import metrics
from jobs.sendbudget import BULK, SendBudget, SendLimits
from storage import chats as chat_store
from storage import deliveries as outbox
from storage.db import Database
from storage.deliveries import OutboxRow

__all__ = ["Deliverer", "DeliveryStats", "RetryPolicy", "SendLimits", "make_bot"]

log = logging.getLogger(__name__)

PRIVATE = "private"
CHAT_BUSY_RECHECK = 0.05
"""Seconds before a lane whose chat is taken (a reply goes first) is looked at again."""
_CHAT_GONE = (
    "chat not found",
    "user is deactivated",
    "peer_id_invalid",
    "not enough rights to send",
    "have no rights to send",
    "chat_write_forbidden",
    "need administrator rights",
)
"""BadRequest texts that mean the chat, not the page, is the problem (Forbidden always is)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How network failures and flood waits are retried.

    A network error puts the page back in the database with ``not_before`` pushed out exponentially
    (``base * 2**(attempts-1)``, capped); after ``max_attempts`` it is marked failed. A flood wait longer
    than ``long_wait`` also goes back to the database instead of holding a lane in memory.
    """

    max_attempts: int = 10
    base: float = 2.0
    cap: float = 600.0
    long_wait: float = 60.0
    flood_chats: int = 3
    flood_window: float = 1.0

    def backoff(self, attempts: int) -> float:
        return float(min(self.cap, self.base * 2 ** min(max(attempts - 1, 0), 30)))


@dataclass(slots=True)
class DeliveryStats:
    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    retried: int = 0
    rate_limited: int = 0
    deactivated: int = 0
    migrated: int = 0
    requeued: int = 0

    def add(self, other: DeliveryStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class FatalDeliveryError(RuntimeError):
    """Telegram rejected the bot itself (bad token, wrong endpoint): retrying cannot help."""


def make_bot(token: str, base_url: str, *, concurrency: int = 16, timeout: float = 20.0) -> Bot:
    """A ``telegram.Bot`` for broadcasting: its own pool, sized for ``concurrency`` sends in flight."""
    request = HTTPXRequest(
        connection_pool_size=concurrency + 4,
        read_timeout=timeout,
        write_timeout=timeout,
        connect_timeout=min(timeout, 10.0),
        pool_timeout=timeout,
    )
    return Bot(token, base_url=base_url, request=request)


def retry_after_seconds(exc: RetryAfter) -> float:
    """``exc.retry_after`` in seconds, without PTB's int-versus-timedelta deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def chat_is_gone(exc: TelegramError) -> bool:
    """Whether Telegram refused the chat (not the page): blocked, kicked, deleted, not found."""
    if isinstance(exc, Forbidden):
        return True
    return isinstance(exc, BadRequest) and any(t in exc.message.lower() for t in _CHAT_GONE)


@dataclass(slots=True)
class _Lane:
    row: OutboxRow
    ready_at: float = 0.0
    released: bool = False


class Deliverer:
    """Sends claimed outbox rows; ``drain`` empties what is due, ``run`` keeps doing it until stopped.

    One instance per process. ``wake()`` may be called from anywhere in the same event loop (the digest
    tick, ``/digest``) to start a drain at once instead of at the next poll.
    """

    def __init__(
        self,
        db: Database,
        bot: Bot,
        *,
        limits: SendLimits | None = None,
        budget: SendBudget | None = None,
        retry: RetryPolicy | None = None,
        concurrency: int = 16,
        claim_batch: int = 500,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        owner: str | None = None,
        lease: timedelta | None = None,
        paid_broadcast: bool = False,
    ) -> None:
        if concurrency < 1 or claim_batch < 1:
            raise ValueError("concurrency and claim_batch must be positive")
        if lease is not None and lease <= timedelta(0):
            raise ValueError("lease must be positive")
        self.owner = owner
        """Written on claimed rows (``claimed_by``), so operators see who holds what."""
        self.lease = lease
        """With several delivery processes: how long a claim lasts unrenewed. Rows held in memory are
        renewed every third of it; rows of a dead worker go back to the queue once it lapses. ``None``
        (one worker): every row left ``sending`` at start-up is stuck and taken back at once."""
        self.paid_broadcast = paid_broadcast
        self.db = db
        self.bot = bot
        self.retry = retry or RetryPolicy()
        self.budget = budget or SendBudget(
            limits or SendLimits(),
            flood_chats=self.retry.flood_chats,
            flood_window=self.retry.flood_window,
            clock=clock,
        )
        self.limits = self.budget.limits
        self.concurrency = concurrency
        self.reclaim_every = 5.0
        """Seconds between looks for newly due pages while a drain is busy with other chats."""
        self.claim_batch = claim_batch
        self._clock = clock
        self._wall = wall
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._heap: list[tuple[float, int, _Lane]] = []
        self._seq = itertools.count()
        self._inflight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(concurrency)
        self._ledger = outbox.Ledger(db)
        self._db_gate = asyncio.Semaphore(1 if db.dialect == "sqlite" else 8)
        self._fatal: BaseException | None = None
        self._stats = DeliveryStats()
        self.total = DeliveryStats()
        self._flying: set[int] = set()
        self._renewed = clock()
        self._recovered = clock()

    # --- public --------------------------------------------------------------------------------------

    def set_rate(self, per_second: float) -> None:
        """This process's share of the overall rate (several sending processes split it between them)."""
        self.budget.set_rate(per_second)

    def wake(self) -> None:
        """Pages were queued: start draining now, or have a drain in progress look for them."""
        self._wake.set()
        self._changed.set()

    async def recover(self, *, stale_after: timedelta | None = None) -> int:
        """Re-queue rows a dead worker left in ``sending``; call once before the first drain.

        ``stale_after=None`` uses the worker's ``lease``: with several workers only claims that lapsed
        are taken back. Without a lease (one worker, SQLite) every such row is stuck and taken back;
        ``timedelta(0)`` forces that (an operator's ``nashra deliver --once`` after a crash).
        """
        if stale_after is None:
            stale_after = self.lease or timedelta(0)
        cutoff = self._wall() - stale_after
        async with self.db.session() as s, s.begin():
            n = await outbox.requeue_stuck(s, claimed_before=cutoff)
        self._recovered = self._clock()
        if n:
            log.warning("delivery: re-queued %d page(s) left in flight by a previous run", n)
            metrics.CLAIMS_RECOVERED.labels(kind="outbox").inc(n)
        self.total.requeued += n
        return n

    async def drain(self, *, should_stop: Callable[[], bool] = lambda: False) -> DeliveryStats:
        """Send everything claimable now, respecting the limits; return when nothing is due or stopping.

        Lanes still waiting when ``should_stop()`` turns true are handed back to the database unsent.
        """
        self._stats = DeliveryStats()
        exhausted = False
        claimed_at = self._clock()
        await self._ledger.open()
        try:
            while self._fatal is None:
                if should_stop():
                    break
                await self._keep_leases()
                if exhausted and (self._wake.is_set() or self._clock() - claimed_at > self.reclaim_every):
                    # New pages (a /digest during a long broadcast) or retries that fell due meanwhile.
                    self._wake.clear()
                    exhausted = False
                if not exhausted and len(self._heap) < self.claim_batch // 2:
                    exhausted = await self._claim_more()
                    claimed_at = self._clock()
                if not self._heap:
                    if not self._inflight:
                        if exhausted:
                            break
                        continue
                    await self._wait_changed(None)
                    continue
                ready_at = self._heap[0][0]
                delay = ready_at - self._clock()
                if delay > 0:
                    await self._wait_changed(min(delay, self.reclaim_every))
                    continue
                _, _, lane = heapq.heappop(self._heap)
                if not self.budget.claim(lane.row.telegram_id):
                    # A reply to this reader is out or waiting (it goes first), or one just went.
                    self._push(lane, not_before=self._clock() + CHAT_BUSY_RECHECK)
                    continue
                lane.released = False
                await self._slots.acquire()  # then the overall slot, so a granted slot is not spent waiting
                await self.budget.slot(BULK)
                task = asyncio.create_task(self._send(lane))
                self._inflight.add(task)
                task.add_done_callback(self._done)
        finally:
            if self._inflight:
                await asyncio.gather(*self._inflight, return_exceptions=True)
            await self._hand_back()
            await self._ledger.close()
        self.total.add(self._stats)
        if self._fatal is not None:
            fatal, self._fatal = self._fatal, None
            raise FatalDeliveryError(str(fatal)) from fatal
        return self._stats

    async def _keep_leases(self) -> None:
        """With a lease: renew the rows this worker holds, and take back those of dead workers."""
        if self.lease is None:
            return
        third = self.lease.total_seconds() / 3
        if self._clock() - self._renewed >= third:
            held = [lane.row.id for _, _, lane in self._heap] + list(self._flying)
            async with self._db_gate, self._ledger.transaction() as conn:
                await outbox.renew_claims(conn, held, now=self._wall(), owner=self.owner)
            self._renewed = self._clock()
        if self._clock() - self._recovered >= third:
            await self.recover()

    async def run(self, *, should_stop: Callable[[], bool], poll: float = 10.0) -> None:
        """Recover, then drain whenever woken, every ``poll`` seconds, or when a retry falls due.

        ``should_stop`` is checked at least every second while idle and between sends while draining;
        on stop, pages in flight finish and claimed-but-unsent pages go back to the queue.
        """
        await self.recover()
        while not should_stop():
            self._wake.clear()
            try:
                stats = await self.drain(should_stop=should_stop)
                if stats.sent or stats.failed or stats.retried:
                    log.info(
                        "delivery: %d sent, %d failed, %d to retry, %d flood waits",
                        stats.sent,
                        stats.failed,
                        stats.retried,
                        stats.rate_limited,
                    )
                wait = await self._until_next_due(poll)
            except FatalDeliveryError:
                raise
            except Exception:
                log.exception("delivery pass failed; retrying in %.0f s", poll)
                wait = poll
            if self.lease is not None:  # come back in time to take back a dead worker's claims
                wait = min(wait, self.lease.total_seconds() / 3)
                await self._keep_leases()
            deadline = self._clock() + wait
            while not should_stop() and not self._wake.is_set():
                left = deadline - self._clock()
                if left <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=min(left, 1.0))

    # --- dispatch ------------------------------------------------------------------------------------

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._changed.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery task crashed", exc_info=task.exception())

    async def _wait_changed(self, delay: float | None) -> None:
        """Sleep until a lane or a task changes, or ``delay`` seconds (``None``: no limit) pass."""
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), delay)

    def _push(self, lane: _Lane, *, not_before: float = 0.0) -> None:
        lane.ready_at = max(not_before, self.budget.ready_at(lane.row.telegram_id))
        heapq.heappush(self._heap, (lane.ready_at, next(self._seq), lane))
        self._changed.set()

    async def _claim_more(self) -> bool:
        """Claim heads of queues; True when the database had no more to give."""
        want = self.claim_batch - len(self._heap)
        async with self._db_gate, self._ledger.transaction() as conn:
            rows = await outbox.claim(conn, self._wall(), limit=want, owner=self.owner)
        for row in rows:
            self._push(_Lane(row))
        return len(rows) < want

    async def _hand_back(self) -> None:
        """Lanes claimed but not sent (stopping, or a fatal error): back to ``pending`` as they were."""
        if not self._heap:
            return
        lanes = [lane for _, _, lane in self._heap]
        self._heap.clear()
        now = self._wall()
        if self.lease is not None:
            # Another worker may take these at once, knowing nothing of when this one last sent to
            # their chats: hold them back one private-chat interval (also a group's gap) so it cannot
            # send a chat's next page sooner than this worker would have.
            now += timedelta(seconds=max(self.limits.private_interval, self.limits.group_gap))
        async with self._db_gate, self._ledger.transaction() as conn:
            for lane in lanes:
                await outbox.release(conn, lane.row.id, not_before=now, error=None)

    # --- one send ------------------------------------------------------------------------------------

    async def _send(self, lane: _Lane) -> None:
        """One page: the request, then its bookkeeping, holding one of the ``concurrency`` slots throughout.

        The slot is freed only once the outcome is committed, so the pages Telegram may have accepted
        without the database knowing (what a crash can repeat) never exceed ``concurrency``.
        """
        self._flying.add(lane.row.id)
        try:
            await self._attempt(lane)
        finally:
            self._flying.discard(lane.row.id)
            if not lane.released:
                self.budget.release(lane.row.telegram_id, answered=False)
            self._slots.release()

    async def _attempt(self, lane: _Lane) -> None:
        row = lane.row
        try:
            message = await self.bot.send_message(
                chat_id=row.telegram_id,
                text=row.text,
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=row.disable_preview),
                allow_paid_broadcast=True if self.paid_broadcast else None,
            )
        except RetryAfter as exc:
            await self._flood_wait(lane, retry_after_seconds(exc))
        except ChatMigrated as exc:
            await self._migrated(lane, int(exc.new_chat_id))
        except (InvalidToken, EndPointNotFound) as exc:
            self._fatal = exc
            self._push(lane)
        except TelegramError as exc:
            if chat_is_gone(exc):
                await self._chat_gone(row, exc.message)
            elif isinstance(exc, BadRequest):
                await self._rejected(row, exc.message)
            else:  # NetworkError, TimedOut, 5xx, unparsable answers: may succeed later
                await self._retry_later(row, exc)
        except Exception as exc:  # a bug must not lose the page: keep it for a later pass
            log.exception("delivery: unexpected error sending row %d", row.id)
            await self._retry_later(row, exc)
        else:
            self.budget.release(row.telegram_id, answered=True)
            lane.released = True
            await self._sent(row, message.message_id)

    async def _sent(self, row: OutboxRow, message_id: int) -> None:
        following: list[OutboxRow] = []
        async with self._db_gate, self._ledger.transaction() as conn:
            due = await outbox.mark_sent(conn, row.id, message_id, now=self._wall())
            if row.more:
                following = await outbox.claim_next(conn, row, self._wall(), owner=self.owner)
        self._stats.sent += 1
        metrics.MESSAGES_SENT.inc()
        if due is not None and row.page == 0:
            metrics.DIGEST_LAG.observe(max(0.0, (self._wall() - due).total_seconds()))
        if following:
            self._push(_Lane(following[0]))

    async def _flood_wait(self, lane: _Lane, seconds: float) -> None:
        row = lane.row
        self._stats.rate_limited += 1
        metrics.MESSAGES_RATE_LIMITED.inc()
        self.budget.release(row.telegram_id, answered=False)
        lane.released = True
        if self.budget.flood(row.telegram_id, seconds):
            log.warning(
                "delivery: flood wait on %d chats at once; pausing all sends %.1f s",
                self.retry.flood_chats,
                seconds,
            )
        if seconds > self.retry.long_wait:
            async with self._db_gate, self._ledger.transaction() as conn:
                await outbox.release(
                    conn,
                    row.id,
                    not_before=self._wall() + timedelta(seconds=seconds),
                    error=f"retry after {seconds:g}s",
                )
            return
        self._push(lane)

    async def _migrated(self, lane: _Lane, new_id: int) -> None:
        row = lane.row
        async with self._db_gate, self.db.session() as s, s.begin():
            moved = await chat_store.migrate_chat(s, row.telegram_id, new_id)
        self._stats.migrated += 1
        log.info("delivery: chat %d became supergroup %d", row.telegram_id, new_id)
        if moved:
            self._push(_Lane(replace(row, telegram_id=new_id, chat_type="supergroup")))
        # Otherwise the new id already had its own row; the stale one and its pages are gone with it.

    async def _chat_gone(self, row: OutboxRow, reason: str) -> None:
        async with self._db_gate, self.db.session() as s, s.begin():
            await chat_store.deactivate_chat(s, row.telegram_id, reason)
            await outbox.mark_failed(s, row.id, reason)
            cancelled = await outbox.cancel_open(s, row.chat_pk, f"chat deactivated: {reason}")
        self._stats.deactivated += 1
        self._stats.failed += 1
        metrics.MESSAGES_FAILED.inc()
        self._stats.cancelled += cancelled
        log.info("delivery: chat %d deactivated (%s)", row.telegram_id, reason)

    async def _rejected(self, row: OutboxRow, reason: str) -> None:
        following: list[OutboxRow] = []
        async with self._db_gate, self._ledger.transaction() as conn:
            await outbox.mark_failed(conn, row.id, reason)
            if row.more:
                following = await outbox.claim_next(conn, row, self._wall(), owner=self.owner)
        self._stats.failed += 1
        metrics.MESSAGES_FAILED.inc()
        log.warning(
            "delivery: Telegram rejected page %d of %r for chat %d: %s",
            row.page,
            row.digest_key,
            row.telegram_id,
            reason,
        )
        if following:
            self._push(_Lane(following[0]))

    async def _retry_later(self, row: OutboxRow, exc: BaseException) -> None:
        error = f"{type(exc).__name__}: {exc}"
        give_up = row.attempts >= self.retry.max_attempts
        following: list[OutboxRow] = []
        async with self._db_gate, self._ledger.transaction() as conn:
            if give_up:
                await outbox.mark_failed(conn, row.id, f"gave up after {row.attempts} attempts; {error}")
                if row.more:
                    following = await outbox.claim_next(conn, row, self._wall(), owner=self.owner)
            else:
                delay = timedelta(seconds=self.retry.backoff(row.attempts))
                await outbox.release(conn, row.id, not_before=self._wall() + delay, error=error)
        if give_up:
            self._stats.failed += 1
            metrics.MESSAGES_FAILED.inc()
        else:
            self._stats.retried += 1
        if following:
            self._push(_Lane(following[0]))

    async def _until_next_due(self, poll: float) -> float:
        async with self.db.session() as s:
            due = await outbox.next_due(s)
        if due is None:
            return poll
        return min(poll, max(0.0, (due - self._wall()).total_seconds()))
