"""Which stories go into a chat's digest, and under which topic heading.

Selection is a pure function of the candidate stories and the chat's choices; it never renders. The
digest tick builds digests for many chats at once, and most chats share a topic set, so the work is split:

* ``StoryIndex`` ranks the candidate stories once per tick (more distinct sources first, then newer) and
  keeps, per topic, the ranked positions of the stories carrying it;
* ``StoryIndex.select`` then walks only the stories of the chat's topics, in rank order, and stops as soon
  as the limits are met;
* ``digest_group_key`` names everything that decides the output, so chats with equal keys can share one
  selection and one rendering.

``select_stories`` is the one-call form for a single chat. Nothing here knows about users, databases or
Telegram.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from news.models import DigestStory

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TopicSection(NamedTuple):
    """One heading of a digest: the topic key, its display name and its stories in rank order."""

    key: str
    heading: str
    stories: tuple[DigestStory, ...]


class DigestGroupKey(NamedTuple):
    """Everything that decides a digest's selection and rendering, and nothing else.

    Two chats with equal keys at the same tick get byte-identical pages, so a builder can cache pages by
    this key. ``topics`` keeps the chat's order because sections follow it.
    """

    topics: tuple[str, ...]
    tz: str
    digits: str
    lang: str
    title: str
    since: datetime
    exclude_ids: frozenset[int]
    limit_per_topic: int
    limit_total: int
    preview_top_story: bool


def ordered_topics(topics: Collection[str]) -> tuple[str, ...]:
    """The chat's topics as an ordered, duplicate-free tuple.

    Sequences keep their order (the chat chose it); unordered collections such as sets are sorted so the
    result, and hence section order and cache keys, do not depend on hash seeds.
    """
    if isinstance(topics, str):
        raise TypeError("topics must be a collection of topic keys, not one string")
    items: Iterable[str] = topics if isinstance(topics, Sequence) else sorted(topics)
    return tuple(dict.fromkeys(items))


def digest_group_key(
    *,
    topics: Collection[str],
    tz: ZoneInfo | str,
    since: datetime,
    exclude_ids: Collection[int] = (),
    digits: str = "arabic",
    lang: str = "ar",
    title: str = "نشرة",
    limit_per_topic: int = 8,
    limit_total: int = 30,
    preview_top_story: bool = False,
) -> DigestGroupKey:
    """A hashable key for caching one chat's digest among chats with the same choices.

    ``since`` and ``exclude_ids`` are part of the key because they change the selection; chats delivered
    at the same minute with the same history share them. The topic-name mapping is not part of the key:
    it is the same for every chat of one tick.
    """
    return DigestGroupKey(
        topics=ordered_topics(topics),
        tz=tz if isinstance(tz, str) else tz.key,
        digits=digits,
        lang=lang,
        title=title,
        since=since.astimezone(UTC),
        exclude_ids=frozenset(exclude_ids),
        limit_per_topic=limit_per_topic,
        limit_total=limit_total,
        preview_top_story=preview_top_story,
    )


def rank_key(story: DigestStory) -> tuple[int, float, int]:
    """Sort key: more distinct sources first, then newer, then lower id (for a stable total order).

    Stories without a date sort last among equals.
    """
    published = story.published_at or _EPOCH
    return (-story.source_count, -(published - _EPOCH).total_seconds(), story.story_id)


def rank_stories(stories: Iterable[DigestStory]) -> list[DigestStory]:
    """``stories`` in digest order; pass the result with ``presorted=True`` to skip re-sorting."""
    return sorted(stories, key=rank_key)


class StoryIndex:
    """Candidate stories ranked once, with per-topic position lists for fast per-chat selection.

    Building costs one sort (or one pass with ``presorted=True``). Each ``select`` then walks, for each of
    the chat's topics, only that topic's stories in rank order and stops once the section is full, so its
    cost follows the stories it looks at rather than the whole pool.
    """

    __slots__ = ("_by_topic", "_ids", "_ranked", "_times", "_topics")

    def __init__(self, stories: Iterable[DigestStory], *, presorted: bool = False) -> None:
        self._ranked: list[DigestStory] = list(stories) if presorted else rank_stories(stories)
        by_topic: dict[str, list[int]] = {}
        # Plain per-position columns: the walk compares floats and ints instead of datetimes.
        self._times = [
            (s.published_at - _EPOCH).total_seconds() if s.published_at else -math.inf for s in self._ranked
        ]
        self._ids = [s.story_id for s in self._ranked]
        self._topics = [tuple(dict.fromkeys(s.topics)) for s in self._ranked]
        for position, topics in enumerate(self._topics):
            for topic in topics:
                by_topic.setdefault(topic, []).append(position)
        self._by_topic = by_topic

    def __len__(self) -> int:
        return len(self._ranked)

    def select(
        self,
        *,
        topics: Collection[str],
        since: datetime,
        topic_names: Mapping[str, str] | None = None,
        exclude_ids: Collection[int] = (),
        limit_per_topic: int = 8,
        limit_total: int = 30,
    ) -> list[TopicSection]:
        """The chat's sections, in the chat's topic order, empty sections left out.

        A story is kept when it carries one of the chat's topics, is not in ``exclude_ids`` (already sent)
        and was published strictly after ``since``; undated stories are left out since they cannot be
        shown to be new. A story appears once: under its primary (first) topic when the chat follows it,
        otherwise under the first of the chat's topics it carries. Each section keeps its best
        ``limit_per_topic`` stories; of those, the best ``limit_total`` overall are shown. A story whose
        section is full is dropped rather than moved, so a section never shows stories that belong
        elsewhere. Headings come from ``topic_names`` (key → display name), falling back to the key.
        """
        if limit_per_topic < 1 or limit_total < 1:
            raise ValueError("digest limits must be positive")
        wanted = ordered_topics(topics)
        order = {topic: i for i, topic in enumerate(wanted)}
        excluded = exclude_ids if isinstance(exclude_ids, (set, frozenset)) else frozenset(exclude_ids)
        after = (since - _EPOCH).total_seconds()
        times, ids, story_topics = self._times, self._ids, self._topics

        picked: list[int] = []
        for topic in wanted:
            found = 0
            for position in self._by_topic.get(topic, ()):
                if times[position] <= after or ids[position] in excluded:
                    continue
                carried = story_topics[position]
                if carried[0] != topic and _placement(carried, order) != topic:
                    continue  # shown under another of the chat's topics
                picked.append(position)
                found += 1
                if found >= limit_per_topic:
                    break
        picked.sort()
        chosen: dict[str, list[DigestStory]] = {}
        for position in picked[:limit_total]:
            chosen.setdefault(_placement(story_topics[position], order), []).append(self._ranked[position])

        names = topic_names or {}
        return [
            TopicSection(key, names.get(key, key), tuple(chosen[key])) for key in wanted if chosen.get(key)
        ]


def select_stories(
    stories: Sequence[DigestStory],
    *,
    topics: Collection[str],
    since: datetime,
    topic_names: Mapping[str, str] | None = None,
    exclude_ids: Collection[int] = (),
    limit_per_topic: int = 8,
    limit_total: int = 30,
    presorted: bool = False,
) -> list[TopicSection]:
    """One chat's digest sections from ``stories``; see ``StoryIndex.select`` for the rules.

    For many chats build one ``StoryIndex`` instead: this form re-indexes the stories on every call
    (O(n) with ``presorted=True``, O(n log n) otherwise).
    """
    return StoryIndex(stories, presorted=presorted).select(
        topics=topics,
        since=since,
        topic_names=topic_names,
        exclude_ids=exclude_ids,
        limit_per_topic=limit_per_topic,
        limit_total=limit_total,
    )


def _placement(carried: tuple[str, ...], order: Mapping[str, int]) -> str:
    """The chat topic a story is shown under: its primary topic if followed, else the chat's first."""
    if carried[0] in order:
        return carried[0]
    return min((t for t in carried if t in order), key=order.__getitem__)
