"""The Application's rate limiter: every reply, edit and photo a handler sends spends the shared budget.

python-telegram-bot passes each Bot API request of the Application's bot through its rate limiter, so
this is the one place where handlers' messages meet Telegram's limits, without any handler knowing. Only
requests that put something in a chat are paced (``SEND_ENDPOINTS``); ``getChatMember``,
``answerCallbackQuery`` and the like go straight through. A ``RetryAfter`` is waited out and the request
made again: a reader gets the answer late, never an "error occurred" instead.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from jobs.deliver import retry_after_seconds
from jobs.sendbudget import INTERACTIVE, SEND_ENDPOINTS, SendBudget, send_within_budget


def _flood_wait(exc: BaseException) -> float | None:
    return retry_after_seconds(exc) if isinstance(exc, RetryAfter) else None


class BudgetRateLimiter(BaseRateLimiter[int]):
    """Paces the Application's sends through ``budget`` at ``INTERACTIVE`` priority.

    ``rate_limit_args`` may name another priority (``jobs.sendbudget.BULK``) for a send nobody waits for.
    """

    def __init__(self, budget: SendBudget, *, max_flood_waits: int = 5) -> None:
        self.budget = budget
        self.max_flood_waits = max_flood_waits

    async def initialize(self) -> None:
        """Nothing to open: the budget lives as long as the process."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        if endpoint not in SEND_ENDPOINTS or chat_id is None:
            # Not a message in a chat (or an inline message's edit, which names no chat): not counted.
            return await callback(*args, **kwargs)
        result: bool | dict[str, Any] | list[dict[str, Any]] = await send_within_budget(
            self.budget,
            callback,
            args,
            kwargs,
            chat_id=chat_id if isinstance(chat_id, int) else str(chat_id),
            priority=INTERACTIVE if rate_limit_args is None else rate_limit_args,
            max_flood_waits=self.max_flood_waits,
            retry_after=_flood_wait,
        )
        return result
