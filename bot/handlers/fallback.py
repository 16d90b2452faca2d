"""Anything no other handler took: unknown commands and plain text.

In groups the bot stays quiet unless a command is addressed to it by name (``/foo@ThisBot``): other
bots in the group own their own commands, and members talk to each other.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.handlers import common
from bot.texts import COMMANDS_EN, t


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or not message.text:
        return
    word = message.text.split(maxsplit=1)[0]
    name, _, addressee = word[1:].partition("@")
    if name.lower() in COMMANDS_EN:  # a known command another handler group answers (e.g. /digest)
        return
    if addressee and addressee.lower() != context.bot.username.lower():
        return
    if chat.type != ChatType.PRIVATE and not addressee:
        return
    await common.reply(update, t(common.lang(update), "unknown_command"))


async def plain_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await common.reply(update, t(common.lang(update), "not_a_command"))


def handlers() -> list[MessageHandler]:  # type: ignore[type-arg]
    only_new = filters.UpdateType.MESSAGE
    return [
        MessageHandler(only_new & filters.COMMAND, unknown_command),
        MessageHandler(only_new & filters.ChatType.PRIVATE & filters.TEXT, plain_text),
    ]
