"""``BotAPIEmulator``: the world plus the Bot API, faults, flood limits and a loopback HTTP server.

This is the object tests hold. It processes one Bot API call at a time under the world lock (faults
first, then flood limits, then the method), logs every call, and owns the background server thread so
that sync tests, async tests and a ``python -m tests.emulator`` subprocess all use it the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from tests.emulator.botapi import METHODS, BotApi
from tests.emulator.errors import ApiError, too_many_requests
from tests.emulator.faults import Fault, FaultInjector, RateLimiter, RateLimits
from tests.emulator.models import CallRecord
from tests.emulator.observe import ObservedWorld
from tests.emulator.params import Params
from tests.emulator.server import EmulatorServer

DEFAULT_TOKEN = "123456789:EMULATOR-test-token-AAAAAAAAAAAAAAAA"


class BotAPIEmulator(ObservedWorld):
    """A Telegram Bot API emulator on ``127.0.0.1``; see the package README for a tour."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "NashraTestBot",
        bot_first_name: str = "Nashra",
        privacy_mode: bool = True,
        rate_limits: RateLimits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            token, bot_username=bot_username, bot_first_name=bot_first_name, privacy_mode=privacy_mode,
            clock=clock,
        )  # fmt: skip
        self.api = BotApi(self)
        self.faults = FaultInjector()
        self.rate_limiter: RateLimiter | None = RateLimiter(rate_limits) if rate_limits else None
        self.server = EmulatorServer(self, host, port)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> BotAPIEmulator:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> BotAPIEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> BotAPIEmulator:
        return self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:41234``."""
        return self.server.url

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: PTB appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # ------------------------------------------------------------------ faults and limits

    def inject_fault(
        self,
        method: str,
        *,
        times: int = 1,
        chat_id: int | str | None = None,
        error_code: int = 500,
        description: str | None = None,
        parameters: dict[str, Any] | None = None,
        action: str = "error",
        delay: float = 30.0,
        apply: bool = False,
    ) -> Fault:
        """The next ``times`` calls of ``method`` (``"*"`` for any), optionally only for ``chat_id``,
        fail as described; see :class:`~tests.emulator.faults.Fault`."""
        default = {429: "Too Many Requests", 403: "Forbidden", 400: "Bad Request", 502: "Bad Gateway"}
        text = description or default.get(error_code, "Internal Server Error")
        fault = Fault(method, times, chat_id, error_code, text, parameters, action, delay, apply)
        return self.faults.add(fault)

    def fail_with_retry_after(
        self, method: str, seconds: float, *, times: int = 1, chat_id: int | str | None = None
    ) -> Fault:
        error = too_many_requests(seconds)
        return self.inject_fault(
            method, times=times, chat_id=chat_id, error_code=429, description=error.description,
            parameters=error.parameters,
        )  # fmt: skip

    def fail_with_forbidden(
        self,
        method: str,
        description: str = "Forbidden: bot was blocked by the user",
        *,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> Fault:
        return self.inject_fault(
            method, times=times, chat_id=chat_id, error_code=403, description=description
        )

    def fail_with_migration(
        self, method: str, migrate_to_chat_id: int, *, times: int = 1, chat_id: int | str | None = None
    ) -> Fault:
        return self.inject_fault(
            method, times=times, chat_id=chat_id, error_code=400,
            description="Bad Request: group chat was upgraded to a supergroup chat",
            parameters={"migrate_to_chat_id": migrate_to_chat_id},
        )  # fmt: skip

    def fail_with_server_error(
        self, method: str, *, times: int = 1, chat_id: int | str | None = None, error_code: int = 500
    ) -> Fault:
        return self.inject_fault(method, times=times, chat_id=chat_id, error_code=error_code)

    def drop_connection(
        self, method: str, *, times: int = 1, chat_id: int | str | None = None, apply: bool = False
    ) -> Fault:
        """Close the connection without answering; with ``apply`` the call takes effect first."""
        return self.inject_fault(method, times=times, chat_id=chat_id, action="drop", apply=apply)

    def stall(
        self,
        method: str,
        seconds: float,
        *,
        times: int = 1,
        chat_id: int | str | None = None,
        apply: bool = False,
    ) -> Fault:
        """Answer nothing for ``seconds`` (longer than the client's read timeout), then drop."""
        return self.inject_fault(
            method, times=times, chat_id=chat_id, action="timeout", delay=seconds, apply=apply
        )

    def clear_faults(self) -> None:
        self.faults.clear()

    def enable_rate_limits(
        self, limits: RateLimits | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> RateLimiter:
        """Answer 429 when the bot exceeds Telegram's flood limits (counted in ``rate_limit_hits``).

        ``clock`` (monotonic seconds) lets a test move time instead of sleeping.
        """
        with self.lock:
            self.rate_limiter = RateLimiter(limits or RateLimits(), clock)
            return self.rate_limiter

    def disable_rate_limits(self) -> None:
        with self.lock:
            self.rate_limiter = None

    @property
    def rate_limit_hits(self) -> int:
        """How many 429s the flood-limit enforcer answered (scripted faults are not counted)."""
        return self.rate_limiter.hits if self.rate_limiter else 0

    # ------------------------------------------------------------------ processing calls

    def process(self, method: str, raw: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Run one Bot API call (not getUpdates): returns HTTP status and JSON body; logs the call."""
        params = Params(raw)
        with self.lock:
            try:
                result = self._run(method, params)
            except ApiError as error:
                self.record(method, raw, error=error)
                return error.code, error.payload()
            self.record(method, raw, result=result)
            return 200, {"ok": True, "result": result}

    def _run(self, method: str, params: Params) -> Any:
        limiter = self.rate_limiter
        if limiter is not None:
            key = self._chat_key(params.raw.get("chat_id"))
            chat = self.chats.get(key) if key is not None else None
            if chat is not None:
                retry_after = limiter.check(method.lower(), chat.id, chat.type)
                if retry_after is not None:
                    self.counters["rate_limited"] += 1
                    raise too_many_requests(retry_after)
        return self.api.call(method, params)

    def _chat_key(self, value: Any) -> int | None:
        """The numeric id behind a raw ``chat_id`` (int, numeric string or ``@username``)."""
        if isinstance(value, int) or value is None:
            return value
        text = str(value)
        if text.startswith("@"):
            return self.usernames.get(text[1:].lower())
        try:
            return int(text)
        except ValueError:
            return None

    def record(
        self, method: str, raw: dict[str, Any], *, result: Any = None, error: ApiError | None = None
    ) -> CallRecord:
        """Append to the call log and counters, and wake waiters."""
        with self.lock:
            name = METHODS.get(method.lower(), (method, None))[0]
            call = CallRecord(
                seq=len(self.calls) + 1, at=time.time(), method=name, params=raw, chat_id=raw.get("chat_id"),
                ok=error is None, error_code=error.code if error else None,
                description=error.description if error else None, result=result,
            )  # fmt: skip
            self.calls.append(call)
            self.counters[f"calls.{name}"] += 1
            self.counters["calls"] += 1
            if error is not None and error.code == 0:
                self.counters["connections_dropped"] += 1
            elif error is not None:
                self.counters[f"errors.{error.code}"] += 1
            self.changed()
            return call
