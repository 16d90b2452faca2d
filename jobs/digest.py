"""Daily digests: due chats → their unsent, topic-matched stories → rendered pages → the outbox.

One tick handles every due chat at once. Stories are loaded and ranked once; chats that decide their
output the same way (topic set, timezone, digits, language, what they were already sent, and no keyword
topics) share one selection and one rendering. Pages are written in the same transaction that marks the
stories sent and moves ``next_digest_at`` on, under a key naming the scheduled slot, so neither a crash
nor a double tick can queue a digest twice (see ``storage.deliveries.write_digests``).

Sending is not done here: ``jobs.deliver`` drains the outbox. Nothing here reads the clock; ``now`` is a
parameter.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from news.alerts import alerted_earlier, titles_only, visible_story
from news.calendar import Digits
from news.daypass import review_stories
from news.digest import StoryIndex, TopicSection, digest_group_key, rank_stories
from news.models import DigestPage, DigestStory, Topic
from news.render import RenderCache, render_digest, render_empty
from news.schedule import digest_due, next_edition_at
from news.topics import BUILTIN_TOPICS, ArticleTerms, KeywordMatcher, keyword_phrase
from storage import alerts as alert_store
from storage import chats as chat_store
from storage import deliveries as outbox
from storage import stories as story_store
from storage.chats import ChatSettings
from storage.db import Database

log = logging.getLogger(__name__)

DAILY_PREFIX = "daily"
ON_DEMAND_PREFIX = "now"
SHORT = "short"
FULL = "full"
SHORT_PER_TOPIC = 5
"""Stories per topic of a short (titles-only) digest unless the chat chose a number."""


@dataclass(frozen=True, slots=True)
class DigestPolicy:
    """What goes into a digest and how the tick works; built from ``Settings`` by the caller.

    ``window`` bounds how old a story may be (a first digest gets exactly this much); ``catch_up`` is how
    late a missed digest may still go out after downtime; ``write_batch`` chats share one transaction.
    """

    window: timedelta = timedelta(hours=24)
    catch_up: timedelta = timedelta(hours=6)
    limit_per_topic: int = 8
    limit_total: int = 30
    max_stories: int = 5000
    write_batch: int = 500

    def __post_init__(self) -> None:
        if self.window <= timedelta(0) or self.catch_up < timedelta(0):
            raise ValueError("window must be positive and catch_up not negative")
        if min(self.limit_per_topic, self.limit_total, self.max_stories, self.write_batch) < 1:
            raise ValueError("digest limits must be positive")


@dataclass(frozen=True, slots=True)
class ChatDigest:
    """One chat's digest as built, before it is committed."""

    chat: ChatSettings
    digest_key: str
    pages: tuple[DigestPage, ...]
    story_ids: tuple[int, ...]


@dataclass(slots=True)
class DigestRun:
    """What a tick did, for logs and benchmarks."""

    due: int = 0
    queued_chats: int = 0
    pages: int = 0
    empty: int = 0
    skipped_late: int = 0
    lost_race: int = 0
    already_queued: int = 0
    renderings: int = 0
    build_seconds: float = 0.0
    write_seconds: float = 0.0
    queued: list[int] = field(default_factory=list)
    """Telegram ids of the chats that got pages."""


def slot_key(chat: ChatSettings, slot: datetime) -> str:
    """``daily:2026-11-29T07:00``: the scheduled slot in the chat's local time.

    A re-run of the same scheduled digest (double tick, crash before commit) names the same slot and so
    collides in the outbox; a slot moved by a settings change is a different digest.
    """
    return f"{DAILY_PREFIX}:{slot.astimezone(zone(chat.timezone)):%Y-%m-%dT%H:%M}"


def on_demand_key(now: datetime) -> str:
    return f"{ON_DEMAND_PREFIX}:{now.astimezone(UTC):%Y-%m-%dT%H:%M:%S}"


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The chat's zone; a name tzdata no longer knows falls back to UTC rather than stopping the tick."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown timezone %r: using UTC", name)
        return ZoneInfo("UTC")


def _digits(value: str) -> Digits:
    return cast(Digits, value if value in ("arabic", "western") else "arabic")


class DigestBuilder:
    """Builds digests for many chats from one set of candidate stories, sharing equal renderings.

    Stories are ranked and indexed once. Keyword topics are matched once per tick and *definition* (the
    keywords and exclusions; chats often define the same topic): each definition gets an internal key
    (``#kw1``, ``#kw2`` …) that is added to the topics of the stories it matches, after their own topics,
    so one index serves every chat and a story's primary topic still decides its section. A chat's
    keyword topic is then selected like a built-in one, under the name the chat gave it.

    It does no I/O: the caller hands it the stories, every keyword topic of the tick's chats, and each
    chat's already-sent story ids.
    """

    def __init__(
        self,
        stories: Sequence[DigestStory],
        *,
        now: datetime,
        policy: DigestPolicy,
        keyword_topics: Iterable[Topic] = (),
    ) -> None:
        self.now = now
        self.policy = policy
        self.since = now - policy.window
        ranked = rank_stories(stories)
        self._ids = frozenset(s.story_id for s in ranked)
        self._definitions: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}
        for topic in keyword_topics:
            self._definitions.setdefault(_definition(topic), f"#kw{len(self._definitions) + 1}")
        if self._definitions:
            ranked = self._tag_keyword_matches(ranked)
        self._ranked = ranked
        self._index = StoryIndex(ranked, presorted=True)
        self._muted_indexes: dict[frozenset[str], StoryIndex] = {}
        self._cache: dict[Hashable, tuple[tuple[DigestPage, ...], tuple[int, ...]]] = {}
        self._blocks = RenderCache()
        self.renderings = 0

    @property
    def story_ids(self) -> frozenset[int]:
        return self._ids

    def build(
        self,
        chat: ChatSettings,
        keyword_topics: Sequence[Topic] = (),
        sent: Collection[int] = (),
        alerted: Collection[int] = (),
    ) -> tuple[tuple[DigestPage, ...], tuple[int, ...]]:
        """(pages, story ids in them) of ``chat``'s digest; no pages when nothing matches.

        ``keyword_topics`` must have been given to the constructor (any chat's topic with the same
        definition will do). The chat's muted outlets, its length and the stories it already got an
        alert about (``alerted``, marked «سبق التنبيه») shape the result, see ``news.alerts``.
        """
        internal = {t.key: self._internal_key(t) for t in keyword_topics}
        wanted = tuple(dict.fromkeys([*(internal.get(k, k) for k in chat.topics), *internal.values()]))
        if not wanted:
            return (), ()
        names = tuple((internal[t.key], t.name_ar) for t in keyword_topics)
        short = chat.digest_length == SHORT
        per_topic = chat.per_topic or (SHORT_PER_TOPIC if short else self.policy.limit_per_topic)
        group = digest_group_key(
            topics=wanted,
            tz=chat.timezone,
            since=self.since,
            exclude_ids=self._ids.intersection(sent),
            digits=chat.digits,
            lang=chat.language,
            limit_per_topic=per_topic,
            limit_total=self.policy.limit_total,
        )
        marked = self._ids.intersection(alerted)
        variant = (chat.muted_sources, short, marked)
        key: Hashable = (group, names, variant) if names or any(variant) else group
        cached = self._cache.get(key)
        if cached is None:
            sections = self._index_for(chat.muted_sources).select(
                topics=wanted,
                since=self.since,
                topic_names={**_builtin_names(chat.language), **dict(names)}
                if names
                else _builtin_names(chat.language),
                exclude_ids=group.exclude_ids,
                limit_per_topic=per_topic,
                limit_total=self.policy.limit_total,
            )
            if short or marked:
                sections = [_shaped(section, short, marked, chat.language) for section in sections]
            cached = self._cache[key] = self._render(chat, sections)
        return cached

    def _index_for(self, muted: frozenset[str]) -> StoryIndex:
        """The story index as chats that muted ``muted`` see it: stories only muted outlets told are
        gone, the others name only unmuted outlets. Built once per distinct muted set and tick."""
        if not muted:
            return self._index
        index = self._muted_indexes.get(muted)
        if index is None:
            shown = (visible_story(s, muted) for s in self._ranked)
            index = self._muted_indexes[muted] = StoryIndex(rank_stories(s for s in shown if s is not None))
        return index

    def _internal_key(self, topic: Topic) -> str:
        key = self._definitions.get(_definition(topic))
        if key is None:
            raise ValueError(f"keyword topic {topic.key!r} was not given to the DigestBuilder")
        return key

    def _render(
        self, chat: ChatSettings, sections: Sequence[TopicSection]
    ) -> tuple[tuple[DigestPage, ...], tuple[int, ...]]:
        if not sections:
            return (), ()
        self.renderings += 1
        pages = render_digest(
            sections,
            now=self.now,
            tz=zone(chat.timezone),
            digits=_digits(chat.digits),
            lang=chat.language,
            cache=self._blocks,
        )
        # A merged entry also sends the stories folded into it, so none comes back as a repeat later.
        ids = tuple(
            dict.fromkeys(
                i
                for section in sections
                for story in section.stories
                for i in (story.story_id, *story.merged_ids)
            )
        )
        return tuple(pages), ids

    def _tag_keyword_matches(self, ranked: list[DigestStory]) -> list[DigestStory]:
        """``ranked`` with each story's matching keyword definitions appended to its topics.

        Matching looks at title and summary. A story is only given to a definition's matcher when it
        contains the first word of one of its keywords (a dictionary lookup), so the cost grows with
        the matches rather than with stories × definitions.
        """
        terms = [ArticleTerms.of(s.title, s.summary) for s in ranked]
        matchers: list[tuple[str, KeywordMatcher, tuple[str, ...]]] = []
        for (keywords, excluded), internal in self._definitions.items():
            topic = Topic(key=internal, name_ar=internal, keywords=keywords, excluded=excluded)
            firsts = tuple(dict.fromkeys(p[0] for p in map(keyword_phrase, keywords) if p))
            matchers.append((internal, KeywordMatcher(topic), firsts))
        firsts_all = tuple(dict.fromkeys(k for _, _, firsts in matchers for k in firsts))
        postings: dict[str, list[int]] = {k: [] for k in firsts_all}
        for i, story_terms in enumerate(terms):
            for k in firsts_all:
                if story_terms.has((k,)):
                    postings[k].append(i)
        extra: dict[int, list[str]] = {}
        for internal, matcher, firsts in matchers:
            candidates = sorted({i for k in firsts for i in postings[k]})
            for i in candidates:
                if matcher.matches(terms[i]):
                    extra.setdefault(i, []).append(internal)
        return [_with_topics(s, (*s.topics, *extra[i])) if i in extra else s for i, s in enumerate(ranked)]


def _shaped(section: TopicSection, short: bool, marked: frozenset[int], lang: str) -> TopicSection:
    """``section`` with summaries dropped (short digests) and alerted stories marked."""
    stories = tuple(
        alerted_earlier(s2, lang) if s2.story_id in marked else s2
        for s2 in (titles_only(s1) if short else s1 for s1 in section.stories)
    )
    return TopicSection(section.key, section.heading, stories)


def _definition(topic: Topic) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return (tuple(topic.keywords), tuple(topic.excluded))


def _with_topics(story: DigestStory, topics: tuple[str, ...]) -> DigestStory:
    """``story`` with other topics (``dataclasses.replace`` costs several times more)."""
    return DigestStory(
        story.story_id,
        story.title,
        story.url,
        story.summary,
        story.source,
        story.published_at,
        topics,
        story.other_sources,
        story.articles,
        story.merged_ids,
    )


@lru_cache(maxsize=8)
def _builtin_names(language: str) -> Mapping[str, str]:
    """Section headings of the built-in topics in the chat's language."""
    return {t.key: (t.name_ar if language == "ar" else t.name_en or t.name_ar) for t in BUILTIN_TOPICS}


# --- the scheduled tick ----------------------------------------------------------------------------


async def run_digests(db: Database, now: datetime, *, policy: DigestPolicy | None = None) -> DigestRun:
    """Queue the digest of every chat that is due at ``now``; skip slots missed beyond the catch-up window.

    Safe to run concurrently with itself and with ``queue_digest_now``: each chat's write is a
    compare-and-set on its schedule, so at most one run queues a given slot.
    """
    policy = policy or DigestPolicy()
    run = DigestRun()
    async with db.session() as s:
        due = await chat_store.due_chats(s, now)
    run.due = len(due)
    if not due:
        return run
    ready: list[ChatSettings] = []
    late: list[outbox.DigestWrite] = []
    for chat in due:
        tz = zone(chat.timezone)
        decision = digest_due(
            chat.next_digest_at, now, policy.catch_up, delivery_minute=chat.delivery_minute, tz=tz
        )
        if decision.due:
            ready.append(chat)
        elif decision.skip_to is not None:
            late.append(
                outbox.DigestWrite(
                    chat_pk=chat.id,
                    seen_next=chat.next_digest_at,
                    seen_last=chat.last_digest_at,
                    digest_key="",
                    next_at=next_edition_at(chat.editions, tz, now),
                )
            )
    if late:
        async with db.session() as s, s.begin():
            done = await outbox.write_digests(s, late, now=now)
        run.skipped_late = len(done.applied)
        log.info("digest: %d chats missed their slot beyond the catch-up window; moved on", len(done.applied))
    if not ready:
        return run

    started = time.perf_counter()
    digests = await build_digests(db, ready, now, policy=policy, run=run)
    run.build_seconds = time.perf_counter() - started

    started = time.perf_counter()
    writes = [
        outbox.DigestWrite(
            chat_pk=d.chat.id,
            seen_next=d.chat.next_digest_at,
            seen_last=d.chat.last_digest_at,
            digest_key=d.digest_key,
            pages=d.pages,
            story_ids=d.story_ids,
            next_at=next_edition_at(d.chat.editions, zone(d.chat.timezone), now),
            digest_at=now,
            due_at=d.chat.next_digest_at,
        )
        for d in digests
    ]
    by_pk = {d.chat.id: d for d in digests}
    for start in range(0, len(writes), policy.write_batch):
        batch = writes[start : start + policy.write_batch]
        async with db.session() as s, s.begin():
            done = await outbox.write_digests(s, batch, now=now)
        run.lost_race += len(batch) - len(done.applied)
        run.already_queued += len(done.already_queued)
        run.pages += done.pages
        for pk in done.applied - done.already_queued:
            if by_pk[pk].pages:
                run.queued_chats += 1
                run.queued.append(by_pk[pk].chat.telegram_id)
            else:
                run.empty += 1
    run.write_seconds = time.perf_counter() - started
    return run


class DayReview:
    """The day pass (``news.daypass.review_stories``) of the last set of stories, for the next request
    with the same set.

    Every digest built, on schedule or on request, reviews the whole window's stories: ~0.3–0.5 s of
    CPU for ~1,000 stories. Between two ingestion passes every reader who asks gets the same set, so a
    burst of /digest paid it once per reader. The set is compared whole (equal stories, in order): a
    new article, story or topic makes it a new set, reviewed again. The review runs on a thread, not on
    the event loop, which meanwhile keeps answering other readers (it gets the interpreter back at every
    switch interval); readers asking while a set is under review wait for that one review.
    """

    def __init__(self) -> None:
        self._stories: list[DigestStory] | None = None
        self._reviewed: list[DigestStory] = []
        self._running: tuple[list[DigestStory], asyncio.Future[list[DigestStory]]] | None = None
        self.computed = 0
        """Sets reviewed (not answered from the memo), for tests and figures."""

    async def __call__(self, stories: list[DigestStory]) -> list[DigestStory]:
        if self._stories is not None and self._stories == stories:
            return list(self._reviewed)
        if self._running is not None and self._running[0] == stories:
            return list(await asyncio.shield(self._running[1]))
        review = asyncio.ensure_future(asyncio.to_thread(review_stories, stories))
        self._running = (stories, review)

        def reviewed(done: asyncio.Future[list[DigestStory]]) -> None:
            # Kept even when the reader who started it has gone (its request cancelled).
            if self._running is not None and self._running[1] is done:
                self._running = None
            if not done.cancelled() and done.exception() is None:
                self._stories, self._reviewed = stories, done.result()
                self.computed += 1

        review.add_done_callback(reviewed)
        return list(await asyncio.shield(review))


day_review = DayReview()
"""The process's one memo: digest ticks and /digest share it."""


async def build_digests(
    db: Database,
    chats: Sequence[ChatSettings],
    now: datetime,
    *,
    policy: DigestPolicy,
    run: DigestRun | None = None,
    key: str | None = None,
) -> list[ChatDigest]:
    """Build (not queue) the digests of ``chats`` at ``now``; the read half of a tick, without side effects.

    Each digest is keyed by its chat's scheduled slot, or ``key`` when given (``/digest``).
    """
    async with db.session() as s:
        stories = await story_store.stories_since(s, now - policy.window, limit=policy.max_stories)
        # The day's second look: one entry per story told, articles about something else split off.
        stories = await day_review(stories)
        pks = [c.id for c in chats]
        keyword = await chat_store.keyword_topics_for(s, pks)
        sent = await outbox.sent_story_ids(
            s, pks, [i for st in stories for i in (st.story_id, *st.merged_ids)]
        )
        alerted = await alert_store.alerted_stories(s, pks, now - policy.window - timedelta(days=1))
    every_keyword_topic = [t for topics in keyword.values() for t in topics]
    builder = DigestBuilder(stories, now=now, policy=policy, keyword_topics=every_keyword_topic)
    out: list[ChatDigest] = []
    for chat in chats:
        try:
            pages, ids = builder.build(
                chat, keyword.get(chat.id, ()), sent.get(chat.id, ()), alerted.get(chat.id, ())
            )
        except Exception:  # one chat's bad data must not hold back everybody's digest
            log.exception(
                "digest: could not build the digest of chat %d; retrying next tick", chat.telegram_id
            )
            continue
        digest_key = key or slot_key(chat, chat.next_digest_at or now)
        out.append(ChatDigest(chat, digest_key, pages, ids))
    if run is not None:
        run.renderings = builder.renderings
    return out


# --- on request ------------------------------------------------------------------------------------


class NotSubscribed(LookupError):
    """``/digest`` in a chat that is unknown, paused with /stop, or that Telegram refuses."""


async def queue_digest_now(
    db: Database, telegram_id: int, now: datetime, *, policy: DigestPolicy | None = None
) -> int:
    """``/digest``: queue what this chat has not received yet, now; returns the pages queued (0: nothing new).

    The daily schedule is left as it is; the stories sent now are simply not repeated by the next
    scheduled digest. Raises ``NotSubscribed`` for a chat that is unknown, paused or refused by Telegram.
    """
    policy = policy or DigestPolicy()
    async with db.session() as s:
        chat = await chat_store.get_chat(s, telegram_id)
    if chat is None or not chat.delivering:
        raise NotSubscribed(telegram_id)
    built = await build_digests(db, [chat], now, policy=policy, key=on_demand_key(now))
    if not built or not built[0].pages:
        return 0
    digest = built[0]
    write = outbox.DigestWrite(
        chat_pk=chat.id,
        seen_next=chat.next_digest_at,
        seen_last=chat.last_digest_at,
        digest_key=digest.digest_key,
        pages=digest.pages,
        story_ids=digest.story_ids,
        digest_at=now,
    )
    async with db.session() as s, s.begin():
        done = await outbox.write_digests(s, [write], now=now)
    return done.pages


async def nothing_new(db: Database, telegram_id: int, now: datetime) -> DigestPage:
    """The one-line «لا جديد» answer to ``/digest``, in the chat's language, digits and timezone."""
    async with db.session() as s:
        chat = await chat_store.get_chat(s, telegram_id)
    if chat is None:
        return render_empty(now=now, tz=zone("UTC"))
    return render_empty(now=now, tz=zone(chat.timezone), digits=_digits(chat.digits), lang=chat.language)


async def preview_digest(
    db: Database, telegram_id: int, now: datetime, *, policy: DigestPolicy | None = None
) -> list[DigestPage]:
    """The pages this chat would get if its digest were built at ``now``; writes nothing."""
    policy = policy or DigestPolicy()
    async with db.session() as s:
        chat = await chat_store.get_chat(s, telegram_id)
    if chat is None:
        raise LookupError(f"chat {telegram_id} is not known")
    built = await build_digests(db, [chat], now, policy=policy)
    return list(built[0].pages) if built else []
