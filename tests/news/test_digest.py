"""Story selection for a chat's digest: filtering, ranking, placement, limits and group keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from news.digest import (
    StoryIndex,
    TopicSection,
    digest_group_key,
    ordered_topics,
    rank_stories,
    select_stories,
)
from news.models import DigestStory, StorySource

NOW = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=1)
NAMES = {"politics": "سياسة", "economy": "اقتصاد", "sports": "رياضة", "kw:gaza": "غزة"}


def story(
    story_id: int,
    *,
    topics: tuple[str, ...] = ("politics",),
    hours_ago: float = 1.0,
    sources: int = 1,
    published: datetime | bool | None = True,
) -> DigestStory:
    others = tuple(
        StorySource(f"outlet-{k}", f"https://o{k}.example/{story_id}", "t") for k in range(sources - 1)
    )
    when = NOW - timedelta(hours=hours_ago) if published is True else published
    return DigestStory(
        story_id=story_id,
        title=f"خبر {story_id}",
        url=f"https://example.com/{story_id}",
        summary="ملخص",
        source="primary",
        published_at=when if isinstance(when, datetime) else None,
        topics=topics,
        other_sources=others,
    )


def ids(sections: list[TopicSection]) -> list[tuple[str, list[int]]]:
    return [(s.key, [x.story_id for x in s.stories]) for s in sections]


def test_filters_topics_exclusions_and_since() -> None:
    stories = [
        story(1),
        story(2, topics=("sports",)),
        story(3),
        story(4, hours_ago=30),  # older than since
        story(5, published=None),  # undated: cannot be shown to be new
        story(6, hours_ago=24),  # exactly at since: not newer
    ]
    sections = select_stories(stories, topics=["politics"], since=SINCE, exclude_ids={3}, topic_names=NAMES)
    assert ids(sections) == [("politics", [1])]
    assert sections[0].heading == "سياسة"


def test_ranks_by_distinct_sources_then_recency() -> None:
    stories = [story(1, hours_ago=1), story(2, hours_ago=5, sources=3), story(3, hours_ago=2, sources=3)]
    assert ids(select_stories(stories, topics=["politics"], since=SINCE)) == [("politics", [3, 2, 1])]


def test_duplicate_outlet_names_do_not_count_as_sources() -> None:
    base = story(1, hours_ago=5)
    same_outlet = DigestStory(
        story_id=2,
        title="x",
        url="https://e.com/2",
        summary="",
        source="primary",
        published_at=NOW - timedelta(hours=1),
        topics=("politics",),
        other_sources=(StorySource("primary", "https://e.com/3", "t"),) * 3,
    )
    assert same_outlet.source_count == 1
    # Equal source counts: the newer story wins.
    assert ids(select_stories([base, same_outlet], topics=["politics"], since=SINCE)) == [
        ("politics", [2, 1])
    ]


def test_each_story_once_under_primary_topic_when_followed() -> None:
    stories = [story(1, topics=("economy", "politics")), story(2, topics=("politics",))]
    sections = select_stories(stories, topics=["politics", "economy"], since=SINCE, topic_names=NAMES)
    assert ids(sections) == [("politics", [2]), ("economy", [1])]


def test_story_goes_under_first_followed_topic_in_chat_order() -> None:
    stories = [story(1, topics=("economy", "sports", "politics"))]
    sections = select_stories(stories, topics=["politics", "sports"], since=SINCE, topic_names=NAMES)
    assert ids(sections) == [("politics", [1])]
    sections = select_stories(stories, topics=["sports", "politics"], since=SINCE, topic_names=NAMES)
    assert ids(sections) == [("sports", [1])]


def test_sections_follow_chat_order_and_skip_empty() -> None:
    stories = [story(1, topics=("economy",)), story(2, topics=("politics",))]
    sections = select_stories(stories, topics=["sports", "economy", "politics"], since=SINCE)
    assert [s.key for s in sections] == ["economy", "politics"]


def test_unordered_topics_are_sorted_for_determinism() -> None:
    assert ordered_topics({"sports", "economy", "politics"}) == ("economy", "politics", "sports")
    assert ordered_topics(["sports", "economy", "sports"]) == ("sports", "economy")
    with pytest.raises(TypeError):
        ordered_topics("politics")


def test_limits_per_topic_and_total() -> None:
    stories = [story(i, hours_ago=i / 10) for i in range(1, 20)]
    stories += [story(100 + i, topics=("economy",), hours_ago=i / 10) for i in range(1, 20)]
    sections = select_stories(stories, topics=["politics", "economy"], since=SINCE, limit_per_topic=4)
    assert ids(sections) == [("politics", [1, 2, 3, 4]), ("economy", [101, 102, 103, 104])]
    sections = select_stories(
        stories, topics=["politics", "economy"], since=SINCE, limit_per_topic=8, limit_total=5
    )
    # The five best-ranked (newest) across both topics, each in its own section.
    assert ids(sections) == [("politics", [1, 2, 3]), ("economy", [101, 102])]
    with pytest.raises(ValueError):
        select_stories(stories, topics=["politics"], since=SINCE, limit_total=0)


def test_custom_keyword_topic_heading_and_fallback() -> None:
    stories = [story(1, topics=("kw:gaza",)), story(2, topics=("kw:other",))]
    sections = select_stories(stories, topics=["kw:gaza", "kw:other"], since=SINCE, topic_names=NAMES)
    assert [(s.key, s.heading) for s in sections] == [("kw:gaza", "غزة"), ("kw:other", "kw:other")]


def test_index_matches_one_shot_selection_and_presorted_input() -> None:
    stories = [
        story(
            i,
            topics=(("politics", "economy", "sports")[i % 3], "economy"),
            hours_ago=i % 7,
            sources=i % 4 + 1,
        )
        for i in range(1, 60)
    ]
    ranked = rank_stories(stories)
    index = StoryIndex(ranked, presorted=True)
    assert len(index) == 59
    for topics in (["politics"], ["sports", "economy"], ["economy", "politics", "sports"]):
        expected = select_stories(stories, topics=topics, since=SINCE, topic_names=NAMES, exclude_ids={5, 6})
        got = index.select(topics=topics, since=SINCE, topic_names=NAMES, exclude_ids=[5, 6])
        assert got == expected
        assert (
            select_stories(
                ranked, topics=topics, since=SINCE, topic_names=NAMES, exclude_ids={5, 6}, presorted=True
            )
            == expected
        )
        seen = [x.story_id for s in got for x in s.stories]
        assert len(seen) == len(set(seen))
        assert not {5, 6} & set(seen)


def test_group_key_names_everything_that_changes_output() -> None:
    tz = ZoneInfo("Africa/Cairo")
    base = digest_group_key(topics=["politics", "sports"], tz=tz, since=SINCE, exclude_ids=[3, 1])
    assert base == digest_group_key(
        topics=("politics", "sports"), tz="Africa/Cairo", since=SINCE, exclude_ids={1, 3}
    )
    assert hash(base) == hash(
        digest_group_key(topics=["politics", "sports"], tz=tz, since=SINCE, exclude_ids=(1, 3))
    )
    variants = [
        digest_group_key(topics=["sports", "politics"], tz=tz, since=SINCE, exclude_ids=[1, 3]),
        digest_group_key(topics=["politics", "sports"], tz="Asia/Riyadh", since=SINCE, exclude_ids=[1, 3]),
        digest_group_key(
            topics=["politics", "sports"], tz=tz, since=SINCE, exclude_ids=[1, 3], digits="western"
        ),
        digest_group_key(topics=["politics", "sports"], tz=tz, since=NOW, exclude_ids=[1, 3]),
        digest_group_key(topics=["politics", "sports"], tz=tz, since=SINCE, exclude_ids=[1]),
        digest_group_key(topics=["politics", "sports"], tz=tz, since=SINCE, exclude_ids=[1, 3], lang="en"),
    ]
    assert all(v != base for v in variants)
    assert len(set(variants)) == len(variants)
