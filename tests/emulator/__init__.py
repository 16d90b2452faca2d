"""A Telegram Bot API emulator for Nashra's end-to-end tests and offline demo.

python-telegram-bot talks to it unmodified over HTTP; tests drive the world (users, chats, commands,
button presses, channel posts, migrations), inject faults and flood limits, and inspect what the bot
sent. See README.md in this directory.
"""

from tests.emulator.control import AsyncRemoteEmulator, EmulatorControlError, RemoteEmulator
from tests.emulator.emulator import DEFAULT_TOKEN, BotAPIEmulator
from tests.emulator.errors import GROUP_ANONYMOUS_BOT_ID, ApiError
from tests.emulator.faults import Fault, RateLimits
from tests.emulator.html import parse_html, utf16_len
from tests.emulator.models import CallRecord, Chat, Member, SentMessage, User

__all__ = [
    "DEFAULT_TOKEN",
    "GROUP_ANONYMOUS_BOT_ID",
    "ApiError",
    "AsyncRemoteEmulator",
    "BotAPIEmulator",
    "CallRecord",
    "Chat",
    "EmulatorControlError",
    "Fault",
    "Member",
    "RateLimits",
    "RemoteEmulator",
    "SentMessage",
    "User",
    "parse_html",
    "utf16_len",
]
