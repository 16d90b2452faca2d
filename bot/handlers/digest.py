"""``/digest``: the chat's digest now, with what it has not received yet.

Any member may ask in a group. The per-chat cooldown is the reading-command gate of
``bot.handlers.reading`` (it runs before every handler and covers /digest, /latest and /search alike), so
it is not repeated here; and a repeated /digest can only ever carry stories the chat has not received.
The pages go through the outbox like scheduled digests, so they keep Telegram's limits and page order;
a private chat with nothing new gets the one-line «لا جديد» reply, groups and channels get nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from telegram import Update
from telegram.constants import ChatType, ParseMode
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.handlers import common
from bot.settings import Settings
from bot.texts import t
from jobs.digest import DigestPolicy, NotSubscribed, nothing_new, queue_digest_now


def register(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """Add the ``/digest`` command."""
    policy = DigestPolicy(catch_up=timedelta(hours=settings.digest_catch_up_hours))

    async def on_digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await digest_command(update, context, policy)

    application.add_handler(CommandHandler("digest", on_digest, filters=filters.UpdateType.MESSAGE))


async def digest_command(update: Update, context: ContextTypes.DEFAULT_TYPE, policy: DigestPolicy) -> None:
    from bot.app import services_of
    from bot.ticks import wake_delivery

    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None:
        return
    now = datetime.now(UTC)
    private = chat.type == ChatType.PRIVATE

    db = services_of(context.application).db
    try:
        queued = await queue_digest_now(db, chat.id, now, policy=policy)
    except NotSubscribed:
        if chat.type != ChatType.CHANNEL:
            await message.reply_text(t(common.lang(update), "not_subscribed"))
        return
    if queued:
        wake_delivery(context.application)
    elif private:
        page = await nothing_new(db, chat.id, now)
        await message.reply_text(page.html, parse_mode=ParseMode.HTML)
