"""Schedule maths: when a chat's digest is next due, whether it is due now, when to check a feed again.

Every function takes ``now`` (or ``after``) as a parameter and returns aware UTC datetimes, so the
database can hold the schedule and a restart loses nothing. Local delivery times follow the chat's IANA
timezone through DST changes: a local time skipped by a spring-forward jump is delivered at the first
instant after the jump, and a local time that occurs twice in a fall-back night is delivered once, at its
first occurrence. Nothing here sleeps, reads the clock or stores anything.

It also parses what users type for a delivery time and a timezone, with Arabic error messages.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

MINUTES_PER_DAY = 24 * 60
MAX_EDITIONS = 4
"""Delivery times a chat may set: a morning, noon, evening and night edition at most."""
DEFAULT_BACKOFF_CAP = timedelta(hours=24)
RETRY_AFTER_CAP = timedelta(days=7)
"""Retry-After values beyond this are treated as this: a week is already "the server wants us gone"."""

COMMON_TIMEZONES: tuple[tuple[str, str], ...] = (
    ("Africa/Cairo", "القاهرة"),
    ("Asia/Riyadh", "الرياض"),
    ("Asia/Dubai", "دبي وأبوظبي"),
    ("Asia/Baghdad", "بغداد"),
    ("Asia/Amman", "عمّان"),
    ("Asia/Beirut", "بيروت"),
    ("Asia/Damascus", "دمشق"),
    ("Asia/Jerusalem", "القدس"),
    ("Asia/Hebron", "الخليل والضفة الغربية"),
    ("Asia/Gaza", "غزة"),
    ("Asia/Kuwait", "الكويت"),
    ("Asia/Qatar", "الدوحة"),
    ("Asia/Bahrain", "المنامة"),
    ("Asia/Muscat", "مسقط"),
    ("Asia/Aden", "صنعاء وعدن"),
    ("Africa/Khartoum", "الخرطوم"),
    ("Africa/Tripoli", "طرابلس (ليبيا)"),
    ("Africa/Tunis", "تونس"),
    ("Africa/Algiers", "الجزائر"),
    ("Africa/Casablanca", "الدار البيضاء والرباط"),
    ("Africa/Nouakchott", "نواكشوط"),
    ("Europe/London", "لندن"),
    ("Europe/Paris", "باريس"),
    ("Europe/Berlin", "برلين"),
    ("America/New_York", "نيويورك"),
)
"""(IANA name, Arabic label) offered to Arab-world chats and the diaspora, in display order."""


class ScheduleInputError(ValueError):
    """A user-typed time or timezone that cannot be used; ``str()`` is the Arabic message to show.

    ``message_en`` carries the English equivalent for English-speaking chats.
    """

    def __init__(self, message_ar: str, message_en: str = "") -> None:
        super().__init__(message_ar)
        self.message_ar = message_ar
        self.message_en = message_en or message_ar


class Decision(NamedTuple):
    """Outcome of ``digest_due``: send now (``due``), or move the schedule on to ``skip_to``."""

    due: bool
    skip_to: datetime | None


# --- delivery times ------------------------------------------------------------------------------------


def next_digest_at(delivery_minute: int, tz: ZoneInfo, after: datetime) -> datetime:
    """The first instant strictly after ``after`` when the local clock in ``tz`` shows ``delivery_minute``.

    ``delivery_minute`` counts minutes after local midnight (0–1439). A local time that does not exist
    (spring forward) resolves to the end of the gap; an ambiguous one (fall back) to its first
    occurrence only, so a digest is never scheduled twice in one local day.
    """
    if not 0 <= delivery_minute < MINUTES_PER_DAY:
        raise ValueError("delivery_minute must be in 0..1439")
    _require_aware(after)
    after = after.astimezone(UTC)
    start = after.astimezone(tz).date() - timedelta(days=1)
    hour, minute = divmod(delivery_minute, 60)
    for offset in range(4):
        day = start + timedelta(days=offset)
        candidate = _resolve_local(day, hour, minute, tz)
        if candidate > after:
            return candidate
    raise AssertionError("no delivery instant within four days")  # pragma: no cover - 24h always has one


def _resolve_local(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of local ``day hour:minute``, applying the gap and fold rules above."""
    naive = datetime(day.year, day.month, day.day, hour, minute)
    first = naive.replace(tzinfo=tz, fold=0)
    utc_first = first.astimezone(UTC)
    if utc_first.astimezone(tz).replace(tzinfo=None) == naive:
        return utc_first  # exists; with fold=0 it is the first occurrence when ambiguous
    # In a gap fold=0 reads the time with the offset from before the jump (an instant after the
    # transition) and fold=1 with the offset after it (an instant before): the transition lies between.
    utc_second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo, hi = sorted((utc_first, utc_second))
    return _transition(lo, hi, tz)


def next_edition_at(minutes: Sequence[int], tz: ZoneInfo, after: datetime) -> datetime:
    """The earliest next delivery instant among a chat's edition times (see ``next_digest_at``)."""
    if not minutes:
        raise ValueError("at least one edition time is needed")
    return min(next_digest_at(m, tz, after) for m in minutes)


def _transition(lo: datetime, hi: datetime, tz: ZoneInfo) -> datetime:
    """First whole minute in (lo, hi] whose UTC offset differs from lo's (binary search)."""
    base = lo.astimezone(tz).utcoffset()
    low, high = 0, int((hi - lo).total_seconds() // 60)
    while low < high:
        mid = (low + high) // 2
        if (lo + timedelta(minutes=mid)).astimezone(tz).utcoffset() == base:
            low = mid + 1
        else:
            high = mid
    return lo + timedelta(minutes=low)


def digest_due(
    next_at: datetime | None,
    now: datetime,
    catch_up: timedelta,
    *,
    delivery_minute: int | None = None,
    tz: ZoneInfo | None = None,
) -> Decision:
    """Is the digest scheduled for ``next_at`` due at ``now``?

    * before ``next_at`` (or no schedule yet): not due, nothing to change;
    * from ``next_at`` up to ``next_at + catch_up`` inclusive: due (after downtime the missed digest goes
      out once, late);
    * later than that: not due, and ``skip_to`` is the next occurrence after ``now``. Pass
      ``delivery_minute`` and ``tz`` for a DST-correct occurrence; without them the schedule moves on in
      whole 24-hour steps from ``next_at``.

    "Never twice" is the caller's half of the contract: after enqueueing a due digest, store
    ``next_digest_at(minute, tz, after=now)`` in the same transaction, which is strictly after ``now``.
    """
    _require_aware(now)
    if catch_up < timedelta(0):
        raise ValueError("catch_up must not be negative")
    if next_at is None or now < next_at:
        return Decision(due=False, skip_to=None)
    if now <= next_at + catch_up:
        return Decision(due=True, skip_to=None)
    if delivery_minute is not None and tz is not None:
        return Decision(due=False, skip_to=next_digest_at(delivery_minute, tz, now))
    days = math.floor((now - next_at) / timedelta(days=1)) + 1
    return Decision(due=False, skip_to=(next_at + timedelta(days=days)).astimezone(UTC))


# --- feed checks --------------------------------------------------------------------------------------


def next_check_at(
    now: datetime,
    interval: timedelta,
    error_count: int,
    retry_after: float | None,
    *,
    seed: int | str = 0,
    cap: timedelta = DEFAULT_BACKOFF_CAP,
    jitter: float = 0.2,
) -> datetime:
    """When to fetch a feed again.

    Without errors: ``now + interval``. After ``error_count`` consecutive errors the wait doubles per
    error (``interval * 2**error_count``), is capped at ``cap``, then shortened by up to ``jitter`` (a
    fraction) by an amount derived from ``seed`` (e.g. the feed id) and the error count — deterministic, so
    tests and restarts agree, yet feeds failing together do not retry in lockstep. A ``retry_after``
    (seconds, from the server) wins when it asks for longer, up to ``RETRY_AFTER_CAP``; negative or
    non-finite values are ignored.
    """
    _require_aware(now)
    if interval <= timedelta(0):
        raise ValueError("interval must be positive")
    if not 0 <= jitter < 1:
        raise ValueError("jitter must be in [0, 1)")
    delay = interval
    if error_count > 0:
        # 2**40 intervals exceed any sane cap; bounding the exponent keeps timedelta from overflowing.
        factor = 2 ** min(error_count, 40)
        delay = min(cap, interval * factor) if interval <= cap / factor else cap
        delay = max(interval, delay * (1 - jitter * _unit(seed, error_count)))
    if retry_after is not None and math.isfinite(retry_after) and retry_after > 0:
        delay = max(delay, min(timedelta(seconds=retry_after), RETRY_AFTER_CAP))
    return (now + delay).astimezone(UTC)


def _unit(seed: int | str, error_count: int) -> float:
    """A stable pseudo-random number in [0, 1) for (seed, error_count): CRC32, not Python's salted hash."""
    return zlib.crc32(f"{seed}:{error_count}".encode()) / 2**32


# --- user input ---------------------------------------------------------------------------------------

_TIME = re.compile(
    r"^(?P<h>\d{1,2})(?:\s*[:.\u066b\u060c,h]\s*(?P<m>\d{2}))?\s*(?P<ampm>[^\d\s].*)?$",
    re.IGNORECASE,
)
_COMPACT = re.compile(r"^\d{4}$")
_AM = {"am", "a.m.", "ص", "صباحا", "صباحًا", "صباحاً", "فجرا", "فجرًا"}
_PM = {"pm", "p.m.", "م", "مساء", "مساءً", "مساءا", "ظهرا", "ظهرًا", "عصرا", "عصرًا", "ليلا", "ليلًا"}
_DIGITS_IN = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)


def _time_error(text: str) -> ScheduleInputError:
    return ScheduleInputError(
        f"الوقت «{text}» غير صالح. اكتب الساعة والدقيقة بين ٠٠:٠٠ و٢٣:٥٩، مثل ٠٧:٣٠ أو ١٩:٣٠.",
        f"“{text}” is not a valid time. Write hours and minutes between 00:00 and 23:59, like 07:30.",
    )


def parse_time(text: str) -> int:
    """Minutes after midnight from what a user typed: «07:30», «7:30», «٧:٣٠», «19.30», «7», «7:30 م».

    Arabic-Indic digits, «:», «.», «٫» separators and ص/م or am/pm suffixes are understood; anything
    else, and any time outside 00:00–23:59, raises ``ScheduleInputError`` with an Arabic message.
    """
    raw = text.strip()
    folded = raw.translate(_DIGITS_IN)
    if _COMPACT.match(folded):  # «0730»
        folded = f"{folded[:2]}:{folded[2:]}"
    match = _TIME.match(folded)
    if match is None:
        raise _time_error(raw)
    hour = int(match["h"])
    minute = int(match["m"] or 0)
    suffix = (match["ampm"] or "").strip().lower()
    if suffix:
        if suffix in _AM:
            if not 1 <= hour <= 12:
                raise _time_error(raw)
            hour %= 12
        elif suffix in _PM:
            if not 1 <= hour <= 12:
                raise _time_error(raw)
            hour = hour % 12 + 12
        else:
            raise _time_error(raw)
    if hour > 23 or minute > 59:
        raise _time_error(raw)
    return hour * 60 + minute


def parse_times(text: str) -> tuple[int, ...]:
    """One to ``MAX_EDITIONS`` delivery times from «07:00 19:00» (spaces, commas or «،» between them),
    sorted, duplicates dropped. More times, or any bad one, raise ``ScheduleInputError`` (Arabic)."""
    parts = [p for p in re.split(r"[\s,،;]+", text.strip()) if p]
    # «7:30 م» is one time written as two words: glue an am/pm word to the time before it.
    merged: list[str] = []
    for part in parts:
        if merged and part.lower() in _AM | _PM:
            merged[-1] = f"{merged[-1]} {part}"
        else:
            merged.append(part)
    if not merged:
        raise _time_error(text.strip())
    if len(merged) > MAX_EDITIONS:
        raise ScheduleInputError(
            f"يمكن تحديد {to_arabic_digits(MAX_EDITIONS)} مواعيد في اليوم على الأكثر، وكتبت "
            f"{to_arabic_digits(len(merged))}. مثال: /time 07:00 19:00",
            f"At most {MAX_EDITIONS} delivery times a day; you wrote {len(merged)}. "
            "Example: /time 07:00 19:00",
        )
    return tuple(sorted({parse_time(p) for p in merged}))


def parse_quiet(text: str) -> tuple[int, int] | None:
    """Quiet hours from «23:00 07:00» (start, end; may wrap midnight), or ``None`` for «off»/«إيقاف».

    Anything else raises ``ScheduleInputError`` with an Arabic message naming the expected form.
    """
    raw = " ".join(text.split())
    if raw.lower() in ("off", "none", "إيقاف", "ايقاف", "لا"):
        return None
    usage = ScheduleInputError(
        f"لم أفهم «{raw}». اكتب بداية الهدوء ونهايته، مثل: /quiet 23:00 07:00 — أو /quiet off لإلغائه.",
        f"I could not read “{raw}”. Write the start and end, e.g. /quiet 23:00 07:00, or /quiet off.",
    )
    parts = [p for p in re.split(r"[\s,،\-–]+", raw) if p]
    if len(parts) != 2:
        raise usage
    try:
        start, end = parse_time(parts[0]), parse_time(parts[1])
    except ScheduleInputError:
        raise usage from None
    if start == end:
        raise ScheduleInputError(
            "بداية الهدوء ونهايته متساويتان. اكتب وقتين مختلفين، مثل: /quiet 23:00 07:00",
            "Start and end are the same. Write two different times, e.g. /quiet 23:00 07:00",
        )
    return start, end


def to_arabic_digits(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


def format_minute(minute: int) -> str:
    """«07:30» for 450; the inverse of ``parse_time`` in Western digits (convert with ``to_digits``)."""
    if not 0 <= minute < MINUTES_PER_DAY:
        raise ValueError("minute must be in 0..1439")
    return f"{minute // 60:02d}:{minute % 60:02d}"


@lru_cache(maxsize=1)
def _zone_lookup() -> dict[str, str]:
    """Lower-cased IANA names, and unambiguous city names and Arabic labels, → canonical IANA names."""
    names = available_timezones()
    lookup: dict[str, str] = {}
    cities: dict[str, set[str]] = {}
    for name in names:
        lookup[name.lower()] = name
        cities.setdefault(name.rsplit("/", 1)[-1].lower(), set()).add(name)
    for city, matches in cities.items():
        if len(matches) == 1 and city not in lookup:
            lookup[city] = next(iter(matches))
    for name, label in COMMON_TIMEZONES:
        lookup.setdefault(_fold_label(label), name)
    return lookup


def _fold_label(text: str) -> str:
    # Marks are kept on purpose: «عمّان» is Amman, while bare «عمان» may as well mean Oman.
    return " ".join(text.split()).lower()


def parse_timezone(name: str) -> ZoneInfo:
    """A ``ZoneInfo`` for what a user typed: an IANA name in any case («asia/riyadh»), a unique city
    («Cairo», «new york») or one of the Arabic labels of ``COMMON_TIMEZONES`` («القاهرة»).

    Unknown names («Mars/Base») raise ``ScheduleInputError`` with an Arabic message.
    """
    text = " ".join(name.split())
    key = _zone_lookup().get(text.lower()) or _zone_lookup().get(text.lower().replace(" ", "_"))
    key = key or _zone_lookup().get(_fold_label(text))
    if key is None:
        raise ScheduleInputError(
            f"المنطقة الزمنية «{text}» غير معروفة. اكتب اسمًا مثل Africa/Cairo أو Asia/Riyadh أو اسم مدينتك.",
            f"Unknown timezone “{text}”. Use a name like Africa/Cairo or Asia/Riyadh, or your city.",
        )
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - key came from tzdata
        raise ScheduleInputError(f"المنطقة الزمنية «{text}» غير معروفة.") from exc


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: pass timezone-aware values")
