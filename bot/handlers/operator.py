"""Bot operators (``Settings.operator_ids``): /addfeed URL, /delfeed ID, /feeds, /stats.

Everyone else gets a polite refusal that reveals nothing about these commands.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers import common
from bot.texts import Html, esc, join, t
from jobs import subscriptions as subs
from jobs.subscriptions import SubscriptionError
from news.render import TELEGRAM_MAX_LEN, telegram_length
from news.topics import builtin_topic

if TYPE_CHECKING:
    from bot.runtime import Services

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
ERROR_MAX = 300


def operators_only(callback: Callback) -> Callback:
    @wraps(callback)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not common.is_operator(update, context):
            await common.reply(update, t(common.lang(update), "operator_only"))
            return
        await callback(update, context)

    return guarded


@operators_only
async def addfeed_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    language = common.lang(update)
    url = common.command_argument(update)
    if not url:
        await common.reply(update, t(language, "addfeed_usage"))
        return
    svc = common.services(context)
    try:
        feed = await subs.add_feed(
            svc.db, url, allow_private=svc.settings.fetch_allow_private_networks, now=common.now()
        )
    except SubscriptionError as exc:
        await common.reply_error(update, exc)
        return
    await common.reply(update, t(language, "feed_added", id=feed.id, url=feed.url))


@operators_only
async def delfeed_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    language = common.lang(update)
    argument = common.command_argument(update).lstrip("#")
    if not argument.isascii() or not argument.isdigit():
        await common.reply(update, t(language, "delfeed_usage"))
        return
    try:
        await subs.remove_feed(common.services(context).db, int(argument))
    except SubscriptionError as exc:
        await common.reply_error(update, exc)
        return
    await common.reply(update, t(language, "feed_removed", id=int(argument)))


def pages(lines: list[str], limit: int = TELEGRAM_MAX_LEN - 96) -> list[str]:
    """Whole lines packed into messages that stay under Telegram's length limit."""
    out: list[str] = []
    current: list[str] = []
    for line in lines:
        if current and telegram_length("\n".join([*current, line])) > limit:
            out.append("\n".join(current))
            current = []
        current.append(line)
    if current:
        out.append("\n".join(current))
    return out


@operators_only
async def feeds_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    language = common.lang(update)
    feeds = await subs.list_feeds(common.services(context).db)
    if not feeds:
        await common.reply(update, t(language, "feeds_none"))
        return
    lines = [t(language, "feeds_header", count=len(feeds))]
    for f in feeds:
        status = t(language, f"status_{f.status}")
        lines.append(t(language, "feed_line", id=f.id, status=status, articles=f.article_count, url=f.url))
        if f.last_error:
            error = " ".join(f.last_error.split())[:ERROR_MAX]
            lines.append(t(language, "feed_error", count=f.error_count, error=error))
    for page in pages(lines):
        await common.reply(update, page)


@operators_only
async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    language = common.lang(update)
    svc = common.services(context)
    s = await subs.stats(svc.db, svc.settings.default_timezone, common.now())
    keys = list(dict.fromkeys([*s.articles_by_topic, *s.stories_by_topic]))
    parts = []
    for key in keys:
        topic = builtin_topic(key)
        name = common.topic_name(topic.name_ar, topic.name_en, language) if topic else key
        parts.append(f"{esc(name)} {s.articles_by_topic.get(key, 0)}/{s.stories_by_topic.get(key, 0)}")
    by_topic = join(parts, language) if parts else Html(t(language, "none"))
    text = t(
        language,
        "stats",
        feeds_ok=s.feeds.get("ok", 0),
        feeds_failing=s.feeds.get("failing", 0),
        feeds_disabled=s.feeds.get("disabled", 0),
        feeds_new=s.feeds.get("new", 0),
        articles=s.articles_today,
        stories=s.stories_today,
        by_topic=by_topic,
        delivering=s.chats.get("delivering", 0),
        paused=s.chats.get("paused", 0),
        deactivated=s.chats.get("deactivated", 0),
        chats=s.chats.get("total", 0),
        pending=s.deliveries.get("pending", 0) + s.deliveries.get("sending", 0),
        failed=s.deliveries.get("failed", 0),
        sent=s.deliveries.get("sent_today", 0),
    )
    await common.reply(update, text)
    await _send_chart(update, svc, language)


async def _send_chart(update: Update, svc: Services, language: str) -> None:
    """The week's chart as a photo; drawing is CPU work, so it runs off the event loop."""
    from bot.chart import render_stats_chart  # matplotlib loads only when an operator asks

    figures = await subs.week_figures(svc.db, svc.settings.default_timezone, common.now())
    names = {x.key: x.name_ar for x in subs.builtin_topics()}
    png = await asyncio.to_thread(render_stats_chart, figures, names)
    message = update.effective_message
    if message is not None:
        await message.reply_photo(photo=png, caption=t(language, "stats_chart"))
