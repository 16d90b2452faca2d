"""Channels are configured from a private chat: /channel @name (or a forwarded post) links one, and
/channel alone offers buttons to choose which chat the settings commands apply to.

Linking checks with getChatMember that the user administers the channel and that the bot is an
administrator there allowed to post; every later change re-checks both (see ``common.may_change``).
The choice of chat is kept per user in the database (``user_targets``), so it outlives a restart.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, MessageOriginChannel, Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, ContextTypes

from bot.handlers import common
from bot.handlers.topics import send_picker
from bot.texts import t
from jobs import subscriptions as subs
from jobs.subscriptions import SubscriptionError

CHOOSE = "cfg"


async def _link(update: Update, context: ContextTypes.DEFAULT_TYPE, ref: int | str, name: str = "") -> None:
    """Link the channel ``ref``; ``name`` is how to call it in a refusal when Telegram will not say."""
    language = common.lang(update)
    user = common.user_of(update)
    try:
        chat, _ = await subs.link_channel(
            common.services(context).db,
            context.bot,
            ref,
            user_id=user.id,
            language=language,
            defaults=common.defaults(context),
            now=common.now(),
        )
    except SubscriptionError as exc:
        if name:
            exc.details.update({k: name for k in ("name", "title") if k in exc.details})
        await common.reply_error(update, exc)
        return
    await common.set_target(update, context, chat.telegram_id)
    intro = t(
        language,
        "channel_linked",
        title=chat.title or chat.username or str(chat.telegram_id),
        next=common.when(chat.next_digest_at, chat.timezone, language),
    )
    await send_picker(update, context, chat, intro)


async def channel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/channel @name links a channel; /channel alone lets the user pick the chat to configure."""
    here = update.effective_chat
    assert here is not None
    language = common.lang(update)
    if here.type != ChatType.PRIVATE:
        await common.reply(update, t(language, "channel_private_only", bot=context.bot.username))
        return
    argument = common.command_argument(update)
    if argument:
        try:
            ref = subs.parse_channel_ref(argument)
        except SubscriptionError as exc:
            await common.reply_error(update, exc)
            return
        await _link(update, context, ref)
        return
    channels = await subs.linked_channels(common.services(context).db, common.user_of(update).id)
    if not channels:
        await common.reply(update, t(language, "channel_usage"))
        return
    rows = [[InlineKeyboardButton(t(language, "btn_this_chat"), callback_data=f"{CHOOSE}|{here.id}")]]
    rows += [
        [InlineKeyboardButton(c.title or f"@{c.username}", callback_data=f"{CHOOSE}|{c.telegram_id}")]
        for c in channels
    ]
    await common.reply(update, t(language, "target_prompt"), markup=InlineKeyboardMarkup(rows))


async def forwarded_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A post forwarded from a channel into the private chat: link that channel."""
    message = update.effective_message
    assert message is not None
    origin = message.forward_origin
    if isinstance(origin, MessageOriginChannel):
        await _link(update, context, origin.chat.id, origin.chat.title or "")
        return
    await common.reply(update, t(common.lang(update), "not_a_command"))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The user picked which chat to configure; a channel must still pass the rights check."""
    query = update.callback_query
    here = update.effective_chat
    assert query is not None and here is not None
    language = common.lang(update)
    try:
        target = int((query.data or "").partition("|")[2])
    except ValueError:
        await common.answer(update, t(language, "bad_button"), show_alert=True)
        return
    if not await common.may_change(update, context, target):
        return
    await common.set_target(update, context, target)
    chat = await subs.get_chat(common.services(context).db, target)
    await common.edit(update, t(language, "target_set", chat=common.chat_label(chat, language)))
    await common.answer(update)


def button_handler() -> CallbackQueryHandler:  # type: ignore[type-arg]
    return CallbackQueryHandler(on_button, pattern=rf"^{CHOOSE}\|")
