"""Telegram's HTML parse mode, re-implemented from its observable behaviour.

Why a hand-written scanner and not ``html.parser``: Telegram is much stricter than a browser. Any tag it
does not know is an error (``a < b`` unescaped is "Unsupported start tag"), only four named character
references exist, end tags must match, and errors report *byte* offsets into the UTF-8 input. Bots that
pass the emulator must pass Telegram, so the scanner follows the server's rules and error texts; the
caller adds the ``Bad Request: can't parse entities:`` prefix.

Offsets and lengths of the produced entities are in UTF-16 code units, as in the Bot API.
This module does not trim whitespace or detect URLs/commands: see :mod:`tests.emulator.entities`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji",
        "span", "pre", "code", "blockquote", "tg-time",
    }
)  # fmt: skip
_SIMPLE = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
}  # fmt: skip
_NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = frozenset(" \t\r\n\f\v")
_SPECIAL = re.compile(r"[<&]")

UserResolver = Callable[[int], dict[str, Any] | None]


class EntityParseError(ValueError):
    """The HTML is invalid; ``str(exc)`` is Telegram's text after "can't parse entities: "."""


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    utf16_offset: int
    entities_before: int = field(default=0)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: what Telegram counts for limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _char_units(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _decode_reference(text: str, pos: int) -> tuple[str, int] | None:
    """Decode ``&name;``/``&#N;``/``&#xH;`` at ``pos``; the semicolon is optional, as on Telegram.

    Returns the character and the index after the reference, or None when it is not one Telegram
    knows (the ``&`` then stays literal text).
    """
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        hexadecimal = end < n and text[end] in "xX"
        if hexadecimal:
            end += 1
        digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        start = end
        while end < n and text[end] in digits:
            end += 1
        if end == start:
            return None
        value = int(text[start:end], 16 if hexadecimal else 10)
        if value == 0 or value >= 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            return None
        char = chr(value)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        named = _NAMED_REFERENCES.get(text[pos + 1 : end])
        if named is None:
            return None
        char = named
    if end < n and text[end] == ";":
        end += 1
    return char, end


class _Parser:
    def __init__(self, text: str, resolve_user: UserResolver | None) -> None:
        self.text = text
        self.n = len(text)
        self.resolve_user = resolve_user
        self.out: list[str] = []
        self.utf16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def at(self, i: int) -> str:
        return self.text[i] if i < self.n else ""

    def byte_offset(self, i: int) -> int:
        return len(self.text[:i].encode("utf-8"))

    def fail(self, message: str) -> EntityParseError:
        return EntityParseError(message)

    def skip_spaces(self, i: int) -> int:
        while i < self.n and self.text[i] in _SPACES:
            i += 1
        return i

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        i = 0
        text = self.text
        while i < self.n:
            special = _SPECIAL.search(text, i)
            stop = special.start() if special else self.n
            if stop > i:  # a run of plain text, copied in one go
                chunk = text[i:stop]
                self.out.append(chunk)
                self.utf16 += utf16_len(chunk)
                i = stop
                continue
            if text[i] == "&":
                decoded = _decode_reference(text, i)
                char, i = decoded if decoded is not None else ("&", i + 1)
                self.out.append(char)
                self.utf16 += _char_units(char)
                continue
            i = self.end_tag(i) if self.at(i + 1) == "/" else self.start_tag(i)
        if self.stack:
            raise self.fail(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"')
        return "".join(self.out), self.entities

    def start_tag(self, begin: int) -> int:
        text = self.text
        i = begin + 1
        while i < self.n and text[i] not in _SPACES and text[i] != ">":
            i += 1
        if i >= self.n:
            raise self.fail(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        name = text[begin + 1 : i].lower()
        if name not in SUPPORTED_TAGS:
            raise self.fail(f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}')
        attrs: dict[str, str] = {}
        while self.at(i) != ">":
            i = self.skip_spaces(i)
            if self.at(i) == ">":
                break
            attr_begin = i
            while i < self.n and text[i] not in _SPACES and text[i] not in "=>":
                i += 1
            attr = text[attr_begin:i].lower()
            if not attr:
                raise self.fail(
                    f'Empty attribute name in the tag "{name}" at byte offset {self.byte_offset(begin)}'
                )
            i = self.skip_spaces(i)
            if self.at(i) != "=":
                if i >= self.n:
                    raise self.fail(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
                if name == "blockquote" and attr == "expandable":
                    attrs[attr] = ""
                    continue
                raise self.fail(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"at byte offset {self.byte_offset(begin)}"
                )
            i = self.skip_spaces(i + 1)
            if i >= self.n:
                raise self.fail(f'Unclosed start tag "{name}" at byte offset {self.byte_offset(begin)}')
            value, i = self.attribute_value(i)
            if i >= self.n:
                raise self.fail(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            attrs.setdefault(attr, value)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise self.fail(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(begin)}'
            )
        self.stack.append(_OpenTag(name, attrs, self.utf16, len(self.entities)))
        return i + 1

    def attribute_value(self, i: int) -> tuple[str, int]:
        text = self.text
        quote = text[i]
        if quote not in "'\"":
            start = i
            while i < self.n and ((text[i].isascii() and text[i].isalnum()) or text[i] in ".-"):
                i += 1
            if i < self.n and text[i] not in _SPACES and text[i] != ">":
                raise self.fail(f"Unexpected end of name token at byte offset {self.byte_offset(start)}")
            return text[start:i].lower(), i
        i += 1
        value: list[str] = []
        while i < self.n and text[i] != quote:
            if text[i] == "&":
                decoded = _decode_reference(text, i)
                if decoded is not None:
                    value.append(decoded[0])
                    i = decoded[1]
                    continue
            value.append(text[i])
            i += 1
        if i < self.n:
            i += 1
        return "".join(value), i

    def end_tag(self, begin: int) -> int:
        text = self.text
        if not self.stack:
            raise self.fail(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        i = begin + 2
        while i < self.n and text[i] not in _SPACES and text[i] != ">":
            i += 1
        end_name = text[begin + 2 : i].lower()
        i = self.skip_spaces(i)
        if self.at(i) != ">":
            raise self.fail(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        tag = self.stack.pop()
        if end_name and end_name != tag.name:
            raise self.fail(
                f'Unmatched end tag at byte offset {self.byte_offset(begin)}, expected "</{tag.name}>", '
                f'found "</{end_name}>"'
            )
        if self.utf16 > tag.utf16_offset:
            self.close(tag)
        return i + 1

    def close(self, tag: _OpenTag) -> None:
        offset = tag.utf16_offset
        length = self.utf16 - offset
        base: dict[str, Any] = {"offset": offset, "length": length}
        name = tag.name
        if name in _SIMPLE or name == "span":
            self.entities.append({"type": _SIMPLE.get(name, "spoiler"), **base})
        elif name == "blockquote":
            kind = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
            self.entities.append({"type": kind, **base})
        elif name == "tg-emoji":
            emoji_id = tag.attrs.get("emoji-id", "")
            if not emoji_id.isdigit():
                raise self.fail("Invalid custom emoji identifier specified")
            self.entities.append({"type": "custom_emoji", **base, "custom_emoji_id": emoji_id})
        elif name == "tg-time":
            self.close_time(tag, base)
        elif name == "a":
            self.close_link(tag, base)
        elif name == "code":
            self.close_code(tag, base)
        else:
            self.close_pre(base)

    def close_time(self, tag: _OpenTag, base: dict[str, Any]) -> None:
        unix = tag.attrs.get("unix", "")
        if not unix.isdigit():
            raise self.fail("Invalid Unix time specified")
        entity = {"type": "date_time", **base, "unix_time": int(unix)}
        if tag.attrs.get("format"):
            entity["date_time_format"] = tag.attrs["format"]
        self.entities.append(entity)

    def close_link(self, tag: _OpenTag, base: dict[str, Any]) -> None:
        url = tag.attrs.get("href") or "".join(self.out)[self._char_index(base["offset"]) :]
        user_id = _mention_user_id(url)
        if user_id is not None:
            user = self.resolve_user(user_id) if self.resolve_user else None
            if user is not None:
                self.entities.append({"type": "text_mention", **base, "user": user})
            return
        checked = check_link(url)
        if checked is not None:
            self.entities.append({"type": "text_link", **base, "url": checked})

    def close_code(self, tag: _OpenTag, base: dict[str, Any]) -> None:
        language = tag.attrs.get("class", "")
        language = language[len("language-") :] if language.startswith("language-") else ""
        last = self.entities[-1] if len(self.entities) > tag.entities_before else None
        if last and last["type"] == "pre" and _same_span(last, base) and "language" not in last:
            if language:
                last["language"] = language
            return
        entity = {"type": "code", **base}
        if language:
            entity["language"] = language
        self.entities.append(entity)

    def close_pre(self, base: dict[str, Any]) -> None:
        last = self.entities[-1] if self.entities else None
        if last and last["type"] == "code" and _same_span(last, base):
            last["type"] = "pre"
            # key order as Telegram sends it: type, offset, length, language
            language = last.pop("language", None)
            if language:
                last["language"] = language
            return
        self.entities.append({"type": "pre", **base})

    def _char_index(self, utf16_offset: int) -> int:
        units = 0
        for index, char in enumerate("".join(self.out)):
            if units >= utf16_offset:
                return index
            units += _char_units(char)
        return len("".join(self.out))


def _same_span(entity: dict[str, Any], base: dict[str, Any]) -> bool:
    return bool(entity["offset"] == base["offset"] and entity["length"] == base["length"])


def _mention_user_id(url: str) -> int | None:
    prefix = "tg://user?id="
    if url.lower().startswith(prefix) and url[len(prefix) :].isdigit():
        return int(url[len(prefix) :])
    return None


def check_link(url: str) -> str | None:
    """Normalize a link the way Telegram does, or None when Telegram would drop the entity.

    Telegram silently drops an ``<a>`` whose href is not a valid link rather than failing the message.
    """
    url = url.strip()
    if not url or any(ch in _SPACES for ch in url):
        return None
    scheme, sep, rest = url.partition("://")
    if not sep:
        host = url.split("/", 1)[0]
        return f"http://{url}" if "." in host.strip(".") else None
    if scheme.lower() in ("http", "https", "ftp"):
        host = rest.split("/", 1)[0].split("?", 1)[0]
        return url if host and ("." in host or host == "localhost") else None
    if scheme.lower() in ("tg", "ton"):
        return url if rest else None
    return None


def parse_html(text: str, resolve_user: UserResolver | None = None) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into plain text and entities (offsets in UTF-16 units, creation order)."""
    return _Parser(text, resolve_user).run()
