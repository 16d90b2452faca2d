"""Schedule maths: delivery instants across DST, catch-up after downtime, feed backoff, user input."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from news.schedule import (
    COMMON_TIMEZONES,
    Decision,
    ScheduleInputError,
    digest_due,
    format_minute,
    next_check_at,
    next_digest_at,
    parse_time,
    parse_timezone,
)

LONDON = ZoneInfo("Europe/London")
CAIRO = ZoneInfo("Africa/Cairo")
BEIRUT = ZoneInfo("Asia/Beirut")
RIYADH = ZoneInfo("Asia/Riyadh")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- next_digest_at -----------------------------------------------------------------------------------


def test_next_digest_same_day_and_next_day() -> None:
    # 07:30 in Riyadh (UTC+3) is 04:30 UTC.
    assert next_digest_at(450, RIYADH, utc(2026, 11, 29, 1, 0)) == utc(2026, 11, 29, 4, 30)
    assert next_digest_at(450, RIYADH, utc(2026, 11, 29, 4, 30)) == utc(2026, 11, 30, 4, 30)  # strictly after
    assert next_digest_at(450, RIYADH, utc(2026, 11, 29, 5, 0)) == utc(2026, 11, 30, 4, 30)


def test_result_is_aware_utc_whatever_the_input_zone() -> None:
    after = datetime(2026, 11, 29, 7, 0, tzinfo=CAIRO)
    result = next_digest_at(8 * 60, CAIRO, after)
    assert result.tzinfo is UTC
    assert result.astimezone(CAIRO).hour == 8


def test_local_midnight_crossing_uses_local_date() -> None:
    # 23:30 UTC on the 28th is already 02:30 on the 29th in Riyadh: 01:00 local is next on the 30th.
    assert next_digest_at(60, RIYADH, utc(2026, 11, 28, 23, 30)) == utc(2026, 11, 29, 22, 0)


def test_spring_forward_gap_goes_at_end_of_gap() -> None:
    # London 2026-03-29: 01:00 GMT jumps to 02:00 BST; 01:30 does not exist.
    assert next_digest_at(90, LONDON, utc(2026, 3, 28, 12, 0)) == utc(2026, 3, 29, 1, 0)
    # The next day is back to normal: 01:30 BST = 00:30 UTC.
    assert next_digest_at(90, LONDON, utc(2026, 3, 29, 1, 0)) == utc(2026, 3, 30, 0, 30)
    # Beirut jumps at midnight (00:00 → 01:00 on 2026-03-29): a midnight digest goes at 01:00 local.
    result = next_digest_at(0, BEIRUT, utc(2026, 3, 28, 12, 0))
    assert result == utc(2026, 3, 28, 22, 0)
    assert result.astimezone(BEIRUT).strftime("%H:%M") == "01:00"


def test_fall_back_ambiguous_time_goes_once_at_first_occurrence() -> None:
    # London 2026-10-25: 02:00 BST falls back to 01:00 GMT; 01:30 happens twice.
    first = next_digest_at(90, LONDON, utc(2026, 10, 24, 12, 0))
    assert first == utc(2026, 10, 25, 0, 30)  # 01:30 BST
    # Right after the first occurrence (and during the second one) the next digest is tomorrow's.
    assert next_digest_at(90, LONDON, first) == utc(2026, 10, 26, 1, 30)
    assert next_digest_at(90, LONDON, utc(2026, 10, 25, 1, 15)) == utc(2026, 10, 26, 1, 30)


def test_one_delivery_per_local_day_over_a_year_with_dst() -> None:
    for tz in (LONDON, BEIRUT, ZoneInfo("America/New_York"), ZoneInfo("Africa/Casablanca"), CAIRO):
        for minute in (0, 90, 150, 7 * 60 + 30):
            at = utc(2026, 1, 1)
            days = []
            for _ in range(365):
                at = next_digest_at(minute, tz, at)
                days.append(at.astimezone(tz).date())
            assert len(set(days)) == 365, (tz, minute)
            assert all((b - a).days == 1 for a, b in itertools.pairwise(days)), (tz, minute)


def test_invalid_minute_and_naive_after_are_refused() -> None:
    with pytest.raises(ValueError):
        next_digest_at(1440, CAIRO, utc(2026, 1, 1))
    with pytest.raises(ValueError):
        next_digest_at(-1, CAIRO, utc(2026, 1, 1))
    with pytest.raises(ValueError):
        next_digest_at(60, CAIRO, datetime(2026, 1, 1))


# --- digest_due ----------------------------------------------------------------------------------------

NEXT = utc(2026, 11, 29, 4, 30)
CATCH_UP = timedelta(hours=3)


def test_not_due_before_and_without_schedule() -> None:
    assert digest_due(NEXT, NEXT - timedelta(seconds=1), CATCH_UP) == Decision(False, None)
    assert digest_due(None, NEXT, CATCH_UP) == Decision(False, None)


def test_due_at_time_and_within_catch_up() -> None:
    assert digest_due(NEXT, NEXT, CATCH_UP) == Decision(True, None)
    assert digest_due(NEXT, NEXT + CATCH_UP, CATCH_UP) == Decision(True, None)


def test_missed_beyond_catch_up_is_skipped_to_next_occurrence() -> None:
    late = NEXT + CATCH_UP + timedelta(minutes=1)
    decision = digest_due(NEXT, late, CATCH_UP, delivery_minute=450, tz=RIYADH)
    assert decision == Decision(False, utc(2026, 11, 30, 4, 30))
    # Down for three days: still one skip, to the first occurrence after now.
    decision = digest_due(NEXT, NEXT + timedelta(days=3, hours=4), CATCH_UP, delivery_minute=450, tz=RIYADH)
    assert decision == Decision(False, utc(2026, 12, 3, 4, 30))


def test_skip_without_schedule_steps_whole_days() -> None:
    decision = digest_due(NEXT, NEXT + timedelta(days=2, hours=5), CATCH_UP)
    assert decision == Decision(False, NEXT + timedelta(days=3))


def test_never_twice_when_the_caller_advances_after_sending() -> None:
    """Simulate ticks every minute around a late restart: exactly one send per day."""
    next_at: datetime | None = NEXT
    now = NEXT + timedelta(hours=1)  # came back an hour late, within catch-up
    sent = []
    for _ in range(3 * 24 * 60):
        decision = digest_due(next_at, now, CATCH_UP, delivery_minute=450, tz=RIYADH)
        if decision.due:
            sent.append(now)
            next_at = next_digest_at(450, RIYADH, now)
        elif decision.skip_to is not None:
            next_at = decision.skip_to
        now += timedelta(minutes=1)
    # Three days of ticks from 05:30 on the 29th reach 05:29 on 2 December: four local days, one each.
    assert sent == [
        NEXT + timedelta(hours=1),
        utc(2026, 11, 30, 4, 30),
        utc(2026, 12, 1, 4, 30),
        utc(2026, 12, 2, 4, 30),
    ]


def test_digest_due_validates_input() -> None:
    with pytest.raises(ValueError):
        digest_due(NEXT, NEXT, timedelta(minutes=-1))
    with pytest.raises(ValueError):
        digest_due(NEXT, datetime(2026, 11, 29), CATCH_UP)


# --- next_check_at -------------------------------------------------------------------------------------

NOW = utc(2026, 11, 29, 12, 0)
INTERVAL = timedelta(minutes=15)


def test_no_errors_means_the_interval() -> None:
    assert next_check_at(NOW, INTERVAL, 0, None) == NOW + INTERVAL


def test_backoff_grows_exponentially_within_jitter_and_is_capped() -> None:
    delays = [next_check_at(NOW, INTERVAL, n, None, seed=42) - NOW for n in range(1, 12)]
    for n, delay in enumerate(delays, start=1):
        nominal = min(INTERVAL * 2**n, timedelta(hours=24))
        assert nominal * 0.8 <= delay <= nominal, (n, delay)
    assert all(d <= timedelta(hours=24) for d in delays)
    assert delays[-1] >= timedelta(hours=24) * 0.8


def test_jitter_is_deterministic_per_seed_and_spreads_feeds() -> None:
    a = next_check_at(NOW, INTERVAL, 3, None, seed=1)
    assert a == next_check_at(NOW, INTERVAL, 3, None, seed=1)
    spread = {next_check_at(NOW, INTERVAL, 3, None, seed=feed_id) for feed_id in range(50)}
    assert len(spread) > 40
    assert next_check_at(NOW, INTERVAL, 3, None, seed=1, jitter=0) == NOW + INTERVAL * 8


def test_retry_after_wins_only_when_longer() -> None:
    assert next_check_at(NOW, INTERVAL, 0, 3600) == NOW + timedelta(hours=1)
    assert next_check_at(NOW, INTERVAL, 0, 60) == NOW + INTERVAL
    backoff = next_check_at(NOW, INTERVAL, 5, None, seed=9)
    assert next_check_at(NOW, INTERVAL, 5, 10, seed=9) == backoff
    assert next_check_at(NOW, INTERVAL, 0, 30 * 86400) == NOW + timedelta(days=7)  # capped
    for bogus in (float("nan"), float("inf"), -5.0):
        assert next_check_at(NOW, INTERVAL, 0, bogus) == NOW + INTERVAL


def test_huge_error_counts_do_not_overflow() -> None:
    assert next_check_at(NOW, INTERVAL, 10_000, None, seed=3) - NOW <= timedelta(hours=24)


def test_backoff_never_shorter_than_interval_even_with_a_small_cap() -> None:
    assert next_check_at(NOW, timedelta(hours=2), 3, None, cap=timedelta(hours=1)) == NOW + timedelta(hours=2)


def test_next_check_validates_input() -> None:
    with pytest.raises(ValueError):
        next_check_at(NOW, timedelta(0), 0, None)
    with pytest.raises(ValueError):
        next_check_at(NOW, INTERVAL, 1, None, jitter=1.5)
    with pytest.raises(ValueError):
        next_check_at(datetime(2026, 1, 1), INTERVAL, 0, None)


# --- parse_time / parse_timezone -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("07:30", 450),
        ("7:30", 450),
        ("٧:٣٠", 450),
        ("۷:۳۰", 450),
        ("19.30", 1170),
        ("19٫30", 1170),
        (" 0:00 ", 0),
        ("23:59", 1439),
        ("7", 420),
        ("0730", 450),
        ("7h30", 450),
        ("7:30 م", 1170),
        ("7:30 مساءً", 1170),
        ("12 ص", 0),
        ("12:15 م", 735),
        ("7:30 PM", 1170),
        ("6 am", 360),
    ],
)
def test_parse_time_accepts_what_users_type(text: str, minutes: int) -> None:
    assert parse_time(text) == minutes


@pytest.mark.parametrize(
    "text", ["25:99", "24:00", "7:60", "abc", "", "13 م", "0 ص", "7:3", "7:30 غدا", "1:2:3"]
)
def test_parse_time_rejects_with_arabic_message(text: str) -> None:
    with pytest.raises(ScheduleInputError) as info:
        parse_time(text)
    assert isinstance(info.value, ValueError)
    assert "غير صالح" in str(info.value)
    assert "00:00" in info.value.message_en


def test_format_minute_round_trips() -> None:
    assert format_minute(450) == "07:30"
    assert all(parse_time(format_minute(m)) == m for m in range(0, 1440, 7))
    with pytest.raises(ValueError):
        format_minute(1440)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Asia/Riyadh", "Asia/Riyadh"),
        ("asia/riyadh", "Asia/Riyadh"),
        ("  AFRICA/CAIRO ", "Africa/Cairo"),
        ("Cairo", "Africa/Cairo"),
        ("new york", "America/New_York"),
        ("القاهرة", "Africa/Cairo"),
        ("عمّان", "Asia/Amman"),
        ("UTC", "UTC"),
    ],
)
def test_parse_timezone_lookups(text: str, key: str) -> None:
    assert parse_timezone(text).key == key


@pytest.mark.parametrize("text", ["Mars/Base", "", "../../etc/passwd", "Asia/", "عمان"])
def test_parse_timezone_rejects_with_arabic_message(text: str) -> None:
    with pytest.raises(ScheduleInputError) as info:
        parse_timezone(text)
    assert "غير معروفة" in str(info.value)


def test_common_timezones_are_valid_and_cover_the_arab_world() -> None:
    keys = [k for k, _ in COMMON_TIMEZONES]
    assert len(keys) == len(set(keys))
    for key, label in COMMON_TIMEZONES:
        assert ZoneInfo(key).key == key
        assert label and parse_timezone(label).key == key
    for needed in (
        "Africa/Cairo",
        "Asia/Riyadh",
        "Asia/Dubai",
        "Asia/Baghdad",
        "Asia/Amman",
        "Asia/Beirut",
        "Asia/Damascus",
        "Asia/Jerusalem",
        "Asia/Gaza",
        "Asia/Kuwait",
        "Asia/Qatar",
        "Asia/Bahrain",
        "Asia/Muscat",
        "Asia/Aden",
        "Africa/Khartoum",
        "Africa/Tripoli",
        "Africa/Tunis",
        "Africa/Algiers",
        "Africa/Casablanca",
        "Africa/Nouakchott",
        "Europe/London",
        "Europe/Paris",
        "Europe/Berlin",
        "America/New_York",
    ):
        assert needed in keys
