"""The bot's own membership (my_chat_member updates) and group → supergroup migrations.

Added to a group or channel: the chat is registered but not subscribed, and a group gets a short
greeting telling an administrator to send /start; the bot never starts posting digests unasked.
Removed, kicked or blocked: the chat is deactivated with the reason, its settings kept, so /start (after
being added back) resumes it.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ChatMemberHandler, ContextTypes, MessageHandler, filters

from bot.handlers import common
from bot.texts import lang_of, t
from jobs import subscriptions as subs
from jobs.subscriptions import ChatRef

log = logging.getLogger(__name__)

_GONE: dict[str, str] = {ChatMemberStatus.LEFT: "left", ChatMemberStatus.BANNED: "kicked"}
_PRESENT: frozenset[str] = frozenset(
    {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.RESTRICTED}
)


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    change = update.my_chat_member
    if change is None:
        return
    chat = change.chat
    old, new = change.old_chat_member.status, change.new_chat_member.status
    db = common.services(context).db
    if new in _GONE:
        reason = "blocked by the user" if chat.type == ChatType.PRIVATE else f"bot {_GONE[new]} the chat"
        await subs.deactivate(db, chat.id, reason)
        log.info("chat %s (%s): %s", chat.id, chat.type, reason)
        return
    if chat.type == ChatType.PRIVATE or new not in _PRESENT or old in _PRESENT:
        return  # unblocked (the user sends /start), or a change of the bot's rights only
    language = lang_of(change.from_user.language_code if change.from_user else None)
    title = chat.title or chat.username or ""
    await subs.register_chat(
        db,
        ChatRef(chat.id, chat.type, title, chat.username, language),
        common.defaults(context),
        common.now(),
    )
    log.info("chat %s (%s): bot added, waiting for an admin's /start", chat.id, chat.type)
    if chat.type in common.GROUP_TYPES:
        try:
            await context.bot.send_message(chat.id, t(language, "group_added"), parse_mode="HTML")
        except TelegramError as exc:  # e.g. the group lets only admins post: the greeting is optional
            log.info("no greeting in chat %s: %s", chat.id, type(exc).__name__)


async def on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: its settings follow it to the new id.

    Telegram announces it twice, in the old group (``migrate_to_chat_id``) and in the new supergroup
    (``migrate_from_chat_id``); both move the settings (the second finds them moved). Updates are handled
    in order per chat, so acting on the new chat's own message puts the move before any command sent
    there afterwards.
    """
    message = update.effective_message
    if message is None:
        return
    db = common.services(context).db
    if message.migrate_to_chat_id is not None:
        await subs.migrate(db, message.chat.id, message.migrate_to_chat_id)
    elif message.migrate_from_chat_id is not None:
        await subs.migrate(db, message.migrate_from_chat_id, message.chat.id)


def handlers() -> list[ChatMemberHandler | MessageHandler]:  # type: ignore[type-arg]
    return [
        ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate),
    ]
