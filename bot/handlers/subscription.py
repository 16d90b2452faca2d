"""/start (subscribe or resume, then the topic picker), /stop (pause), /settings and /help."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.handlers import alerts, common
from bot.handlers.topics import followed_names, send_picker
from bot.texts import Html, esc, join, t
from jobs import subscriptions as subs
from jobs.digest import DigestPolicy
from jobs.subscriptions import ChatRef, SubscriptionError
from news.schedule import format_minute


async def start_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Subscribe the chat being configured (all built-in topics, default time) or resume it."""
    language = common.lang(update)
    target = await common.target_id(update, context)
    if not await common.may_change(update, context, target):
        return
    svc = common.services(context)
    here = update.effective_chat
    assert here is not None
    if target == here.id:
        ref = common.chat_ref(update)
    else:  # a linked channel, configured from this private chat (rights were just re-checked)
        known = await subs.get_chat(svc.db, target)
        ref = ChatRef(
            target, ChatType.CHANNEL, known.title if known else "", known.username if known else None
        )
    chat, state = await subs.subscribe(svc.db, ref, common.defaults(context), common.now())
    label = common.chat_label(chat, language)
    next_at = common.when(chat.next_digest_at, chat.timezone, language)
    if state == "new":
        intro = t(
            language, "welcome_new", chat=label, time=format_minute(chat.delivery_minute), tz=chat.timezone
        )
    else:
        intro = t(
            language, "welcome_resumed" if state == "resumed" else "welcome_already", chat=label, next=next_at
        )
    await send_picker(update, context, chat, intro)


async def stop_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pause delivery; every setting is kept for /start."""
    language = common.lang(update)
    target = await common.target_id(update, context)
    if not await common.may_change(update, context, target):
        return
    db = common.services(context).db
    try:
        before = await subs.require_chat(db, target)
        chat = await subs.pause(db, target)
    except SubscriptionError as exc:
        await common.reply_error(update, exc)
        return
    key = "stop_done" if before.active else "stop_already"
    await common.reply(update, t(language, key, chat=common.chat_label(chat, language)))


async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Everything about the chat being configured; readable by every member."""
    language = common.lang(update)
    here = update.effective_chat
    assert here is not None
    target = await common.target_id(update, context)
    db = common.services(context).db
    try:
        chat = await subs.require_chat(db, target)
    except SubscriptionError as exc:
        await common.reply_error(update, exc)
        return
    topics = await subs.chat_topics(db, chat)
    own = [esc(x.name_ar) for x in topics if not x.builtin]
    if chat.deactivated_reason is not None:
        state = t(language, "state_removed")
    else:
        state = t(language, "state_on" if chat.active else "state_paused")
    text = t(
        language,
        "settings",
        chat=common.chat_label(chat, language),
        state=state,
        time=common.times_label(chat, language),
        tz=chat.timezone,
        next=common.when(chat.next_digest_at, chat.timezone, language) if chat.active else "—",
        topics=followed_names(chat, topics, language),
        own=join(own, language) if own else Html(t(language, "none")),
        length=alerts.length_label(chat, language, DigestPolicy().limit_per_topic),
        alerts=alerts.alerts_label(chat, language),
        muted=join(sorted(esc(m) for m in chat.muted_sources), language)
        if chat.muted_sources
        else Html(t(language, "none")),
    )
    if here.type == ChatType.PRIVATE:
        text += t(language, "settings_target", chat=common.chat_label(chat, language))
    await common.reply(update, text)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The commands this user can use here; operator commands only for operators."""
    language = common.lang(update)
    here = update.effective_chat
    text = t(language, "help")
    if here is not None and here.type == ChatType.PRIVATE:
        text += t(language, "help_private")
    else:
        text += t(language, "help_group")
    if common.is_operator(update, context):
        text += t(language, "help_operator")
    await common.reply(update, text)
