"""Bot API error replies, with Telegram's exact wording.

Every failure the emulator gives goes through :class:`ApiError` so that the HTTP layer can render the
one JSON shape Telegram uses (``ok``/``error_code``/``description``/``parameters``) and so that the
texts stay identical to the real server: python-telegram-bot maps them to exception classes by status
code and ``parameters``, and bot code often matches on the description ("message is not modified").
"""

from __future__ import annotations

from typing import Any

GROUP_ANONYMOUS_BOT_ID = 1087968824


class ApiError(Exception):
    """A Bot API failure: HTTP status, description and optional ``parameters``."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


def bad_request(text: str, parameters: dict[str, Any] | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {text}", parameters)


def forbidden(text: str) -> ApiError:
    return ApiError(403, f"Forbidden: {text}")


def too_many_requests(retry_after: float) -> ApiError:
    """A 429 as Telegram words it; ``retry_after`` is an int unless a test asked for fractions."""
    shown = int(retry_after) if float(retry_after).is_integer() else retry_after
    return ApiError(429, f"Too Many Requests: retry after {shown}", {"retry_after": shown})


def migrated(new_chat_id: int) -> ApiError:
    return bad_request("group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": new_chat_id})


NOT_FOUND = ApiError(404, "Not Found")
UNAUTHORIZED = ApiError(401, "Unauthorized")
