"""Telegram handlers, one module per command family; this module wires them up.

Handler groups: ``-1`` holds the reading cooldown gate (it may stop an update before anything else
sees it); ``0`` holds every command, button and membership handler, and the fallbacks last (in one group
the first matching handler wins, so they only see what nobody else took).

Commands react to new messages only (not edits: editing «/time 07:30» must not change settings again) and
answer ``/cmd`` and ``/cmd@ThisBot`` alike (PTB checks the addressee).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from bot.handlers import (
    alerts,
    channel,
    common,
    digest,
    fallback,
    membership,
    menu,
    operator,
    reading,
    schedule,
    subscription,
)
from bot.handlers import topics as topic_handlers
from bot.settings import Settings
from bot.texts import lang_of, t

log = logging.getLogger(__name__)

_COMMANDS: dict[str, Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]] = {
    # Readers (everyone, anywhere).
    "help": subscription.help_command,
    "settings": subscription.settings_command,
    "latest": reading.latest_command,
    "search": reading.search_command,
    # Settings (private chats; group administrators).
    "start": subscription.start_command,
    "stop": subscription.stop_command,
    "topics": topic_handlers.topics_command,
    "addtopic": topic_handlers.addtopic_command,
    "deltopic": topic_handlers.deltopic_command,
    "time": schedule.time_command,
    "timezone": schedule.timezone_command,
    "channel": channel.channel_command,
    "alerts": alerts.alerts_command,
    "quiet": alerts.quiet_command,
    "sources": alerts.sources_command,
    "length": alerts.length_command,
    # Operators.
    "addfeed": operator.addfeed_command,
    "delfeed": operator.delfeed_command,
    "feeds": operator.feeds_command,
    "stats": operator.stats_command,
}


def register(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """Add every handler to ``application``."""
    application.add_handler(reading.cooldown_handler(), group=-1)
    only_new = filters.UpdateType.MESSAGE
    for name, callback in _COMMANDS.items():
        application.add_handler(CommandHandler(name, callback, filters=only_new))
    digest.register(application, settings)
    application.add_handler(topic_handlers.button_handler())
    application.add_handler(schedule.button_handler())
    application.add_handler(channel.button_handler())
    application.add_handler(alerts.button_handler())
    application.add_handler(
        MessageHandler(only_new & filters.ChatType.PRIVATE & filters.FORWARDED, channel.forwarded_post)
    )
    for handler in membership.handlers():
        application.add_handler(handler)
    for handler in fallback.handlers():
        application.add_handler(handler)


async def on_startup(application: Application) -> None:  # type: ignore[type-arg]
    """Once connected: publish the command menus (Arabic and English, per audience)."""
    await menu.publish(application.bot, sorted(common.services_of_app(application).settings.operator_ids))


async def reply_internal_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the user something went wrong, without details; never raises."""
    if not isinstance(update, Update):
        return
    text = t(
        lang_of(update.effective_user.language_code if update.effective_user else None), "internal_error"
    )
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_chat is not None and update.effective_message is not None:
            await update.effective_chat.send_message(text)
    except TelegramError as exc:
        log.warning("could not apologize for an internal error: %s", type(exc).__name__)
