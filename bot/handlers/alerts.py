"""/alerts on|off|N, /quiet 23:00 07:00, /length short|full [N] and /sources (a mute keyboard).

Thin like the other handlers: parse, call one use case in ``jobs.preferences``, reply. The rights rules
are ``common.may_change``'s: the chat's own admins in groups, the linking admin for a channel.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ContextTypes

from bot.handlers import common
from bot.texts import Html, esc, join, t
from jobs import preferences as prefs
from jobs import subscriptions as subs
from jobs.digest import SHORT, SHORT_PER_TOPIC, DigestPolicy
from jobs.preferences import Outlets, outlet_token
from jobs.subscriptions import SubscriptionError
from news.schedule import ScheduleInputError, format_minute
from storage.chats import ChatSettings

SOURCE = "src"


def quiet_label(chat: ChatSettings, language: str) -> str:
    if chat.quiet_start is None or chat.quiet_end is None:
        return t(language, "quiet_none")
    return f"{format_minute(chat.quiet_start)}–{format_minute(chat.quiet_end)}"


def alerts_label(chat: ChatSettings, language: str) -> str:
    if not chat.alerts:
        return t(language, "alerts_off_state")
    return t(language, "alerts_on_state", cap=chat.alerts_per_day, quiet=quiet_label(chat, language))


def length_label(chat: ChatSettings, language: str, default_per_topic: int) -> str:
    short = chat.digest_length == SHORT
    per_topic = chat.per_topic or (SHORT_PER_TOPIC if short else default_per_topic)
    return t(language, "length_short" if short else "length_full", n=per_topic)


async def alerts_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    language = common.lang(update)
    target = await common.target_id(update, context)
    text = common.command_argument(update)
    db = common.services(context).db
    try:
        if not text:
            chat = await subs.require_chat(db, target)
        elif not await common.may_change(update, context, target):
            return
        else:
            chat = await prefs.set_alerts(db, target, text)
    except SubscriptionError as exc:
        await common.reply_error(update, exc)
        return
    label = common.chat_label(chat, language)
    await common.reply(
        update, t(language, "alerts_state", chat=label, state=Html(esc(alerts_label(chat, language))))
    )


async def quiet_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    language = common.lang(update)
    target = await common.target_id(update, context)
    text = common.command_argument(update)
    db = common.services(context).db
    try:
        if not text:
            chat = await subs.require_chat(db, target)
            await common.reply(update, t(language, "quiet_usage", now=quiet_label(chat, language)))
            return
        if not await common.may_change(update, context, target):
            return
        chat = await prefs.set_quiet(db, target, text)
    except (SubscriptionError, ScheduleInputError) as exc:
        await common.reply_error(update, exc)
        return
    await common.reply(
        update,
        t(
            language,
            "quiet_set",
            chat=common.chat_label(chat, language),
            quiet=quiet_label(chat, language),
            tz=chat.timezone,
        ),
    )


async def length_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    language = common.lang(update)
    target = await common.target_id(update, context)
    text = common.command_argument(update)
    svc = common.services(context)
    try:
        if not text:
            raise SubscriptionError("length_usage", value="", high=prefs.PER_TOPIC_MAX)
        if not await common.may_change(update, context, target):
            return
        chat = await prefs.set_length(svc.db, target, text)
    except SubscriptionError as exc:
        await common.reply_error(update, exc)
        return
    label = length_label(chat, language, DigestPolicy().limit_per_topic)
    await common.reply(
        update, t(language, "length_set", chat=common.chat_label(chat, language), length=label)
    )


# --- sources ------------------------------------------------------------------------------------------


MAX_BUTTONS = 100
"""Telegram's limit on inline buttons in one message; further outlets are toggled by name."""


def source_buttons(target: int, found: Outlets) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            f"{'🔇' if found.muted(name) else '✅'} {name[:40]}",
            # The last field is what the press asks for (1 mute, 0 unmute): repeating it changes nothing.
            callback_data=f"{SOURCE}|{target}|{outlet_token(name)}|{0 if found.muted(name) else 1}",
        )
        for name in found.names[:MAX_BUTTONS]
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def _sources_text(found: Outlets, language: str) -> str:
    muted = [esc(n) for n in found.names if found.muted(n)]
    return t(
        language,
        "sources_prompt",
        chat=common.chat_label(found.chat, language),
        muted=join(muted, language) if muted else Html(t(language, "none")),
    )


async def sources_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/sources``: the keyboard; ``/sources NAME``: mute or unmute that outlet by name."""
    language = common.lang(update)
    target = await common.target_id(update, context)
    name = common.command_argument(update)
    db = common.services(context).db
    try:
        if not name:
            found = await prefs.outlets(db, target, common.now())
            if not found.names:
                await common.reply(update, t(language, "sources_none"))
                return
            if not await common.may_change(update, context, target):
                return
            await common.reply(update, _sources_text(found, language), markup=source_buttons(target, found))
            return
        if not await common.may_change(update, context, target):
            return
        found, outlet, muted = await prefs.toggle_outlet(db, target, name, common.now())
    except SubscriptionError as exc:
        await common.reply_error(update, exc)
        return
    await common.reply(
        update,
        t(
            language,
            "source_muted" if muted else "source_unmuted",
            name=outlet,
            chat=common.chat_label(found.chat, language),
        ),
    )


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    language = common.lang(update)
    _, target_text, token, want = [*(query.data or "").split("|"), "", "", ""][:4]
    try:
        target = int(target_text)
    except ValueError:
        await common.answer(update, t(language, "bad_button"), show_alert=True)
        return
    if not await common.may_change(update, context, target):
        return
    try:
        found, outlet, muted = await prefs.toggle_outlet(
            common.services(context).db, target, token, common.now(), mute={"1": True, "0": False}.get(want)
        )
    except SubscriptionError:
        await common.answer(update, t(language, "bad_button"), show_alert=True)
        return
    await common.edit(update, _sources_text(found, language), markup=source_buttons(target, found))
    key = "source_muted_short" if muted else "source_unmuted_short"
    await common.answer(update, t(language, key, name=outlet)[:200])


def button_handler() -> CallbackQueryHandler:  # type: ignore[type-arg]
    return CallbackQueryHandler(on_button, pattern=rf"^{SOURCE}\|")
