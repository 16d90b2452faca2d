"""Typed access to Bot API parameters, whatever encoding they arrived in.

Telegram accepts the same method as a JSON body, a query string, form-urlencoded or multipart. In the
three non-JSON forms every value is a string and structured values (``reply_markup``, ``entities``,
``scope``...) are JSON-encoded strings, which is what python-telegram-bot sends. Methods ask for the type
they need and get Telegram's error text when a value does not fit.
"""

from __future__ import annotations

import json
from typing import Any

from tests.emulator.errors import ApiError, bad_request

_TRUE = frozenset({"true", "1", "yes", "on"})


class Params:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def has(self, name: str) -> bool:
        return self.raw.get(name) not in (None, "")

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, error: str, default: int | None = None) -> int | None:
        """An integer parameter; ``error`` is the Bad Request text when it is present but invalid."""
        value = self.raw.get(name)
        if value in (None, ""):
            return default
        if isinstance(value, bool):
            raise bad_request(error)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(error) from None

    def require_int(self, name: str, error: str) -> int:
        value = self.integer(name, error)
        if value is None:
            raise bad_request(error)
        return value

    def number(self, name: str, default: float) -> float:
        value = self.raw.get(name)
        if value in (None, ""):
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.raw.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in _TRUE

    def optional_bool(self, name: str) -> bool | None:
        return None if self.raw.get(name) is None else self.boolean(name)

    def json(self, name: str, error: str) -> Any:
        """A structured parameter: decoded from its JSON string unless it arrived decoded already."""
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(error) from None
        return value

    def chat_id(self) -> int | str:
        """``chat_id`` as an int, or an ``@username`` string; Telegram's errors when missing/invalid."""
        value = self.raw.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, bool):
            raise bad_request("chat not found")
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if text.startswith("@"):
            return text
        try:
            return int(text)
        except ValueError:
            raise bad_request("chat not found") from None


def require(condition: bool, error: ApiError) -> None:
    if not condition:
        raise error
