"""/latest [topic] and /search words, open to every member, and the group cooldown on reading commands.

The cooldown is a gate in an earlier handler group: in a group or supergroup, a reading command
(/digest, /latest, /search) less than ``READ_COOLDOWN`` seconds after the previous one is answered
once with "please wait" and then ignored, so a group cannot make the bot flood itself. It is kept in
the database (``storage.cooldowns``): a group's commands may be handled by any of several processes,
one after another, and each would otherwise answer once per cooldown.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from telegram import MessageEntity, Update
from telegram.ext import ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.handlers import common
from bot.texts import Html, esc, join, t
from jobs import subscriptions as subs
from jobs.subscriptions import SubscriptionError
from news.render import clean_field, safe_href
from storage.cooldowns import take_read_turn
from storage.search import Headline

READ_COMMANDS = frozenset({"digest", "latest", "search"})
READ_COOLDOWN = 20.0
TITLE_MAX = 200


def headline_lines(headlines: Sequence[Headline]) -> str:
    lines = []
    for h in headlines:
        title = esc(clean_field(h.title)[:TITLE_MAX])
        href = safe_href(h.url)
        link = f'<a href="{esc(href)}">{title}</a>' if href else title
        source = f" — <i>{esc(clean_field(h.source)[:60])}</i>" if h.source else ""
        lines.append(f"• {link}{source}")
    return "\n".join(lines)


async def latest_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Newest headlines in the chat's topics (all topics when not subscribed), or in one named topic."""
    message = update.effective_message
    assert message is not None and update.effective_chat is not None
    language = common.lang(update)
    db = common.services(context).db
    chat = await subs.get_chat(db, update.effective_chat.id)
    topics = list(subs.builtin_topics()) if chat is None else await subs.chat_topics(db, chat)
    wanted = common.command_argument(update)
    if wanted:
        topic = subs.find_topic(topics, wanted)
        if topic is None:
            names = join((esc(common.topic_name(x.name_ar, x.name_en, language)) for x in topics), language)
            await common.reply(update, t(language, "latest_no_topic", name=wanted, topics=names))
            return
        chosen = [topic]
        suffix = Html(f": {esc(common.topic_name(topic.name_ar, topic.name_en, language))}")
    else:
        chosen = [x for x in topics if chat is None or not chat.topics or x.key in chat.topics]
        suffix = Html("")
    muted = chat.muted_sources if chat is not None else frozenset()
    headlines = await subs.latest(db, chosen, common.now(), muted=muted)
    if not headlines:
        await common.reply(update, t(language, "latest_none", topic=suffix))
        return
    await common.reply(
        update, t(language, "latest_header", topic=suffix) + "\n\n" + headline_lines(headlines)
    )


async def search_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    language = common.lang(update)
    query = common.command_argument(update)
    db = common.services(context).db
    chat = await subs.get_chat(db, update.effective_chat.id) if update.effective_chat else None
    try:
        found = await subs.search(db, query, muted=chat.muted_sources if chat else frozenset())
    except SubscriptionError as exc:
        await common.reply_error(update, exc)
        return
    shown = query[:80]
    if not found:
        await common.reply(update, t(language, "search_none", query=shown))
        return
    await common.reply(update, t(language, "search_header", query=shown) + "\n\n" + headline_lines(found))


def _command_name(update: Update, bot_username: str) -> str | None:
    """The command of a message addressed to this bot (``/cmd`` or ``/cmd@ThisBot``), lower-cased."""
    message = update.message
    if message is None or not message.text or not message.entities:
        return None
    first = message.entities[0]
    if first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return None
    word = message.text[1 : first.length]
    name, _, addressee = word.partition("@")
    if addressee and addressee.lower() != bot_username.lower():
        return None
    return name.lower()


async def cooldown_gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before every handler; stops reading commands that come too fast in a group."""
    chat = update.effective_chat
    if chat is None or chat.type not in common.GROUP_TYPES:
        return
    if _command_name(update, context.bot.username) not in READ_COMMANDS:
        return
    async with common.services(context).db.session() as s, s.begin():
        cooldown = timedelta(seconds=READ_COOLDOWN)
        turn = await take_read_turn(s, chat.id, common.now(), cooldown, update_id=update.update_id)
    if turn.verdict == "go":
        return
    if turn.verdict == "warn":
        wait = max(1, round(turn.wait_seconds))
        await common.reply(update, t(common.lang(update), "cooldown", seconds=wait))
    raise ApplicationHandlerStop


def cooldown_handler() -> TypeHandler:  # type: ignore[type-arg]
    return TypeHandler(Update, cooldown_gate)
