"""/topics (an inline keyboard that toggles topics and edits itself in place), /addtopic and /deltopic.

Button data carries the chat being configured and what the press asks for (``tp|<chat id>|<topic
key>|1`` follows, ``…|0`` unfollows), so a picker opened for a channel from a private chat keeps
configuring that channel, and a press handled twice (after a crash) sets the same state twice instead of
flipping it back. Rights are checked on every press, since a picker message outlives the rights of
whoever opened it. Data without the last field (pickers sent by older versions) toggles.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ContextTypes

from bot.handlers import common
from bot.texts import Html, esc, join, t
from jobs import subscriptions as subs
from jobs.subscriptions import SubscriptionError
from news.models import Topic
from news.topics import TopicSpecError
from storage.chats import ChatSettings

TOGGLE = "tp"
DONE = "tpd"


def picker(chat: ChatSettings, topics: Sequence[Topic], language: str) -> InlineKeyboardMarkup:
    """Two topics a row, ✅ on the followed ones, and a «done» button."""
    buttons = [
        InlineKeyboardButton(
            ("✅ " if topic.key in chat.topics else "▫️ ")
            + common.topic_name(topic.name_ar, topic.name_en, language),
            callback_data=f"{TOGGLE}|{chat.telegram_id}|{topic.key}|{0 if topic.key in chat.topics else 1}",
        )
        for topic in topics
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([InlineKeyboardButton(t(language, "btn_done"), callback_data=f"{DONE}|{chat.telegram_id}")])
    return InlineKeyboardMarkup(rows)


def followed_names(chat: ChatSettings, topics: Sequence[Topic], language: str) -> Html:
    names = [esc(common.topic_name(x.name_ar, x.name_en, language)) for x in topics if x.key in chat.topics]
    return join(names, language) if names else Html(t(language, "none"))


async def send_picker(
    update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatSettings, intro: str
) -> None:
    """``intro`` followed by the picker prompt, with the keyboard."""
    language = common.lang(update)
    topics = await subs.chat_topics(common.services(context).db, chat)
    prompt = t(language, "topics_prompt", chat=common.chat_label(chat, language))
    text = f"{intro}\n\n{prompt}" if intro else prompt
    await common.reply(update, text, markup=picker(chat, topics, language))


async def topics_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/topics: reopen the picker for the chat being configured."""
    target = await common.target_id(update, context)
    if not await common.may_change(update, context, target):
        return
    try:
        chat = await subs.require_chat(common.services(context).db, target)
    except SubscriptionError as exc:
        await common.reply_error(update, exc)
        return
    await send_picker(update, context, chat, "")


def _parse(data: str) -> tuple[str, int, str, bool | None]:
    """(kind, chat id, topic key, follow?) from button data; ``None``: an older picker's toggle."""
    kind, chat_id, *rest = data.split("|")
    key, want = [*rest, "", ""][:2]
    if want not in ("", "0", "1"):
        raise ValueError(data)
    return kind, int(chat_id), key, (want == "1") if want else None


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press on the picker: toggle one topic (or finish), after checking the presser's rights."""
    query = update.callback_query
    assert query is not None
    language = common.lang(update)
    try:
        kind, target, key, follow = _parse(query.data or "")
    except ValueError:
        await common.answer(update, t(language, "bad_button"), show_alert=True)
        return
    if not await common.may_change(update, context, target):
        return
    db = common.services(context).db
    try:
        if kind == DONE:
            chat = await subs.require_chat(db, target)
            topics = await subs.chat_topics(db, chat)
            label = common.chat_label(chat, language)
            text = t(language, "topics_summary", chat=label, topics=followed_names(chat, topics, language))
            if not chat.topics:
                text += "\n" + t(language, "topics_none")
            await common.edit(update, text)
            await common.answer(update)
            return
        chat, topics = await subs.toggle_topic(db, target, key, follow=follow)
    except SubscriptionError as exc:
        await common.answer(update, common.error_text(language, exc)[:200], show_alert=True)
        return
    topic = next(x for x in topics if x.key == key)
    name = common.topic_name(topic.name_ar, topic.name_en, language)
    await common.edit_markup(update, picker(chat, topics, language))
    await common.answer(update, t(language, "topic_on" if key in chat.topics else "topic_off", name=name))


async def addtopic_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/addtopic NAME: كلمة، كلمة، -كلمة"""
    language = common.lang(update)
    target = await common.target_id(update, context)
    spec = common.command_argument(update)
    if not spec:
        await common.reply(update, t(language, "addtopic_usage"))
        return
    if not await common.may_change(update, context, target):
        return
    db = common.services(context).db
    try:
        topic, created = await subs.add_keyword_topic(
            db, target, spec, user_id=common.user_of(update).id, now=common.now()
        )
        chat = await subs.require_chat(db, target)
    except (SubscriptionError, TopicSpecError) as exc:
        await common.reply_error(update, exc)
        return
    excluded = (
        Html(t(language, "addtopic_excluded", words=join(map(esc, topic.excluded), language)))
        if topic.excluded
        else Html("")
    )
    intro = t(
        language,
        "addtopic_created" if created else "addtopic_updated",
        name=topic.name_ar,
        chat=common.chat_label(chat, language),
        keywords=join(map(esc, topic.keywords), language),
        excluded=excluded,
    )
    await send_picker(update, context, chat, intro)


async def deltopic_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/deltopic NAME"""
    language = common.lang(update)
    target = await common.target_id(update, context)
    name = common.command_argument(update)
    if not name:
        await common.reply(update, t(language, "deltopic_usage"))
        return
    if not await common.may_change(update, context, target):
        return
    db = common.services(context).db
    try:
        topic = await subs.delete_keyword_topic(db, target, name)
        chat = await subs.require_chat(db, target)
    except SubscriptionError as exc:
        await common.reply_error(update, exc)
        return
    await common.reply(
        update,
        t(language, "deltopic_done", name=topic.name_ar, chat=common.chat_label(chat, language)),
    )


def button_handler() -> CallbackQueryHandler:  # type: ignore[type-arg]
    return CallbackQueryHandler(on_button, pattern=rf"^({TOGGLE}|{DONE})\|")
