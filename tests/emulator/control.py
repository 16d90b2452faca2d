"""The HTTP control API, and clients for driving an emulator that runs in another process.

A demo or a crash test runs the bot and the emulator as separate processes, so the world must be
drivable over HTTP: ``POST /_control/<action>`` with a JSON object of keyword arguments calls the
emulator method of the same name (ids stand in for objects) and answers ``{"ok": true, "result": …}``
or ``{"ok": false, "description": …}``. ``RemoteEmulator`` / ``AsyncRemoteEmulator`` wrap that so a
remote emulator reads like a local one: ``remote.send_command(chat_id=..., user=..., command="start")``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import httpx

from tests.emulator.faults import RateLimits

if TYPE_CHECKING:
    from tests.emulator.emulator import BotAPIEmulator

# Emulator methods callable over HTTP as-is (arguments are JSON; chats and users by id).
SYNC_ACTIONS = frozenset(
    {
        "create_user", "create_users", "create_private_chat", "create_group", "create_supergroup",
        "create_channel", "set_member", "set_bot_member", "add_bot", "remove_bot", "block_bot",
        "unblock_bot", "deactivate_user", "send_text", "send_command", "send_commands", "press_button",
        "post_to_channel",
        "forward_channel_post", "migrate_to_supergroup", "inject_fault", "fail_with_retry_after",
        "fail_with_forbidden", "fail_with_migration", "fail_with_server_error", "drop_connection", "stall",
        "clear_faults", "disable_rate_limits", "sent", "last_sent", "message", "pending_updates",
        "commands", "command_scopes", "calls_to",
    }
)  # fmt: skip
# Waits run on the server's loop so they never block it; the remote client waits on the HTTP reply.
ASYNC_ACTIONS = {
    "wait_for_sent": "wait_for_sent_async",
    "wait_for_call": "wait_for_call_async",
    "wait_until_idle": "wait_until_idle_async",
    "wait_until_polling": "wait_until_polling_async",
}
EXTRA_ACTIONS = frozenset(
    {"state", "enable_rate_limits", "calls", "callback_answers", "chat_actions", "chat"}
)
ACTIONS = SYNC_ACTIONS | ASYNC_ACTIONS.keys() | EXTRA_ACTIONS


class EmulatorControlError(RuntimeError):
    """The remote emulator refused a control call (bad arguments, unknown chat, timeout...)."""


def to_json(value: Any) -> Any:
    """Models to plain JSON: anything with ``to_dict()``, other dataclasses, containers."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    return value


def _extra(emulator: BotAPIEmulator, action: str, kwargs: dict[str, Any]) -> Any:
    if action == "state":
        with emulator.lock:
            return {
                "url": emulator.url, "token": emulator.token, "bot": emulator.bot.to_dict(),
                "users": len(emulator.users), "chats": len(emulator.chats),
                "pending_updates": len(emulator.updates), "counters": dict(emulator.counters),
                "rate_limit_hits": emulator.rate_limit_hits,
                "faults": [fault.to_dict() for fault in emulator.faults.pending],
            }  # fmt: skip
    if action == "enable_rate_limits":
        emulator.enable_rate_limits(RateLimits.from_dict(kwargs))
        return True
    if action == "calls":
        since = int(kwargs.get("since", 0))
        with emulator.lock:
            return [c.to_dict() for c in emulator.calls[since:]]
    if action == "chat":
        chat = emulator.chat(kwargs["chat"])
        return {
            **chat.full_info(),
            "members": {str(k): dataclasses.asdict(m) for k, m in chat.members.items()},
        }
    with emulator.lock:
        return list(getattr(emulator, action))


async def dispatch(
    emulator: BotAPIEmulator, action: str, kwargs: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """Run one control action; returns HTTP status and body."""
    if action not in ACTIONS:
        return 404, {"ok": False, "description": f"unknown control action {action!r}"}
    try:
        if action in ASYNC_ACTIONS:
            result = await getattr(emulator, ASYNC_ACTIONS[action])(**kwargs)
        elif action in EXTRA_ACTIONS:
            result = _extra(emulator, action, kwargs)
        else:
            result = getattr(emulator, action)(**kwargs)
    except TimeoutError as exc:
        return 408, {"ok": False, "description": str(exc)}
    except (LookupError, ValueError, TypeError) as exc:
        return 400, {"ok": False, "description": f"{type(exc).__name__}: {exc}"}
    return 200, {"ok": True, "result": to_json(result)}


def _unwrap(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        raise EmulatorControlError(f"HTTP {response.status_code}: {response.text[:200]}") from None
    if not body.get("ok"):
        raise EmulatorControlError(body.get("description", f"HTTP {response.status_code}"))
    return body["result"]


def _timeout(kwargs: dict[str, Any]) -> float:
    return float(kwargs.get("timeout", 5.0)) + 10.0


class RemoteEmulator:
    """Synchronous client for an emulator in another process: ``remote.<action>(**kwargs)``.

    Do not use it from the event loop that runs an in-process bot while waiting (it blocks the loop);
    use :class:`AsyncRemoteEmulator` there.
    """

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(base_url=self.url)

    def call(self, action: str, **kwargs: Any) -> Any:
        response = self._client.post(f"/_control/{action}", json=kwargs, timeout=_timeout(kwargs))
        return _unwrap(response)

    def __getattr__(self, action: str) -> Callable[..., Any]:
        if action not in ACTIONS:
            raise AttributeError(action)
        return functools.partial(self.call, action)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RemoteEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncRemoteEmulator:
    """Async twin of :class:`RemoteEmulator`: ``await remote.<action>(**kwargs)``."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.AsyncClient(base_url=self.url)

    async def call(self, action: str, **kwargs: Any) -> Any:
        response = await self._client.post(f"/_control/{action}", json=kwargs, timeout=_timeout(kwargs))
        return _unwrap(response)

    def __getattr__(self, action: str) -> Callable[..., Coroutine[Any, Any, Any]]:
        if action not in ACTIONS:
            raise AttributeError(action)
        return functools.partial(self.call, action)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> AsyncRemoteEmulator:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
