"""Command menus (setMyCommands), in Arabic for ``language_code="ar"`` and English by default.

Scopes show each audience only what it can use: private chats get every reader and settings command,
group members the reading commands, group administrators the settings commands too, and each operator
(in their private chat with the bot) the operator commands as well.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from telegram.error import TelegramError

from bot.texts import COMMANDS_AR, COMMANDS_EN

log = logging.getLogger(__name__)

PRIVATE = (
    "start", "topics", "time", "timezone", "digest", "latest", "search", "settings",
    "alerts", "quiet", "sources", "length", "addtopic", "deltopic", "channel", "stop", "help",
)  # fmt: skip
GROUP_MEMBERS = ("digest", "latest", "search", "settings", "help")
GROUP_ADMINS = (
    "start", "topics", "time", "timezone", "digest", "latest", "search", "settings",
    "alerts", "quiet", "sources", "length", "addtopic", "deltopic", "stop", "help",
)  # fmt: skip
OPERATOR = (*PRIVATE, "addfeed", "delfeed", "feeds", "stats")


def commands(names: Sequence[str], language: str) -> list[BotCommand]:
    table = COMMANDS_AR if language == "ar" else COMMANDS_EN
    return [BotCommand(name, table[name]) for name in names]


async def publish(bot: Bot, operator_ids: Sequence[int]) -> None:
    """Register every menu; one refused scope (an operator who never opened the bot) skips only itself."""
    scopes: list[tuple[BotCommandScope, Sequence[str]]] = [
        (BotCommandScopeAllPrivateChats(), PRIVATE),
        (BotCommandScopeAllGroupChats(), GROUP_MEMBERS),
        (BotCommandScopeAllChatAdministrators(), GROUP_ADMINS),
        *((BotCommandScopeChat(op), OPERATOR) for op in sorted(operator_ids)),
    ]
    for scope, names in scopes:
        for language in ("ar", None):
            try:
                await bot.set_my_commands(
                    commands(names, language or "en"), scope=scope, language_code=language
                )
            except TelegramError as exc:
                log.warning("command menu for %s not set: %s", scope.type, type(exc).__name__)
