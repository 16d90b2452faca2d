"""Fault injection and Telegram's flood limits, so delivery code meets the failures it must survive.

Faults are scripted ("the next 2 sendMessage calls to chat X answer 429 retry_after=3"); the rate
limiter is emergent (sending faster than Telegram allows gets 429s, counted so a test can assert that a
well-behaved sender got none). Both are O(1) per call when idle so benchmarks stay fast.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FAULT_ACTIONS = frozenset({"error", "drop", "timeout"})
SEND_METHODS = frozenset(
    {
        "sendmessage", "forwardmessage", "forwardmessages", "copymessage", "copymessages", "sendphoto",
        "senddocument", "sendaudio", "sendvideo", "sendanimation", "sendvoice", "sendvideonote",
        "sendmediagroup", "sendlocation", "sendvenue", "sendcontact", "sendpoll", "senddice", "sendsticker",
    }
)  # fmt: skip


@dataclass
class Fault:
    """The next ``times`` calls of ``method`` (``"*"``: any; optionally only for ``chat_id``) fail.

    ``action``: ``"error"`` answers ``error_code``/``description``/``parameters``; ``"drop"`` closes the
    connection without an answer; ``"timeout"`` stalls ``delay`` seconds, then drops. With ``apply`` a
    dropped call is processed first: Telegram did the work but the reply was lost (the case that makes
    a naive retry send twice).
    """

    method: str
    times: int = 1
    chat_id: int | str | None = None
    error_code: int = 500
    description: str = "Internal Server Error"
    parameters: dict[str, Any] | None = None
    action: str = "error"
    delay: float = 30.0
    apply: bool = False
    fired: int = 0

    def __post_init__(self) -> None:
        self.method = self.method.lower()
        if self.action not in FAULT_ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}; use one of {sorted(FAULT_ACTIONS)}")
        if self.times < 1:
            raise ValueError("a fault must fire at least once")

    def matches(self, method: str, chat_id: int | str | None) -> bool:
        if self.method not in ("*", method):
            return False
        return self.chat_id is None or str(self.chat_id) == str(chat_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method, "times": self.times, "chat_id": self.chat_id,
            "error_code": self.error_code, "description": self.description, "parameters": self.parameters,
            "action": self.action, "delay": self.delay, "apply": self.apply, "fired": self.fired,
        }  # fmt: skip


class FaultInjector:
    """Pending faults in the order they were added; the first match fires and uses one of its turns."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.fired = 0

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, chat_id: int | str | None) -> Fault | None:
        if not self._faults:
            return None
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, chat_id):
                    fault.fired += 1
                    self.fired += 1
                    if fault.fired >= fault.times:
                        self._faults.remove(fault)
                    return fault
        return None

    @property
    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


@dataclass(frozen=True)
class RateLimits:
    """Telegram's documented flood limits; ``speedup`` shrinks every window (10 → 10× faster tests).

    With ``speedup=10`` the group limit is 20 messages per 6 s, the global one 30 per 0.1 s.
    ``integer_retry_after`` keeps ``retry_after`` an int as Telegram sends it (at least 1); turn it off
    to get fractional seconds matching the shrunken windows.
    """

    global_per_second: int = 30
    group_per_minute: int = 20
    private_per_second: int = 1
    speedup: float = 1.0
    integer_retry_after: bool = True
    methods: frozenset[str] = field(default=SEND_METHODS)

    def __post_init__(self) -> None:
        if min(self.global_per_second, self.group_per_minute, self.private_per_second) < 1:
            raise ValueError("rate limits must allow at least one message per window")
        if self.speedup <= 0:
            raise ValueError("speedup must be positive")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RateLimits:
        data = dict(data)
        if "methods" in data:
            data["methods"] = frozenset(m.lower() for m in data["methods"])
        return cls(**data)


class _Window:
    __slots__ = ("limit", "seconds", "stamps")

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.stamps: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more message fits (0 when it fits now)."""
        stamps = self.stamps
        while stamps and stamps[0] <= now - self.seconds:
            stamps.popleft()
        if len(stamps) < self.limit:
            return 0.0
        return stamps[0] + self.seconds - now


class RateLimiter:
    """Sliding windows: global, per group/channel (per minute), per private chat (per second)."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self.hits = 0
        self.passed = 0
        scale = 1.0 / limits.speedup
        self._global = _Window(limits.global_per_second, scale)
        self._chats: dict[int | str, _Window] = {}
        self._lock = threading.Lock()

    def _chat_window(self, chat_id: int | str, chat_type: str) -> _Window:
        window = self._chats.get(chat_id)
        if window is None:
            scale = 1.0 / self.limits.speedup
            if chat_type == "private":
                window = _Window(self.limits.private_per_second, scale)
            else:
                window = _Window(self.limits.group_per_minute, 60 * scale)
            self._chats[chat_id] = window
        return window

    def check(self, method: str, chat_id: int | str, chat_type: str) -> float | None:
        """Record a send, or return the ``retry_after`` to answer when it would exceed a limit."""
        if method not in self.limits.methods:
            return None
        with self._lock:
            now = self.clock()
            chat_window = self._chat_window(chat_id, chat_type)
            wait = max(self._global.wait(now), chat_window.wait(now))
            if wait > 0:
                self.hits += 1
                if self.limits.integer_retry_after:
                    return float(max(1, math.ceil(wait)))
                return max(0.001, math.ceil(wait * 1000) / 1000)
            self._global.stamps.append(now)
            chat_window.stamps.append(now)
            self.passed += 1
            return None
