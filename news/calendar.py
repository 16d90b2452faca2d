"""Dates and digits as Arabic readers expect them: Gregorian and Umm al-Qura Hijri, ٠-٩ or 0-9.

The digest header shows both calendars because readers across the Arab world use both: the Gregorian
date with the month names used in Egypt and the Gulf (يناير … ديسمبر) and the Hijri date of the Umm
al-Qura calendar (the one Saudi Arabia publishes, computed by ``hijridate``). The Levantine month names
(كانون الثاني …) are not offered. Nothing here reads the clock: callers pass the date.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from hijridate import Gregorian

Digits = Literal["arabic", "western"]

WEEKDAYS_AR: tuple[str, ...] = ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد")
WEEKDAYS_EN: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
GREGORIAN_MONTHS_AR: tuple[str, ...] = (
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "مايو",
    "يونيو",
    "يوليو",
    "أغسطس",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "ديسمبر",
)
GREGORIAN_MONTHS_EN: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
HIJRI_MONTHS_AR: tuple[str, ...] = (
    "محرم",
    "صفر",
    "ربيع الأول",
    "ربيع الآخر",
    "جمادى الأولى",
    "جمادى الآخرة",
    "رجب",
    "شعبان",
    "رمضان",
    "شوال",
    "ذو القعدة",
    "ذو الحجة",
)
HIJRI_MONTHS_EN: tuple[str, ...] = (
    "Muharram",
    "Safar",
    "Rabi al-Awwal",
    "Rabi al-Thani",
    "Jumada al-Ula",
    "Jumada al-Akhirah",
    "Rajab",
    "Shaban",
    "Ramadan",
    "Shawwal",
    "Dhu al-Qadah",
    "Dhu al-Hijjah",
)

_TO_ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
# Both Arabic-Indic (U+0660) and Extended/Persian (U+06F0) digits fold to ASCII.
_TO_WESTERN = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)


def to_digits(s: str, digits: Digits) -> str:
    """Rewrite every digit in ``s`` in the chosen script; all other characters are left alone.

    Each digit is one UTF-16 unit in either script, so converting never changes a Telegram length.
    """
    return s.translate(_TO_ARABIC if digits == "arabic" else _TO_WESTERN)


def hijri(d: date) -> tuple[int, int, int] | None:
    """The Umm al-Qura (year, month, day) of ``d``, or ``None`` outside the calendar's published range.

    The Umm al-Qura tables cover 1343–1500 AH (1924–2077); rather than guess beyond them the header
    simply leaves the Hijri date out.
    """
    try:
        h = Gregorian(d.year, d.month, d.day).to_hijri()
    except OverflowError:
        return None
    return h.year, h.month, h.day


def arabic_date_line(d: date, digits: Digits = "arabic") -> str:
    """«الأحد ٢٩ نوفمبر ٢٠٢٦ م · ١٩ جمادى الآخرة ١٤٤٨ هـ» for ``d`` (a ``datetime`` counts by its date).

    The Hijri half is omitted when ``d`` is outside the Umm al-Qura range. This is a plain-text line:
    escaping and bidi marks are the renderer's job.
    """
    d = _as_date(d)
    line = f"{WEEKDAYS_AR[d.weekday()]} {d.day} {GREGORIAN_MONTHS_AR[d.month - 1]} {d.year} م"
    h = hijri(d)
    if h is not None:
        line += f" · {h[2]} {HIJRI_MONTHS_AR[h[1] - 1]} {h[0]} هـ"
    return to_digits(line, digits)


def english_date_line(d: date, digits: Digits = "western") -> str:
    """The English counterpart: «Sunday 29 November 2026 · 19 Jumada al-Akhirah 1448 AH»."""
    d = _as_date(d)
    line = f"{WEEKDAYS_EN[d.weekday()]} {d.day} {GREGORIAN_MONTHS_EN[d.month - 1]} {d.year}"
    h = hijri(d)
    if h is not None:
        line += f" · {h[2]} {HIJRI_MONTHS_EN[h[1] - 1]} {h[0]} AH"
    return to_digits(line, digits)


def date_line(d: date, digits: Digits, lang: str = "ar") -> str:
    """``arabic_date_line`` for ``lang == "ar"``, otherwise ``english_date_line``."""
    return arabic_date_line(d, digits) if lang == "ar" else english_date_line(d, digits)


def day_month(d: date, digits: Digits, lang: str = "ar") -> str:
    """A short «٢٨ نوفمبر» (or «28 November») used for stories from an earlier day."""
    d = _as_date(d)
    months = GREGORIAN_MONTHS_AR if lang == "ar" else GREGORIAN_MONTHS_EN
    return to_digits(f"{d.day} {months[d.month - 1]}", digits)


def _as_date(d: date) -> date:
    return d.date() if isinstance(d, datetime) else d
