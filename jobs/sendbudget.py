"""One send budget per process: every message the bot sends, replies and digest pages alike, spends it.

Telegram counts what a bot sends, not why: a reply to ``/start`` and page 3 of a channel's digest draw on
the same ~30 messages a second, and a reply and a digest page to the same private chat on the same one
message a second. So there is one budget, and two ways into it:

* replies, edits and photos from handlers go through ``BudgetRateLimiter`` (``bot.app`` plugs it into
  python-telegram-bot as the Application's rate limiter), at ``INTERACTIVE`` priority;
* the outbox's ``Deliverer`` books digest pages at ``BULK`` priority.

The overall rate is a pacer that hands out slots, to the waiting ``INTERACTIVE`` caller first: at most
``per_second`` in any second (a little under Telegram's 30, as jitter between our clock and its own can
only bunch arrivals), and never two closer than half the even spacing, so a backlog leaves as a steady
stream, not a burst. A reader who pressed /start waits for at most the replies queued before
theirs; digest pages, which nobody is watching arrive, wait for a gap. Each chat also has a clock: when
its last messages were answered (one a second in a private chat, ``group_per_minute`` in a group or
channel, spaced by ``group_gap``) and any flood wait Telegram imposed on it. A chat has at most one send
in flight (``ChatClock.busy``), so a reply and a digest page to one reader never race each other.

Why not PTB's ``AIORateLimiter`` for replies: it has no per-private-chat limit, knows nothing of the
outbox's sends, and one chat's 429 stalls every request of the bot. Here a ``RetryAfter`` delays only its
chat, unless several chats are told to wait at once (Telegram's answer to a flood of the whole bot), and
then the pacer pauses too.

This module holds no I/O of its own; it is ``jobs`` because both the bot and the delivery worker use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any

log = logging.getLogger(__name__)

INTERACTIVE = 0
"""A person is waiting: replies to commands, button presses, the error apology."""
BULK = 1
"""Nobody watches it arrive: digest pages and alerts from the outbox."""


@dataclass(frozen=True, slots=True)
class SendLimits:
    """Telegram's flood limits as this budget keeps them; ``scaled`` shrinks the windows.

    ``per_second`` stays a little under Telegram's 30 so that jitter between our clock and its own cannot
    put 31 arrivals in one of its seconds. ``group_gap`` spaces messages to one group or channel so a
    multi-page digest does not arrive as a burst.
    """

    per_second: float = 25.0
    global_window: float = 1.0
    group_per_minute: int = 20
    group_window: float = 60.0
    group_gap: float = 1.0
    private_interval: float = 1.0

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.group_per_minute < 1:
            raise ValueError("send limits must allow sending")
        if min(self.global_window, self.group_window, self.private_interval) <= 0 or self.group_gap < 0:
            raise ValueError("send windows must be positive")

    def scaled(self, speedup: float) -> SendLimits:
        """The same limits on a clock running ``speedup`` times faster (emulator tests, benchmarks)."""
        return replace(
            self,
            per_second=self.per_second * speedup,
            global_window=self.global_window / speedup,
            group_window=self.group_window / speedup,
            group_gap=self.group_gap / speedup,
            private_interval=self.private_interval / speedup,
        )


@dataclass(slots=True)
class ChatClock:
    """When this chat's last messages were answered, any flood wait on it, and whether a send is out."""

    answered: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0
    busy: bool = False
    waiters: int = 0
    idle: asyncio.Event = field(default_factory=asyncio.Event)


def is_private(chat_id: int | str) -> bool:
    """Private chats have positive ids; groups and channels negative ones (or an ``@username``)."""
    return isinstance(chat_id, int) and chat_id > 0


class SendBudget:
    """The process's share of Telegram's limits: an overall pacer with priorities, and per-chat clocks.

    All methods run on one event loop; none is thread-safe, none needs a lock (no ``await`` between a
    check and the booking it guards).
    """

    def __init__(
        self,
        limits: SendLimits | None = None,
        *,
        flood_chats: int = 3,
        flood_window: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits or SendLimits()
        self.flood_chats = flood_chats
        self.flood_window = flood_window
        self._clock = clock
        # Telegram counts a bot's messages per second: at most ``capacity`` grants in any ``span``
        # seconds, and never two closer than ``min_gap`` (half the even spacing).
        self._span = self.limits.global_window
        self._capacity = max(1, int(self.limits.per_second * self._span + 1e-9))
        self._min_gap = 0.5 / self.limits.per_second
        self._grants: deque[float] = deque()
        self._last = -1e18
        self._paused_until = 0.0
        self._held = False
        self._queues: tuple[deque[asyncio.Future[None]], ...] = (deque(), deque())
        self._dispatcher: asyncio.Task[None] | None = None
        self._kick = asyncio.Event()
        self._chats: dict[int | str, ChatClock] = {}
        self._floods: deque[tuple[float, int | str]] = deque()
        self.granted = [0, 0]
        """Slots handed out per priority, for tests and figures."""

    # --- the overall pacer ---------------------------------------------------------------------------

    async def slot(self, priority: int = INTERACTIVE) -> None:
        """Wait for the next overall send slot; ``INTERACTIVE`` callers are served before ``BULK`` ones."""
        now = self._clock()
        if (
            now >= self._earliest()
            and not self._queues[INTERACTIVE]
            and (priority == INTERACTIVE or not self._queues[BULK])
        ):
            self._take(now, priority)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queues[priority].append(waiter)
        self._ensure_dispatcher()
        await waiter

    def waiting(self, priority: int | None = None) -> int:
        """How many callers wait for a slot (of one priority, or in all)."""
        queues = self._queues if priority is None else (self._queues[priority],)
        return sum(sum(1 for w in q if not w.done()) for q in queues)

    def set_rate(self, per_second: float) -> None:
        """Change the overall rate: this process's share when several processes send for one bot
        (``bot.roles`` divides ``SEND_RATE_PER_SECOND`` by the live sending processes)."""
        if per_second <= 0:
            raise ValueError("the send rate must be positive")
        # The processes' windows add up: each keeps at most its share in any ``span``, so together they
        # keep at most the whole rate (rounded down: never above it).
        self._capacity = max(1, int(per_second * self._span + 1e-9))
        self._min_gap = 0.5 / per_second

    def hold(self, held: bool) -> None:
        """Grant no slot while ``held``; callers queue meanwhile, replies first as always. A process that
        the others sharing the rate have not counted yet holds (``bot.roles.RateShare``)."""
        self._held = held
        self._kick.set()

    def pause_until(self, when: float) -> None:
        """Hold every send back until ``when`` (a flood wait on the whole bot)."""
        if when > self._paused_until:
            self._paused_until = when
            self._kick.set()

    def _earliest(self) -> float:
        """When the next slot may be granted.

        A sliding window, as Telegram counts, rather than a fixed grid: a slot granted late (the event
        loop woke late on a busy machine) does not push every later slot back, so a backlog goes out at
        the full ``per_second``, while no ``span`` ever holds more than ``capacity`` grants.
        """
        if self._held:
            return math.inf
        at = max(self._paused_until, self._last + self._min_gap)
        if len(self._grants) >= self._capacity:
            at = max(at, self._grants[-self._capacity] + self._span)
        return at

    def _take(self, now: float, priority: int) -> None:
        self._last = now
        self._grants.append(now)
        while len(self._grants) > self._capacity:
            self._grants.popleft()
        self.granted[priority] += 1

    def _ensure_dispatcher(self) -> None:
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch())
        self._kick.set()

    def _head(self) -> tuple[int, asyncio.Future[None]] | None:
        for priority, queue in enumerate(self._queues):
            while queue and queue[0].done():  # cancelled while waiting
                queue.popleft()
            if queue:
                return priority, queue[0]
        return None

    async def _dispatch(self) -> None:
        while (head := self._head()) is not None:
            delay = self._earliest() - self._clock()
            if delay > 0:
                # Sleep, but re-decide who goes next if a pause or a more urgent caller arrives.
                self._kick.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._kick.wait(), min(delay, 3600.0))  # held: until kicked
                continue
            priority, waiter = head
            self._queues[priority].popleft()
            self._take(self._clock(), priority)
            waiter.set_result(None)
        self._dispatcher = None

    # --- per chat ------------------------------------------------------------------------------------

    def chat(self, chat_id: int | str) -> ChatClock:
        clock = self._chats.get(chat_id)
        if clock is None:
            clock = self._chats[chat_id] = ChatClock()
            clock.idle.set()
            if len(self._chats) > 50_000:
                self._forget_idle()
        return clock

    def ready_at(self, chat_id: int | str) -> float:
        """The earliest time the next message to this chat may go (monotonic clock)."""
        clock = self._chats.get(chat_id)
        if clock is None:
            return 0.0
        limits = self.limits
        at = clock.blocked_until
        if not clock.answered:
            return at
        if is_private(chat_id):
            return max(at, clock.answered[-1] + limits.private_interval)
        at = max(at, clock.answered[-1] + limits.group_gap)
        if len(clock.answered) >= limits.group_per_minute:
            at = max(at, clock.answered[-limits.group_per_minute] + limits.group_window)
        return at

    def busy(self, chat_id: int | str) -> bool:
        """A send to this chat is out, or a caller queues for it (the outbox then lets it go first)."""
        clock = self._chats.get(chat_id)
        return clock is not None and (clock.busy or clock.waiters > 0)

    def claim(self, chat_id: int | str) -> bool:
        """Take the chat for one send now, if nobody has it and its clock allows; ``release`` after."""
        clock = self.chat(chat_id)
        if clock.busy or clock.waiters or self.ready_at(chat_id) > self._clock():
            return False
        clock.busy = True
        clock.idle.clear()
        return True

    def release(self, chat_id: int | str, *, answered: bool) -> None:
        """The send is over; ``answered``: Telegram accepted it, so it counts against the chat's limit."""
        clock = self.chat(chat_id)
        if answered:
            clock.answered.append(self._clock())
            keep = 1 if is_private(chat_id) else self.limits.group_per_minute
            while len(clock.answered) > keep:
                clock.answered.popleft()
        clock.busy = False
        clock.idle.set()

    def flood(self, chat_id: int | str, seconds: float) -> bool:
        """Telegram said wait ``seconds`` for this chat; True when it looks bot-wide (the pacer pauses)."""
        now = self._clock()
        until = now + seconds
        clock = self.chat(chat_id)
        clock.blocked_until = max(clock.blocked_until, until)
        self._floods.append((now, chat_id))
        while self._floods and self._floods[0][0] < now - self.flood_window:
            self._floods.popleft()
        if len({c for _, c in self._floods}) >= self.flood_chats:
            self.pause_until(until)
            return True
        return False

    @contextlib.asynccontextmanager
    async def turn(self, chat_id: int | str, priority: int = INTERACTIVE) -> AsyncIterator[ChatClock]:
        """Wait for this chat's turn and an overall slot, then hold the chat for one send.

        The caller sets nothing on success: leaving the block counts the message as answered, unless it
        raised, in which case it did not reach the chat (a 429 is recorded with ``flood`` before leaving).
        """
        clock = self.chat(chat_id)
        clock.waiters += 1
        try:
            while True:
                if clock.busy:
                    await clock.idle.wait()
                    continue
                delay = self.ready_at(chat_id) - self._clock()
                if delay > 0:
                    await asyncio.sleep(delay)
                    continue
                break
            clock.busy = True
            clock.idle.clear()
        finally:
            clock.waiters -= 1
        answered = False
        try:
            await self.slot(priority)
            # A flood wait may have arrived for this chat while queuing for the slot.
            if (delay := self.ready_at(chat_id) - self._clock()) > 0:
                await asyncio.sleep(delay)
            yield clock
            answered = True
        finally:
            self.release(chat_id, answered=answered)

    def _forget_idle(self) -> None:
        now = self._clock()
        horizon = max(self.limits.group_window, self.limits.private_interval)
        idle = [
            key
            for key, c in self._chats.items()
            if not c.busy
            and not c.waiters
            and c.blocked_until < now
            and (not c.answered or c.answered[-1] < now - horizon)
        ]
        for key in idle:
            del self._chats[key]


SEND_ENDPOINTS = frozenset(
    {
        "sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "sendAnimation", "sendVideo",
        "sendAudio", "sendVoice", "sendSticker", "sendPoll", "sendLocation", "sendContact", "sendDice",
        "copyMessage", "copyMessages", "forwardMessage", "forwardMessages", "editMessageText",
        "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup",
    }
)  # fmt: skip
"""Bot API methods that put something in a chat, so they count against Telegram's limits."""

_Callback = Callable[..., Coroutine[Any, Any, Any]]


async def send_within_budget(
    budget: SendBudget,
    callback: _Callback,
    args: Any,
    kwargs: dict[str, Any],
    *,
    chat_id: int | str,
    priority: int = INTERACTIVE,
    max_flood_waits: int = 5,
    retry_after: Callable[[BaseException], float | None],
) -> Any:
    """Call ``callback`` in ``chat_id``'s turn; a 429 is waited out and the call made again.

    ``retry_after`` says how long an exception asks to wait (``None``: it is not a flood wait). After
    ``max_flood_waits`` waits the last one is raised: a chat Telegram keeps refusing is not worth a
    handler hanging on for ever.
    """
    for attempt in range(max_flood_waits + 1):
        try:
            async with budget.turn(chat_id, priority):
                return await callback(*args, **kwargs)
        except Exception as exc:
            seconds = retry_after(exc)
            if seconds is None or attempt == max_flood_waits:
                raise
            budget.flood(chat_id, seconds)
            log.info("flood wait of %.1f s for chat %s: retrying", seconds, chat_id)
    raise AssertionError("unreachable")  # pragma: no cover
