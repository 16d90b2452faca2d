"""Use cases behind /alerts, /quiet, /sources and /length: what a chat receives beyond its topics.

Like ``jobs.subscriptions`` (whose ``SubscriptionError`` they raise, and whose ``require_chat`` they
use), each function is one unit of work and refuses bad input before changing anything: the reply names
what to type instead. Times go through ``news.schedule`` (Arabic messages of their own).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from jobs.alerts import ALERTS_PER_DAY_MAX, ALERTS_PER_DAY_MIN
from jobs.digest import FULL, SHORT
from jobs.subscriptions import SubscriptionError, require_chat
from news.arabic import normalize
from news.schedule import parse_quiet
from storage import chats as chat_store
from storage import feeds as feed_store
from storage.chats import ChatSettings
from storage.db import Database

OUTLET_WINDOW = timedelta(days=30)
"""Outlets that published in this window are offered by /sources."""
PER_TOPIC_MAX = 15

_ON = {"on", "yes", "تشغيل", "تفعيل", "نعم", "شغل", "فعل"}
_OFF = {"off", "no", "إيقاف", "ايقاف", "إلغاء", "الغاء", "لا", "أوقف", "اوقف"}
_SHORT = {"short", "قصيرة", "قصير", "مختصرة", "مختصر", "عناوين"}
_FULL = {"full", "كاملة", "كامل", "مفصلة", "مفصل"}
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")


def _word(text: str) -> str:
    return text.strip().lower()


async def set_alerts(db: Database, telegram_id: int, text: str) -> ChatSettings:
    """/alerts on|off|N: alerts on or off, or on with at most N a day (1–20).

    Unknown words and numbers out of range raise ``SubscriptionError("alerts_usage")``.
    """
    chat = await require_chat(db, telegram_id)
    changes: dict[str, object] = {}
    for part in text.split():
        word = _word(part)
        number = word.translate(_DIGITS)
        if word in _ON:
            changes["alerts"] = True
        elif word in _OFF:
            changes["alerts"] = False
        elif number.isdigit() and ALERTS_PER_DAY_MIN <= int(number) <= ALERTS_PER_DAY_MAX:
            changes.update(alerts=True, alerts_per_day=int(number))
        else:
            raise SubscriptionError(
                "alerts_usage", value=part, low=ALERTS_PER_DAY_MIN, high=ALERTS_PER_DAY_MAX
            )
    if not changes:
        raise SubscriptionError("alerts_usage", value=text, low=ALERTS_PER_DAY_MIN, high=ALERTS_PER_DAY_MAX)
    async with db.session() as s, s.begin():
        return await chat_store.update_chat(s, chat.telegram_id, **changes)


async def set_quiet(db: Database, telegram_id: int, text: str) -> ChatSettings:
    """/quiet 23:00 07:00 (or off): no alerts between these local times. Raises ``ScheduleInputError``."""
    chat = await require_chat(db, telegram_id)
    quiet = parse_quiet(text)
    start, end = quiet if quiet is not None else (None, None)
    async with db.session() as s, s.begin():
        return await chat_store.update_chat(s, chat.telegram_id, quiet_start=start, quiet_end=end)


async def set_length(db: Database, telegram_id: int, text: str) -> ChatSettings:
    """/length short|full [N]: titles only or with summaries, and optionally N stories per topic (1–15)."""
    chat = await require_chat(db, telegram_id)
    parts = text.split()
    if not parts or len(parts) > 2 or _word(parts[0]) not in _SHORT | _FULL:
        raise SubscriptionError("length_usage", value=text, high=PER_TOPIC_MAX)
    per_topic: int | None = None
    if len(parts) == 2:
        number = parts[1].translate(_DIGITS)
        if not number.isdigit() or not 1 <= int(number) <= PER_TOPIC_MAX:
            raise SubscriptionError("length_usage", value=text, high=PER_TOPIC_MAX)
        per_topic = int(number)
    length = SHORT if _word(parts[0]) in _SHORT else FULL
    async with db.session() as s, s.begin():
        return await chat_store.update_chat(s, chat.telegram_id, digest_length=length, per_topic=per_topic)


# --- sources ------------------------------------------------------------------------------------------


def outlet_token(name: str) -> str:
    """A short, stable token for an outlet's name: button data must stay within 64 bytes."""
    return f"{zlib.crc32(name.encode()):08x}"


@dataclass(frozen=True, slots=True)
class Outlets:
    """The outlets a chat can mute, and which of them it muted."""

    chat: ChatSettings
    names: tuple[str, ...]

    def muted(self, name: str) -> bool:
        return name in self.chat.muted_sources


async def outlets(db: Database, telegram_id: int, now: datetime) -> Outlets:
    chat = await require_chat(db, telegram_id)
    async with db.session() as s:
        names = await feed_store.outlet_names(s, now - OUTLET_WINDOW)
    # A muted outlet stays listed (to be unmuted) even if its feed went quiet.
    return Outlets(chat, tuple(sorted({*names, *chat.muted_sources})))


def _find(names: tuple[str, ...], wanted: str) -> str | None:
    by_token = {outlet_token(n): n for n in names}
    if wanted in by_token:
        return by_token[wanted]
    folded = normalize(" ".join(wanted.split())).lower()
    exact = [n for n in names if normalize(n).lower() == folded]
    if exact:
        return exact[0]
    partial = [n for n in names if folded and folded in normalize(n).lower()]
    return partial[0] if len(partial) == 1 else None


async def toggle_outlet(
    db: Database, telegram_id: int, wanted: str, now: datetime, *, mute: bool | None = None
) -> tuple[Outlets, str, bool]:
    """Mute (``mute=True``) or unmute one outlet by name (or button token), or flip it (``None``);
    returns (outlets, name, now muted). A button sets a state, so a press handled twice is harmless.

    A name that matches no outlet (or several) raises ``SubscriptionError("no_such_source")`` with the
    list of outlets, and changes nothing.
    """
    current = await outlets(db, telegram_id, now)
    name = _find(current.names, wanted)
    if name is None:
        raise SubscriptionError("no_such_source", name=wanted[:60], names="، ".join(current.names) or "—")
    before = set(current.chat.muted_sources)
    muted = before ^ {name} if mute is None else (before | {name} if mute else before - {name})
    async with db.session() as s, s.begin():
        chat = await chat_store.update_chat(s, telegram_id, muted_sources=muted)
    return Outlets(chat, current.names), name, name in muted
