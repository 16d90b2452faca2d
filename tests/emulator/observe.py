"""Inspecting the world and waiting for it to change, from sync tests, async tests and threads.

Waits are re-checked on every change of the world (no polling, no blind sleeps): the sync variants sit on
the world's condition variable, the async ones on a future resolved from whichever thread changed it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

from tests.emulator.actions import ActingWorld
from tests.emulator.botapi import scope_key
from tests.emulator.models import CallRecord, SentMessage
from tests.emulator.world import ChatRef, ref_id

T = TypeVar("T")


class ObservedWorld(ActingWorld):
    """The acting world plus inspection helpers and ``wait_for`` in sync and async flavours."""

    def sent(self, chat: ChatRef, *, include_deleted: bool = False) -> list[SentMessage]:
        """Messages the bot sent to ``chat`` in order, as they are now (after edits)."""
        with self.lock:
            messages = self.chat(chat).sent.values()
            return [m for m in messages if include_deleted or not m.deleted]

    def last_sent(self, chat: ChatRef) -> SentMessage | None:
        messages = self.sent(chat)
        return messages[-1] if messages else None

    def message(self, chat: ChatRef, message_id: int) -> dict[str, Any] | None:
        """The current Message JSON of any message in the chat (None if unknown or deleted)."""
        with self.lock:
            return self.chat(chat).messages.get(message_id)

    def calls_to(self, method: str) -> list[CallRecord]:
        key = method.lower()
        with self.lock:
            return [c for c in self.calls if c.method.lower() == key]

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet confirmed by the bot (getUpdates with a higher offset)."""
        with self.lock:
            return list(self.updates)

    def commands(
        self, scope: dict[str, Any] | str | None = None, language_code: str = ""
    ) -> list[dict[str, str]]:
        """The command list the bot set for ``scope`` (a BotCommandScope dict or its type) and language."""
        if isinstance(scope, str):
            scope = {"type": scope}
        with self.lock:
            return list(self.commands_store.get((scope_key(self, scope), language_code), []))

    def command_scopes(self) -> list[tuple[str, str]]:
        with self.lock:
            return sorted(self.commands_store)

    # ------------------------------------------------------------------ waiting

    def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0, what: str = "condition") -> T:
        """Block until ``predicate()`` is truthy (re-checked on every change), return its value.

        For sync tests and threads. Never call it on the event loop that runs the bot: the bot could not
        make progress; use :meth:`wait_for_async` there.
        """
        deadline = time.monotonic() + timeout
        with self._changes:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"emulator: timed out after {timeout}s waiting for {what}")
                self._changes.wait(remaining)

    async def wait_for_async(
        self,
        predicate: Callable[[], T | None],
        timeout: float = 5.0,  # noqa: ASYNC109 - mirrors the sync API
        what: str = "condition",
    ) -> T:
        """Await until ``predicate()`` is truthy without blocking the caller's event loop."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            future: asyncio.Future[None] = loop.create_future()
            with self.lock:
                result = predicate()
                if result:
                    return result
                self._async_waiters.add((loop, future))
            try:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(f"emulator: timed out after {timeout}s waiting for {what}")
                await asyncio.wait_for(future, remaining)
            except TimeoutError:
                with self.lock:
                    result = predicate()
                if result:
                    return result
                raise TimeoutError(f"emulator: timed out after {timeout}s waiting for {what}") from None
            finally:
                with self.lock:
                    self._async_waiters.discard((loop, future))

    def _sent_matching(
        self, chat: ChatRef, count: int, contains: str | None, edited: bool
    ) -> Callable[[], SentMessage | None]:
        target = self.chat(chat)

        def check() -> SentMessage | None:
            matching = [
                m for m in target.sent.values()
                if not m.deleted and (contains is None or contains in m.text) and (not edited or m.edit_date)
            ]  # fmt: skip
            return matching[-1] if len(matching) >= count else None

        return check

    def wait_for_sent(
        self,
        chat: ChatRef,
        *,
        count: int = 1,
        contains: str | None = None,
        edited: bool = False,
        timeout: float = 5.0,
    ) -> SentMessage:
        """Wait until the bot has ``count`` live messages in ``chat`` (containing ``contains``, edited if
        ``edited``) and return the latest of them."""
        check = self._sent_matching(chat, count, contains, edited)
        return self.wait_for(check, timeout, f"{count} bot message(s) in chat {ref_id(chat)}")

    async def wait_for_sent_async(
        self,
        chat: ChatRef,
        *,
        count: int = 1,
        contains: str | None = None,
        edited: bool = False,
        timeout: float = 5.0,  # noqa: ASYNC109 - mirrors the sync API
    ) -> SentMessage:
        check = self._sent_matching(chat, count, contains, edited)
        return await self.wait_for_async(check, timeout, f"{count} bot message(s) in chat {ref_id(chat)}")

    def _call_matching(self, method: str, count: int) -> Callable[[], CallRecord | None]:
        key = method.lower()
        start = 0
        seen: list[CallRecord] = []

        def check() -> CallRecord | None:
            nonlocal start
            for call in self.calls[start:]:
                if call.method.lower() == key:
                    seen.append(call)
            start = len(self.calls)
            return seen[count - 1] if len(seen) >= count else None

        return check

    def wait_for_call(self, method: str, *, count: int = 1, timeout: float = 5.0) -> CallRecord:
        """Wait for the ``count``-th call of ``method`` (ever) and return it."""
        return self.wait_for(self._call_matching(method, count), timeout, f"call #{count} of {method}")

    async def wait_for_call_async(self, method: str, *, count: int = 1, timeout: float = 5.0) -> CallRecord:  # noqa: ASYNC109 - mirrors the sync API
        return await self.wait_for_async(
            self._call_matching(method, count), timeout, f"call #{count} of {method}"
        )

    def wait_until_idle(self, timeout: float = 5.0) -> None:
        """Wait until the bot has confirmed every queued update (fetched them and asked for more)."""
        self.wait_for(lambda: not self.updates, timeout, "the bot to confirm all updates")

    def wait_until_polling(self, timeout: float = 5.0) -> None:
        """Wait until the bot has a getUpdates long poll open (it is ready for the next update)."""
        self.wait_for(lambda: self.waiting_polls > 0, timeout, "the bot to long-poll getUpdates")

    async def wait_until_polling_async(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - mirrors the sync API
        await self.wait_for_async(lambda: self.waiting_polls > 0, timeout, "the bot to long-poll getUpdates")

    async def wait_until_idle_async(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - mirrors the sync API
        await self.wait_for_async(lambda: not self.updates, timeout, "the bot to confirm all updates")
