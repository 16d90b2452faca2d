"""Breaking-news rules, quiet hours, muted outlets and the alert message: plain data, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from news.alerts import (
    AlertRules,
    Report,
    alerted_earlier,
    breaking_moment,
    fresh_enough,
    is_urgent,
    quiet_now,
    render_alert,
    titles_only,
    visible_story,
)
from news.article import to_article
from news.models import DigestStory, FeedEntry, StorySource
from news.schedule import ScheduleInputError, parse_quiet, parse_times

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
RULES = AlertRules()


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_three_outlets_within_the_hour_break_at_the_third_report() -> None:
    reports = [Report("أ", at(0)), Report("ب", at(20)), Report("أ", at(30)), Report("ج", at(55))]
    assert breaking_moment(reports, RULES) == at(55)


def test_three_outlets_spread_over_more_than_an_hour_do_not_break() -> None:
    reports = [Report("أ", at(0)), Report("ب", at(40)), Report("ج", at(61))]
    assert breaking_moment(reports, RULES) is None
    # The window slides: a fourth report close to the last two makes three within the hour.
    assert breaking_moment([*reports, Report("د", at(90))], RULES) == at(90)


def test_one_outlet_repeating_itself_is_not_several_outlets() -> None:
    assert breaking_moment([Report("أ", at(i)) for i in range(10)], RULES) is None


def test_urgent_item_and_a_second_outlet_within_half_an_hour_break() -> None:
    assert breaking_moment([Report("أ", at(0), urgent=True), Report("ب", at(25))], RULES) == at(25)
    assert breaking_moment([Report("أ", at(0), urgent=True), Report("ب", at(31))], RULES) is None
    assert breaking_moment([Report("أ", at(0)), Report("ب", at(5))], RULES) is None
    # The second outlet may come first.
    assert breaking_moment([Report("ب", at(0)), Report("أ", at(20), urgent=True)], RULES) == at(20)


def test_thresholds_are_settings() -> None:
    strict = AlertRules(outlets=4, window=timedelta(minutes=10), urgent_window=timedelta(minutes=5))
    reports = [Report("أ", at(0)), Report("ب", at(4)), Report("ج", at(8))]
    assert breaking_moment(reports, RULES) == at(8)
    assert breaking_moment(reports, strict) is None
    assert breaking_moment([Report("أ", at(0), urgent=True), Report("ب", at(6))], strict) is None
    with pytest.raises(ValueError):
        AlertRules(outlets=1)


def test_stale_breaking_moments_do_not_alert() -> None:
    assert fresh_enough(at(0), at(60), RULES)
    assert not fresh_enough(at(0), at(60 * 3), RULES)


@pytest.mark.parametrize(
    ("title", "categories", "urgent"),
    [
        ("عاجل: انفجار في الميناء", (), True),
        ("انفجار", ("أخبار", "عاجل"), True),
        ("انفجار", ("رياضة",), False),
    ],
)
def test_urgent_flag_comes_from_title_or_category(
    title: str, categories: tuple[str, ...], urgent: bool
) -> None:
    assert is_urgent(title, categories) is urgent


def test_ingestion_keeps_the_urgent_flag_that_the_display_title_loses() -> None:
    entry = FeedEntry(guid=None, link="https://news.example/1", title="عاجل: زلزال يضرب المدينة")
    article = to_article(entry, source="وكالة", feed_url="https://news.example/rss")
    assert article is not None
    assert article.title == "زلزال يضرب المدينة"
    assert is_urgent(article.title, article.categories)


@pytest.mark.parametrize(
    ("minute", "start", "end", "quiet"),
    [
        (23 * 60 + 30, 23 * 60, 7 * 60, True),
        (3 * 60, 23 * 60, 7 * 60, True),
        (7 * 60, 23 * 60, 7 * 60, False),
        (12 * 60, 23 * 60, 7 * 60, False),
        (13 * 60, 12 * 60, 14 * 60, True),
        (14 * 60, 12 * 60, 14 * 60, False),
        (3 * 60, None, None, False),
    ],
)
def test_quiet_hours_may_wrap_midnight(minute: int, start: int | None, end: int | None, quiet: bool) -> None:
    assert quiet_now(minute, start, end) is quiet


STORY = DigestStory(
    story_id=7,
    title="زلزال يضرب المدينة",
    url="https://a.example/1",
    summary="ضرب زلزال بقوة ستة درجات المدينة فجر اليوم.",
    source="وكالة أ",
    published_at=T0,
    topics=("world",),
    other_sources=(
        StorySource("وكالة ب", "https://b.example/1", "زلزال قوي"),
        StorySource("وكالة ج", "https://c.example/1", "هزة أرضية"),
    ),
)


def test_muting_the_lead_outlet_lets_the_next_one_lead_and_names_only_unmuted_outlets() -> None:
    shown = visible_story(STORY, frozenset({"وكالة أ"}))
    assert shown is not None
    assert (shown.source, shown.title, shown.url) == ("وكالة ب", "زلزال قوي", "https://b.example/1")
    assert [o.source for o in shown.other_sources] == ["وكالة ج"]
    assert shown.summary == ""  # the muted outlet's words are not borrowed
    assert visible_story(STORY, frozenset({"وكالة أ", "وكالة ب", "وكالة ج"})) is None
    assert visible_story(STORY, frozenset({"غيرها"})) is STORY


def test_alert_message_is_short_escaped_and_names_its_sources() -> None:
    hostile = DigestStory(
        1, "<b>عاجل</b> & \u202e", "javascript:alert(1)", "سطر\nثان", "وكالة <x>", T0, (), ()
    )
    text = render_alert(hostile)
    assert "<x>" not in text and "&lt;x&gt;" in text and "javascript" not in text and "\u202e" not in text
    text = render_alert(STORY)
    assert text.count("\n") == 3
    assert "زلزال يضرب المدينة" in text and 'href="https://b.example/1"' in text
    assert "وكالة ج" in text and "٣ مصادر" in text
    assert "Breaking" in render_alert(STORY, lang="en", digits="western")


def test_digest_marks_and_short_length() -> None:
    assert alerted_earlier(STORY, "ar").title.startswith("🔔 سبق التنبيه")
    assert titles_only(STORY).summary == "" and titles_only(STORY).title == STORY.title


def test_up_to_four_edition_times() -> None:
    assert parse_times("19:00 07:00") == (7 * 60, 19 * 60)
    assert parse_times("٧:٠٠، 7 م") == (7 * 60, 19 * 60)
    assert parse_times("07:00 07:00") == (7 * 60,)
    with pytest.raises(ScheduleInputError) as err:
        parse_times("06:00 09:00 12:00 15:00 18:00")
    assert "٤" in str(err.value) and "/time" in str(err.value)
    with pytest.raises(ScheduleInputError):
        parse_times("25:00")


def test_quiet_hours_input() -> None:
    assert parse_quiet("23:00 07:00") == (23 * 60, 7 * 60)
    assert parse_quiet("off") is None
    for bad in ("23:00", "ليلا", "23:00 07:00 08:00", "07:00 07:00", "99:00 07:00"):
        with pytest.raises(ScheduleInputError) as err:
            parse_quiet(bad)
        assert "/quiet" in str(err.value)
