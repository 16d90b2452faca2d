"""/time HH:MM and /timezone NAME (or, with no name, buttons with the common Arab timezones).

Both recompute ``chats.next_digest_at`` through the use case, so a change takes effect for the very next
digest and never causes a second one the same day.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ContextTypes

from bot.handlers import common
from bot.texts import EN, t
from jobs import subscriptions as subs
from jobs.subscriptions import SubscriptionError
from news.schedule import COMMON_TIMEZONES, ScheduleInputError

TIMEZONE = "tz"


async def time_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    language = common.lang(update)
    target = await common.target_id(update, context)
    text = common.command_argument(update)
    db = common.services(context).db
    if not text:
        chat = await subs.get_chat(db, target)
        tz = chat.timezone if chat else common.services(context).settings.default_timezone
        await common.reply(update, t(language, "time_usage", tz=tz))
        return
    if not await common.may_change(update, context, target):
        return
    try:
        chat = await subs.set_time(db, target, text, common.now())
    except (SubscriptionError, ScheduleInputError) as exc:
        await common.reply_error(update, exc)
        return
    await common.reply(
        update,
        t(
            language,
            "time_set",
            chat=common.chat_label(chat, language),
            time=common.times_label(chat, language),
            tz=chat.timezone,
            next=common.when(chat.next_digest_at, chat.timezone, language),
        ),
    )


def timezone_buttons(target: int, language: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            name.rsplit("/", 1)[-1].replace("_", " ") if language == EN else label,
            callback_data=f"{TIMEZONE}|{target}|{name}",
        )
        for name, label in COMMON_TIMEZONES
    ]
    return InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])


async def _apply(update: Update, context: ContextTypes.DEFAULT_TYPE, target: int, name: str) -> str | None:
    """Set the timezone; the confirmation text, or ``None`` after replying with the refusal."""
    language = common.lang(update)
    try:
        chat = await subs.set_timezone(common.services(context).db, target, name, common.now())
    except (SubscriptionError, ScheduleInputError) as exc:
        if update.callback_query is not None:
            await common.answer(update, common.error_text(language, exc)[:200], show_alert=True)
        else:
            await common.reply_error(update, exc)
        return None
    return t(
        language,
        "tz_set",
        chat=common.chat_label(chat, language),
        tz=chat.timezone,
        next=common.when(chat.next_digest_at, chat.timezone, language),
    )


async def timezone_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    language = common.lang(update)
    target = await common.target_id(update, context)
    name = common.command_argument(update)
    if not await common.may_change(update, context, target):
        return
    if not name:
        try:
            chat = await subs.require_chat(common.services(context).db, target)
        except SubscriptionError as exc:
            await common.reply_error(update, exc)
            return
        label = common.chat_label(chat, language)
        await common.reply(
            update, t(language, "tz_prompt", chat=label), markup=timezone_buttons(target, language)
        )
        return
    if (done := await _apply(update, context, target, name)) is not None:
        await common.reply(update, done)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    language = common.lang(update)
    _, _, rest = (query.data or "").partition("|")
    target_text, _, name = rest.partition("|")
    try:
        target = int(target_text)
    except ValueError:
        await common.answer(update, t(language, "bad_button"), show_alert=True)
        return
    if not await common.may_change(update, context, target):
        return
    if (done := await _apply(update, context, target, name)) is not None:
        await common.edit(update, done)
        await common.answer(update)


def button_handler() -> CallbackQueryHandler:  # type: ignore[type-arg]
    return CallbackQueryHandler(on_button, pattern=rf"^{TIMEZONE}\|")
