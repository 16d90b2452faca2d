"""What Telegram does to a message text after parsing: trim, detect entities, clean nesting, sort.

A bot's sent message comes back from Telegram with whitespace trimmed at both ends, with URLs, @mentions,
#hashtags, $CASHTAGS, e-mail addresses and /commands detected automatically, with formatting inside
``code``/``pre`` removed and with entities sorted. Tests that compare what the bot sent with what a user
sees need the same, and user messages driven by tests need the ``bot_command`` entity that
python-telegram-bot's ``CommandHandler`` looks for.

Detection is a close approximation of Telegram's (bare domains without a scheme are not detected).
"""

from __future__ import annotations

import re
from typing import Any

from tests.emulator.html import utf16_len

_TRIM = " \t\r\n\f\v"

# Telegram's ordering for entities sharing a span (lower first): blockquotes outermost, formatting inner.
_PRIORITY = {
    "blockquote": 0, "expandable_blockquote": 0, "pre": 11, "code": 20, "text_link": 49,
    "text_mention": 49, "mention": 50, "hashtag": 50, "bot_command": 50, "url": 50, "email": 50,
    "cashtag": 50, "phone_number": 50, "bold": 90, "italic": 91, "underline": 92, "strikethrough": 93,
    "spoiler": 95, "date_time": 98, "custom_emoji": 99,
}  # fmt: skip
KNOWN_TYPES = frozenset(_PRIORITY)
# Entities that cannot overlap an automatically detected one (formatting can).
_SOLID = frozenset({"pre", "code", "text_link", "text_mention", "custom_emoji", "date_time"})

# (type, a character the match must contain — a cheap pre-check, pattern). Patterns start with their
# literal where they can, with the lookbehind after it, so that the regex engine scans for the literal.
_AUTO_PATTERNS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("url", ".", re.compile(r"(?<![\w@/.])(?:(?:https?|ftp)://|www\.)[^\s<>\"«»]+", re.IGNORECASE)),
    (
        "email",
        "@",
        re.compile(r"(?<![\w.+\-@])[A-Za-z0-9._+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"),
    ),
    (
        "bot_command",
        "/",
        re.compile(r"/(?<![\w/<>@#$]/)[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])"),
    ),
    ("mention", "@", re.compile(r"@(?<![\w@/.]@)[A-Za-z0-9_]{4,32}(?![\w@])")),
    ("hashtag", "#", re.compile(r"#(?<![\w#&]#)(?=\w*[^\W\d])\w{1,256}")),
    ("cashtag", "$", re.compile(r"\$(?<![\w$]\$)[A-Z]{1,8}(?![\w$])")),
)
_URL_TRAILING = ".,:;!?'\")]}"


class _Utf16Index:
    """Maps Python string indices to UTF-16 offsets in O(1) after one O(n) pass (only if needed)."""

    def __init__(self, text: str) -> None:
        self.prefix: list[int] | None = None
        if len(text) != utf16_len(text):
            units = 0
            prefix = [0]
            for char in text:
                units += 2 if ord(char) > 0xFFFF else 1
                prefix.append(units)
            self.prefix = prefix

    def __call__(self, index: int) -> int:
        return index if self.prefix is None else self.prefix[index]


def find_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram detects by itself, non-overlapping, offsets in UTF-16 units."""
    spans: list[tuple[int, int, str]] = []
    for kind, marker, pattern in _AUTO_PATTERNS:
        if marker not in text:
            continue
        for match in pattern.finditer(text):
            start, end = match.span()
            if kind == "url":
                while end > start and text[end - 1] in _URL_TRAILING:
                    end -= 1
            if end > start:
                spans.append((start, end, kind))
    spans.sort(key=lambda span: (span[0], -(span[1] - span[0])))
    to_utf16 = _Utf16Index(text)
    found: list[dict[str, Any]] = []
    last_end = -1
    for start, end, kind in spans:
        if start < last_end:
            continue
        last_end = end
        offset = to_utf16(start)
        found.append({"type": kind, "offset": offset, "length": to_utf16(end) - offset})
    return found


def trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip whitespace at both ends as Telegram does, moving and clipping entities along."""
    stripped_left = text.lstrip(_TRIM)
    result = stripped_left.rstrip(_TRIM)
    if result == text:
        return text, entities
    shift = utf16_len(text[: len(text) - len(stripped_left)])
    limit = utf16_len(result)
    fixed = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    return result, fixed


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(a["offset"] < b["offset"] + b["length"] and b["offset"] < a["offset"] + a["length"])


def _inside(inner: dict[str, Any], outer: dict[str, Any]) -> bool:
    return bool(
        outer["offset"] <= inner["offset"]
        and inner["offset"] + inner["length"] <= outer["offset"] + outer["length"]
    )


def sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)))


def finalize(text: str, explicit: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim, drop formatting inside code/pre, add detected entities, sort: the text Telegram stores."""
    text, explicit = trim(text, explicit)
    code_spans = [e for e in explicit if e["type"] in ("code", "pre")]
    if code_spans:
        explicit = [
            e for e in explicit
            if (e["type"] in ("code", "pre") and not any(c is not e and _inside(e, c) for c in code_spans))
            or (e["type"] not in ("code", "pre")
            and not any(_overlaps(e, c) and not _inside(c, e) for c in code_spans))
        ]  # fmt: skip
    solid = [e for e in explicit if e["type"] in _SOLID]
    detected = [d for d in find_entities(text) if not any(_overlaps(d, s) for s in solid)]
    return text, sort_entities(explicit + detected)


def validate_explicit(text: str, entities: list[Any]) -> list[dict[str, Any]]:
    """Keep well-formed entities given by the caller inside the text; Telegram ignores the rest."""
    limit = utf16_len(text)
    kept: list[dict[str, Any]] = []
    for entity in entities:
        if not isinstance(entity, dict) or entity.get("type") not in KNOWN_TYPES:
            continue
        try:
            offset, length = int(entity["offset"]), int(entity["length"])
        except (KeyError, TypeError, ValueError):
            continue
        end = min(offset + length, limit)
        if offset < 0 or end <= offset:
            continue
        kept.append({**entity, "offset": offset, "length": end - offset})
    return kept
