"""What every handler module shares: services, language, replies, and who may change which chat.

The rights rules live here, in one place:

* in a private chat the user configures either that chat or a channel they linked (their choice is kept
  in the database, ``user_targets``); a channel's rights are checked again with getChatMember before
  every change;
* in a group only administrators change settings: a member whose getChatMember status is creator or
  administrator, or an anonymous administrator (the message's ``sender_chat`` is the group itself);
* channels are never configured from inside the channel (commands there are not seen as messages).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters, Update, User
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import Application, ContextTypes

from bot import texts
from bot.texts import Html, esc, t
from jobs import subscriptions as subs
from jobs.subscriptions import ChatRef, Defaults, SubscriptionError
from news.schedule import ScheduleInputError, format_minute
from storage.chats import ChatSettings

if TYPE_CHECKING:
    from bot.runtime import Services

log = logging.getLogger(__name__)

TARGET_KEY = "nashra.target"
"""``user_data`` key: a cache of the chat a user configures from their private chat (stored in the
database by ``set_target``, so a restart does not silently turn an admin's /time back on their own chat)."""
GROUP_TYPES = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return services_of_app(context.application)


def services_of_app(application: Application) -> Services:  # type: ignore[type-arg]
    from bot.app import services_of  # bot.app imports this package: import late

    return services_of(application)


def now() -> datetime:
    return datetime.now(UTC)


def defaults(context: ContextTypes.DEFAULT_TYPE) -> Defaults:
    settings = services(context).settings
    return Defaults.of(settings.default_delivery_time, settings.default_timezone)


def lang(update: Update) -> str:
    user = update.effective_user
    return texts.lang_of(user.language_code if user else None)


def chat_ref(update: Update) -> ChatRef:
    chat = update.effective_chat
    assert chat is not None
    title = chat.title or chat.full_name or chat.username or ""
    return ChatRef(chat.id, chat.type, title, chat.username, lang(update))


def command_argument(update: Update) -> str:
    """Everything after the command word (``/cmd`` or ``/cmd@Bot``), as typed, spaces trimmed."""
    message = update.effective_message
    assert message is not None
    text = message.text or ""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def is_operator(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    return user is not None and user.id in services(context).settings.operator_ids


async def reply(update: Update, text: str, *, markup: InlineKeyboardMarkup | None = None) -> Message | None:
    """Answer in the update's chat: HTML, no link previews."""
    chat = update.effective_chat
    if chat is None:
        return None
    message = update.effective_message
    return await chat.send_message(
        text,
        parse_mode=ParseMode.HTML,
        link_preview_options=NO_PREVIEW,
        reply_markup=markup,
        reply_parameters=(
            ReplyParameters(message.message_id, allow_sending_without_reply=True)
            if message is not None and update.callback_query is None and chat.type in GROUP_TYPES
            else None
        ),
    )


async def edit(update: Update, text: str, *, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the text of the message a button belongs to (and its buttons: none unless ``markup``);
    "not modified" is not an error."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.edit_message_text(
            text,
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
            reply_markup=markup or InlineKeyboardMarkup([]),
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def edit_markup(update: Update, markup: InlineKeyboardMarkup | None) -> None:
    query = update.callback_query
    if query is None:
        return
    try:
        await query.edit_message_reply_markup(reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def answer(update: Update, text: str | None = None, *, show_alert: bool = False) -> None:
    """Answer a button press. Telegram refuses answers that come late (the bot was behind a burst): the
    press still took effect, the edit that follows shows it, and an alert's text is sent as a message."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(text, show_alert=show_alert)
    except BadRequest as exc:
        if "query is too old" not in exc.message.lower() and "query id is invalid" not in exc.message.lower():
            raise
        log.info("a button press was answered too late to show its answer")
        if text and show_alert:
            chat = update.effective_chat
            if chat is not None:
                await chat.send_message(text)


async def reply_error(update: Update, exc: Exception) -> None:
    """Turn a refusal from a use case into its reply (the text names what to do instead)."""
    await reply(update, error_text(lang(update), exc))


def error_text(language: str, exc: Exception) -> str:
    if isinstance(exc, ScheduleInputError):
        return t(
            language, "schedule_error", message=exc.message_en if language == texts.EN else exc.message_ar
        )
    if isinstance(exc, SubscriptionError):
        if exc.code == "channel_rights":
            problems = "\n".join(t(language, p) for p in exc.details.get("problems", ()))
            return t(language, "channel_rights", title=exc.details.get("title", ""), problems=Html(problems))
        return t(language, exc.code, **{k: v for k, v in exc.details.items() if k != "problems"})
    return t(language, "topic_error", message=str(exc))


# --- rights -------------------------------------------------------------------------------------------


async def is_group_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """An administrator of this group, including one posting anonymously as the group."""
    chat = update.effective_chat
    message = update.effective_message
    if chat is None:
        return False
    if update.callback_query is None and message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    user = update.effective_user
    return user is not None and await subs.is_chat_admin(context.bot, chat.id, user.id)


async def target_id(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """The chat this message's settings commands apply to."""
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None
    if chat.type != ChatType.PRIVATE or user is None or context.user_data is None:
        return chat.id
    if TARGET_KEY not in context.user_data:
        chosen = await subs.chosen_target(services(context).db, user.id)
        context.user_data[TARGET_KEY] = chosen if chosen is not None else chat.id
    return int(context.user_data[TARGET_KEY])


async def set_target(update: Update, context: ContextTypes.DEFAULT_TYPE, target: int) -> None:
    """From now on (and after restarts) this user's settings commands here apply to ``target``."""
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None and user is not None and context.user_data is not None
    own = target == chat.id
    await subs.choose_target(services(context).db, user.id, None if own else target, now())
    context.user_data[TARGET_KEY] = target


async def may_change(update: Update, context: ContextTypes.DEFAULT_TYPE, target: int) -> bool:
    """Whether the sender may change ``target``'s settings; replies (or alerts) with the reason if not."""
    chat = update.effective_chat
    user = update.effective_user
    language = lang(update)
    if chat is None:
        return False
    if chat.type in GROUP_TYPES:
        if target == chat.id and await is_group_admin(update, context):
            return True
        await refuse(update, t(language, "admins_only"), t(language, "admins_only_button"))
        return False
    if chat.type != ChatType.PRIVATE or user is None:
        return False
    if target == chat.id:
        return True
    try:
        await subs.recheck_channel(context.bot, target, user.id)
    except SubscriptionError as exc:
        text = error_text(language, exc)
        await refuse(update, text, text)
        return False
    return True


async def refuse(update: Update, text: str, alert: str) -> None:
    """Say no: as a reply to a command, or as an alert on a button press."""
    if update.callback_query is not None:
        await answer(update, alert[:200], show_alert=True)
    else:
        await reply(update, text)


# --- display ------------------------------------------------------------------------------------------


def chat_label(chat: ChatSettings | None, language: str) -> Html:
    """How replies name a chat: «هذه المحادثة» for a private chat, else the group's/channel's title."""
    if chat is None or chat.type == ChatType.PRIVATE:
        return Html(t(language, "this_chat"))
    name = chat.title or (f"@{chat.username}" if chat.username else str(chat.telegram_id))
    return Html(f"<b>{esc(name)}</b>")


def when(moment: datetime | None, timezone: str, language: str) -> str:
    if moment is None:
        return t(language, "not_scheduled")
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%Y-%m-%d} {format_minute(local.hour * 60 + local.minute)}"


def times_label(chat: ChatSettings, language: str) -> str:
    """Every edition time of the chat: «07:00، 19:00»."""
    return ("، " if language == texts.AR else ", ").join(format_minute(m) for m in chat.editions)


def topic_name(name_ar: str, name_en: str, language: str) -> str:
    return name_en if language == texts.EN and name_en else name_ar


def user_of(update: Update) -> User:
    user = update.effective_user
    assert user is not None
    return user
