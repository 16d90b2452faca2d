"""Use cases behind the chat commands: subscriptions, topics, schedule, channels, reading, operators.

Handlers parse a command and call exactly one function here; everything that decides something lives
here, so it is tested without Telegram (and end to end through the emulator). Each function is one unit
of work with its own session. Refusals raise :class:`SubscriptionError` (a reason code and details that
``bot.texts`` turns into a reply), ``news.schedule.ScheduleInputError`` or ``news.topics.TopicSpecError``
(both carrying Arabic messages); in every refusal nothing has been changed.

Telegram is reached only through ``telegram.Bot`` methods, types and errors (membership checks for
channels and groups), never ``telegram.ext``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Bot, ChatMember, ChatMemberAdministrator
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden

from jobs.urlguard import UnsafeURLError, check_url
from news.arabic import normalize, proclitic_splits, stem, tokenize
from news.models import Topic
from news.schedule import next_edition_at, parse_time, parse_times, parse_timezone
from news.topics import BUILTIN_TOPICS, KEY_PREFIX, ArticleTerms, KeywordMatcher, parse_keyword_topic
from storage import chats as chat_store
from storage import feeds as feed_store
from storage import search as search_store
from storage import stats as stats_store
from storage.chats import ChatSettings
from storage.db import Database, Session
from storage.feeds import FeedInfo
from storage.search import Headline
from storage.stats import Stats, WeekFigures, collect_stats

MAX_KEYWORD_TOPICS = 20
"""Keyword topics one chat may define: each costs matching work on every digest."""
MAX_SEARCH_WORDS = 8
LATEST_WINDOW = timedelta(hours=48)

_ADMIN_STATUSES = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})
_CHANNEL_REF = re.compile(r"^(?:https?://)?(?:t\.me/|telegram\.me/)?@?([A-Za-z][A-Za-z0-9_]{3,31})/?$")


class SubscriptionError(Exception):
    """A refused request. ``code`` names the reason (a key of ``bot.texts``); nothing was changed."""

    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


@dataclass(frozen=True, slots=True)
class ChatRef:
    """What Telegram tells about a chat, as a use case needs it."""

    telegram_id: int
    type: str
    title: str = ""
    username: str | None = None
    language: str = "ar"


@dataclass(frozen=True, slots=True)
class Defaults:
    """New chats' delivery time (minutes after local midnight) and timezone, from the settings."""

    delivery_minute: int
    timezone: str

    @classmethod
    def of(cls, delivery_time: str, timezone: str) -> Defaults:
        return cls(parse_time(delivery_time), parse_timezone(timezone).key)


# --- topics -----------------------------------------------------------------------------------------


def builtin_topics() -> tuple[Topic, ...]:
    """The classifier's topics, in display order."""
    return BUILTIN_TOPICS


def builtin_keys() -> tuple[str, ...]:
    return tuple(t.key for t in builtin_topics())


def _safe_key(topic: Topic) -> Topic:
    """Make sure a chat's keyword topic key can never equal a built-in key.

    ``news.topics`` already prefixes its keys with ``kw_``; this guard keeps the promise here even if
    that ever changes, because a keyword topic taking a built-in key would hijack the classifier's label.
    """
    if topic.key.startswith(KEY_PREFIX) and topic.key not in builtin_keys():
        return topic
    key = (KEY_PREFIX + topic.key)[:80]
    return Topic(key, topic.name_ar, topic.name_en, topic.keywords, topic.excluded)


async def chat_topics(db: Database, chat: ChatSettings) -> list[Topic]:
    """Every topic the chat can pick: the built-in ones, then its own keyword topics."""
    async with db.session() as s:
        own = await chat_store.keyword_topics(s, chat.id)
    return [*builtin_topics(), *own]


def find_topic(topics: Sequence[Topic], text: str) -> Topic | None:
    """The topic a user named, by key or by (normalized) Arabic or English name."""
    wanted = normalize(" ".join(text.split()))
    for topic in topics:
        names = {topic.key.lower(), normalize(topic.name_ar), normalize(topic.name_en or topic.name_ar)}
        if wanted in names:
            return topic
    return None


# --- chats ------------------------------------------------------------------------------------------


async def get_chat(db: Database, telegram_id: int) -> ChatSettings | None:
    async with db.session() as s:
        return await chat_store.get_chat(s, telegram_id)


async def require_chat(db: Database, telegram_id: int) -> ChatSettings:
    """The chat's settings, or a refusal when it never subscribed or Telegram no longer lets us in."""
    chat = await get_chat(db, telegram_id)
    if chat is None or (chat.next_digest_at is None and not chat.active):
        raise SubscriptionError("not_subscribed")
    if chat.deactivated_reason is not None:
        raise SubscriptionError("chat_removed")
    return chat


def _next_at(minute: int | Sequence[int], timezone: str, now: datetime) -> datetime:
    minutes = (minute,) if isinstance(minute, int) else minute
    return next_edition_at(minutes, ZoneInfo(timezone), now)


async def subscribe(
    db: Database, chat: ChatRef, defaults: Defaults, now: datetime, *, linked_by: int | None = None
) -> tuple[ChatSettings, str]:
    """Subscribe a chat, or resume a paused or removed one with its settings kept.

    Returns the settings and what happened: ``"new"`` (also for a chat registered when the bot was added
    but never subscribed), ``"resumed"`` or ``"already"``.
    """
    async with db.session() as s, s.begin():
        old = await chat_store.get_chat(s, chat.telegram_id)
        if old is None:
            created = await _create_chat(
                s,
                chat,
                defaults,
                now,
                next_digest_at=_next_at(defaults.delivery_minute, defaults.timezone, now),
                linked_by=linked_by,
            )
            return created, "new"
        if old.next_digest_at is None and not old.active:
            state = "new"  # registered when the bot was added, never subscribed until now
        else:
            state = "already" if old.delivering else "resumed"
        changes: dict[str, object] = {
            "type": chat.type,
            "title": chat.title or old.title,
            "username": chat.username,
            "active": True,
            "deactivated_reason": None,
        }
        if state != "already" or old.next_digest_at is None:
            changes["next_digest_at"] = _next_at(old.editions, old.timezone, now)
        if linked_by is not None:
            changes["linked_by"] = linked_by
        return await chat_store.update_chat(s, chat.telegram_id, **changes), state


async def _create_chat(
    s: Session, chat: ChatRef, defaults: Defaults, now: datetime, **extra: Any
) -> ChatSettings:
    """A new chat row with the deployment's defaults and every built-in topic."""
    return await chat_store.create_chat(
        s,
        chat.telegram_id,
        type=chat.type,
        title=chat.title,
        username=chat.username,
        language=chat.language,
        delivery_minute=defaults.delivery_minute,
        timezone=defaults.timezone,
        topics=builtin_keys(),
        now=now,
        **extra,
    )


async def register_chat(db: Database, chat: ChatRef, defaults: Defaults, now: datetime) -> ChatSettings:
    """The bot was added to a group or channel: remember the chat, but deliver nothing yet.

    Digests start when an administrator sends /start (or links the channel), so adding the bot never
    makes it post unasked. A chat that had removed the bot before keeps its settings, paused.
    """
    async with db.session() as s, s.begin():
        old = await chat_store.get_chat(s, chat.telegram_id)
        if old is None:
            return await _create_chat(s, chat, defaults, now, active=False)
        return await chat_store.update_chat(
            s,
            chat.telegram_id,
            type=chat.type,
            title=chat.title or old.title,
            username=chat.username,
            active=False,
            deactivated_reason=None,
        )


async def deactivate(db: Database, telegram_id: int, reason: str) -> None:
    """Telegram no longer lets the bot into the chat (removed, kicked, blocked): stop delivering."""
    async with db.session() as s, s.begin():
        await chat_store.deactivate_chat(s, telegram_id, reason)


async def migrate(db: Database, old_id: int, new_id: int) -> None:
    async with db.session() as s, s.begin():
        await chat_store.migrate_chat(s, old_id, new_id)


async def pause(db: Database, telegram_id: int) -> ChatSettings:
    """/stop: no more digests; every setting is kept for /start."""
    chat = await require_chat(db, telegram_id)
    async with db.session() as s, s.begin():
        return await chat_store.update_chat(s, chat.telegram_id, active=False)


async def toggle_topic(
    db: Database, telegram_id: int, key: str, *, follow: bool | None = None
) -> tuple[ChatSettings, list[Topic]]:
    """Follow (``follow=True``) or unfollow one topic, or flip it (``None``); returns the new settings
    and the chat's pickable topics. Setting a state, unlike flipping, is safe to repeat."""
    chat = await require_chat(db, telegram_id)
    topics = await chat_topics(db, chat)
    known = [t.key for t in topics]
    if key not in known:
        raise SubscriptionError("no_such_topic", name=key)
    if follow is None:
        followed = set(chat.topics) ^ {key}
    else:
        followed = set(chat.topics) | {key} if follow else set(chat.topics) - {key}
    async with db.session() as s, s.begin():
        updated = await chat_store.update_chat(s, telegram_id, topics=[k for k in known if k in followed])
    return updated, topics


async def set_time(db: Database, telegram_id: int, text: str, now: datetime) -> ChatSettings:
    """/time 07:00 [19:00 …]: up to four daily editions, in the chat's timezone.

    Raises ``ScheduleInputError`` (a bad time, or more than four). Each edition carries what the chat
    has not received yet, so two editions never repeat a story.
    """
    chat = await require_chat(db, telegram_id)
    minutes = parse_times(text)
    async with db.session() as s, s.begin():
        return await chat_store.update_chat(
            s,
            telegram_id,
            delivery_minute=minutes[0],
            edition_minutes=minutes if len(minutes) > 1 else (),
            next_digest_at=_next_at(minutes, chat.timezone, now),
        )


async def set_timezone(db: Database, telegram_id: int, name: str, now: datetime) -> ChatSettings:
    """/timezone NAME: the chat's IANA timezone. Raises ``ScheduleInputError``."""
    chat = await require_chat(db, telegram_id)
    zone = parse_timezone(name).key
    async with db.session() as s, s.begin():
        return await chat_store.update_chat(
            s, telegram_id, timezone=zone, next_digest_at=_next_at(chat.editions, zone, now)
        )


async def add_keyword_topic(
    db: Database, telegram_id: int, spec: str, *, user_id: int | None, now: datetime
) -> tuple[Topic, bool]:
    """/addtopic NAME: words: define (or redefine) a keyword topic and follow it.

    Raises ``TopicSpecError`` for a malformed definition and ``SubscriptionError`` for limits. Returns the
    topic and whether it is new.
    """
    chat = await require_chat(db, telegram_id)
    topic = _safe_key(parse_keyword_topic(spec))
    if find_topic(builtin_topics(), topic.name_ar) is not None:
        raise SubscriptionError("topic_name_taken", name=topic.name_ar)
    async with db.session() as s, s.begin():
        own = await chat_store.keyword_topics(s, chat.id)
        same_name = find_topic(own, topic.name_ar)
        if same_name is not None and same_name.key != topic.key:
            topic = Topic(same_name.key, topic.name_ar, topic.name_en, topic.keywords, topic.excluded)
        if same_name is None and len(own) >= MAX_KEYWORD_TOPICS:
            raise SubscriptionError("too_many_topics", limit=MAX_KEYWORD_TOPICS)
        created = await chat_store.save_keyword_topic(s, chat.id, topic, created_by=user_id, now=now)
        if topic.key not in chat.topics:
            await chat_store.update_chat(s, telegram_id, topics=[*chat.topics, topic.key])
    return topic, created


async def delete_keyword_topic(db: Database, telegram_id: int, name: str) -> Topic:
    """/deltopic NAME: remove one of the chat's keyword topics (built-in topics cannot be deleted)."""
    chat = await require_chat(db, telegram_id)
    if not name.strip():
        raise SubscriptionError("deltopic_usage")
    async with db.session() as s, s.begin():
        topic = find_topic(await chat_store.keyword_topics(s, chat.id), name)
        if topic is None:
            code = "builtin_topic" if find_topic(builtin_topics(), name) else "no_such_topic"
            raise SubscriptionError(code, name=name.strip())
        await chat_store.delete_keyword_topic(s, chat.id, topic.key)
        await chat_store.update_chat(s, telegram_id, topics=[k for k in chat.topics if k != topic.key])
    return topic


# --- Telegram rights ----------------------------------------------------------------------------------


async def _member(bot: Bot, chat_id: int | str, user_id: int) -> ChatMember | None:
    try:
        return await bot.get_chat_member(chat_id, user_id)
    except (BadRequest, Forbidden):
        return None


async def is_chat_admin(bot: Bot, chat_id: int, user_id: int) -> bool:
    """Whether ``user_id`` administers the group (getChatMember; no caching, rights change)."""
    member = await _member(bot, chat_id, user_id)
    return member is not None and member.status in _ADMIN_STATUSES


@dataclass(frozen=True, slots=True)
class ChannelCheck:
    """The result of checking a channel: its identity and what is missing (empty when all is well).

    ``problems`` holds codes: ``bot_not_admin`` (the bot is not an administrator there),
    ``bot_cannot_post`` (it is, without the right to post), ``user_not_admin`` (the user is not an
    administrator of the channel).
    """

    chat_id: int
    title: str
    username: str | None
    problems: tuple[str, ...] = field(default=())


def parse_channel_ref(text: str) -> int | str:
    """``@name``, ``name``, ``t.me/name`` or a numeric id → what getChat accepts. Raises when malformed."""
    text = text.strip()
    if re.fullmatch(r"-100\d{5,15}", text):
        return int(text)
    match = _CHANNEL_REF.match(text)
    if match is None:
        raise SubscriptionError("channel_usage")
    return f"@{match[1]}"


async def check_channel(bot: Bot, ref: int | str, user_id: int) -> ChannelCheck:
    """Find the channel and check both the user's and the bot's rights there."""
    try:
        chat = await bot.get_chat(ref)
    except Forbidden:  # it exists, but the bot is not (or no longer) in it
        raise SubscriptionError("channel_rights", problems=("bot_not_admin",), title=str(ref)) from None
    except BadRequest:
        raise SubscriptionError("channel_not_found", name=str(ref)) from None
    if chat.type != ChatType.CHANNEL:
        raise SubscriptionError("not_a_channel", name=chat.title or str(ref))
    problems: list[str] = []
    me = await _member(bot, chat.id, bot.id)
    if me is None or me.status not in _ADMIN_STATUSES:
        problems.append("bot_not_admin")
    elif isinstance(me, ChatMemberAdministrator) and not me.can_post_messages:
        problems.append("bot_cannot_post")
    user = await _member(bot, chat.id, user_id)
    if user is None:
        if "bot_not_admin" not in problems:  # the bot could look and did not find the user
            problems.append("user_not_admin")
    elif user.status not in _ADMIN_STATUSES:
        problems.append("user_not_admin")
    return ChannelCheck(chat.id, chat.title or "", chat.username, tuple(problems))


async def link_channel(
    db: Database, bot: Bot, ref: int | str, *, user_id: int, language: str, defaults: Defaults, now: datetime
) -> tuple[ChatSettings, str]:
    """/channel @name: after the rights check, subscribe the channel on behalf of ``user_id``.

    Raises ``SubscriptionError("channel_rights", problems=…)`` naming exactly what is missing.
    """
    check = await check_channel(bot, ref, user_id)
    if check.problems:
        raise SubscriptionError("channel_rights", problems=check.problems, title=check.title)
    ref_ = ChatRef(check.chat_id, ChatType.CHANNEL, check.title, check.username, language)
    return await subscribe(db, ref_, defaults, now, linked_by=user_id)


async def recheck_channel(bot: Bot, chat_id: int, user_id: int) -> None:
    """Before each change to a channel's settings: both rights still hold, or a refusal saying which."""
    check = await check_channel(bot, chat_id, user_id)
    if check.problems:
        raise SubscriptionError("channel_rights", problems=check.problems, title=check.title)


async def linked_channels(db: Database, user_id: int) -> list[ChatSettings]:
    async with db.session() as s:
        return await chat_store.channels_linked_by(s, user_id)


async def chosen_target(db: Database, user_id: int) -> int | None:
    """The chat a user configures from their private chat (None: the private chat itself)."""
    async with db.session() as s:
        return await chat_store.get_target(s, user_id)


async def choose_target(db: Database, user_id: int, telegram_id: int | None, now: datetime) -> None:
    """Make ``telegram_id`` the chat this user's settings commands apply to; None for their own."""
    async with db.session() as s, s.begin():
        await chat_store.set_target(s, user_id, telegram_id, now)


# --- reading ------------------------------------------------------------------------------------------


def _one_per_story(headlines: Sequence[Headline], limit: int) -> list[Headline]:
    seen: set[int] = set()
    out: list[Headline] = []
    for h in headlines:
        if h.story_id is not None:
            if h.story_id in seen:
                continue
            seen.add(h.story_id)
        out.append(h)
        if len(out) >= limit:
            break
    return out


async def latest(
    db: Database,
    topics: Sequence[Topic],
    now: datetime,
    *,
    limit: int = 10,
    muted: frozenset[str] = frozenset(),
) -> list[Headline]:
    """Newest headlines of the last two days in any of ``topics``, one per story, none from ``muted``
    outlets (a story another outlet told still shows, under that outlet's headline).

    Built-in topics are matched by the classifier's labels stored with each article; keyword topics by
    their keywords against title and summary.
    """
    since = now - LATEST_WINDOW
    builtin = [t.key for t in topics if t.builtin]
    matchers = [KeywordMatcher(t) for t in topics if not t.builtin]
    async with db.session() as s:
        if matchers:
            recent = await search_store.recent_articles(s, since=since, limit=500)
        else:
            recent = await search_store.recent_articles(
                s, since=since, topic_keys=builtin, limit=limit * (10 if muted else 5)
            )

    def wanted(h: Headline) -> bool:
        if h.source in muted:
            return False
        if any(k in h.topics for k in builtin):
            return True
        terms = ArticleTerms.of(f"{h.title}\n{h.summary}")
        return any(m.matches(terms) for m in matchers)

    return _one_per_story([h for h in recent if wanted(h)], limit)


# A lone conjunction/preposition glued to a word («ولبنان»): the stored stems keep it, so a query word is
# also looked for with each of them in front (same list as news.arabic uses for the opposite direction).
_LONE_PROCLITICS = ("وب", "وك", "ول", "فب", "فك", "فل", "و", "ف", "ب", "ك", "ل")


def search_readings(query: str) -> list[tuple[str, ...]]:
    """Per query word, the stored stems that count as that word.

    A word matches its own stem, the stem with a lone «و ف ب ك ل» taken off («ولبنان» finds «لبنان»),
    and the stems of the word with one put in front («لبنان» finds «ولبنان»), since ``search_text``
    keeps such proclitics (the stemmer cannot tell «وزير» from «و» + «زير»).
    """
    words = list(dict.fromkeys(tokenize(query)))[:MAX_SEARCH_WORDS]
    out = []
    for word in words:
        readings = [stem(s) for s in proclitic_splits(word)]
        if len(word) >= 3 and word[0].isalpha() and not word.isascii():
            readings += [stem(c + word) for c in _LONE_PROCLITICS]
        out.append(tuple(dict.fromkeys(readings)))
    return out


async def search(
    db: Database, query: str, *, limit: int = 10, muted: frozenset[str] = frozenset()
) -> list[Headline]:
    """/search words: stored articles containing every word (Arabic-aware), newest first, none from
    ``muted`` outlets."""
    readings = search_readings(query)
    if not readings:
        raise SubscriptionError("search_usage")
    async with db.session() as s:
        found = await search_store.search_articles(s, readings, limit=limit * (6 if muted else 3))
    return _one_per_story([h for h in found if h.source not in muted], limit)


# --- operators ----------------------------------------------------------------------------------------


async def add_feed(db: Database, url: str, *, allow_private: bool, now: datetime) -> FeedInfo:
    """/addfeed URL: the URL passes the address rules, then is stored (the ingest tick fetches it)."""
    try:
        checked = check_url(url, allow_private=allow_private)
    except UnsafeURLError as exc:
        raise SubscriptionError("feed_refused", reason=str(exc)) from None
    async with db.session() as s, s.begin():
        try:
            return await feed_store.add_feed(s, checked, now=now)
        except feed_store.FeedExistsError:
            raise SubscriptionError("feed_exists", url=checked) from None


async def remove_feed(db: Database, feed_id: int) -> None:
    async with db.session() as s, s.begin():
        if not await feed_store.remove_feed(s, feed_id):
            raise SubscriptionError("no_such_feed", id=feed_id)


async def list_feeds(db: Database) -> list[FeedInfo]:
    async with db.session() as s:
        return await feed_store.list_feeds(s)


async def week_figures(db: Database, timezone: str, now: datetime) -> WeekFigures:
    """The /stats chart's figures: the last seven local days in the bot's default timezone."""
    async with db.session() as s:
        return await stats_store.week_figures(s, now=now, tz=ZoneInfo(timezone))


async def stats(db: Database, timezone: str, now: datetime) -> Stats:
    """/stats; "today" starts at local midnight in the bot's default timezone."""
    zone = ZoneInfo(timezone)
    midnight = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
    async with db.session() as s:
        return await collect_stats(s, since=midnight)
