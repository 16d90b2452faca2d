"""Which charset a feed's bytes are really in, when the one it declares cannot be right.

Older Arabic sites serve windows-1256 bytes while both the HTTP header and the XML declaration say
UTF-8. The bytes are then invalid UTF-8, and feedparser's own fallback (windows-1252) turns every
Arabic word into mojibake such as «ÇáÍßæãÉ». Nothing in the document says the truth, so the
content has to: decoded in the right charset Arabic prose is almost all Arabic letters, while a wrong
single-byte charset gives Latin letters and symbols, UTF-8 read as windows-1256 gives «ط§ظ„» pairs
(every other character a symbol or a Persian letter) and windows-1256 read as UTF-8 gives replacement
characters.

The rule is deliberately narrow: a declaration the bytes are valid in is trusted as it is (a feed
that decodes cleanly is never second-guessed, so correct feeds cost one decode and change nothing),
and only when the declared charset fails (or is unknown) do the candidates compete by that share.
What this does not do: guess for feeds that declare nothing (RFC 3023's defaults stay feedparser's),
nor detect a Latin-1 declaration over Arabic bytes (every byte is valid Latin-1, so nothing fails).
No I/O: bytes and header values in, a codec name out.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Mapping
from typing import Final

# Candidates besides the declared charsets; on a tie the earlier one wins (windows-1252 before
# windows-1256: a document with no Arabic at all is more likely Western, as feedparser assumes).
FALLBACKS: Final = ("utf-8", "windows-1252", "windows-1256")
SAMPLE_BYTES: Final = 64 * 1024
"""Only this much of the body is scored: a feed's charset does not change halfway through."""

_BOMS: Final = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_XML_ENCODING: Final = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_HTTP_CHARSET: Final = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.I)
_NON_ASCII: Final = re.compile(r"[^\x00-\x7f]")
# What Arabic news prose is made of beyond ASCII: the letters of Modern Standard Arabic, tatweel and
# harakat, Arabic-Indic digits, Arabic punctuation, and the quotes, dashes and spaces outlets use.
_ARABIC_PROSE: Final = re.compile(
    "[\u060c\u061b\u061f\u0621-\u063a\u0640-\u0652\u0660-\u0669«»…–—‘’“”\u00a0]"
)


def _codec(name: str) -> str | None:
    """Python's canonical name of a declared charset, or None when Python does not know it."""
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        return None


def declared_charsets(body: bytes, headers: Mapping[str, str]) -> list[str]:
    """The charsets a document claims, strongest first: its BOM, the HTTP ``charset``, its XML declaration.

    Names are as declared (unknown ones included, so a caller can see the claim failed); empty when the
    document claims nothing. ``headers`` keys may be in any case.
    """
    claims: list[str] = [name for bom, name in _BOMS if body.startswith(bom)][:1]
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if http := _HTTP_CHARSET.search(content_type):
        claims.append(http.group(1))
    if xml := _XML_ENCODING.match(body.lstrip(codecs.BOM_UTF8)[:512]):
        claims.append(xml.group(1).decode("ascii"))
    return claims


def arabic_share(text: str) -> float:
    """Share of the non-ASCII characters of ``text`` that Arabic prose is made of (0 when there are none).

    Replacement characters (U+FFFD) count against it: they are bytes the charset could not read.
    """
    foreign = len(_NON_ASCII.findall(text))
    return len(_ARABIC_PROSE.findall(text)) / foreign if foreign else 0.0


def _decodes(body: bytes, codec: str) -> bool:
    try:
        body.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _unique(names: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(n for n in names if n))


def content_charset(body: bytes, declared: list[str]) -> str | None:
    """The charset to read ``body`` in instead of the declared one, or None when the declaration stands.

    None when nothing is declared or when the strongest claim names a charset Python knows and the
    bytes decode in it without error. Otherwise every candidate (the other declared charsets, UTF-8,
    windows-1252, windows-1256) decodes a sample with errors replaced, and the one whose text has the
    largest Arabic-prose share wins; on a tie (no Arabic at all) one that reads every byte, then the
    earlier candidate. The winner may still not decode every byte (a UTF-8 feed with one stray byte):
    callers decode with ``errors="replace"``.
    """
    if not declared:
        return None
    known = _unique(_codec(name) for name in declared)
    first_claim = _codec(declared[0])
    if first_claim is not None and _decodes(body, first_claim):
        return None
    candidates = _unique([*known, *(_codec(n) for n in FALLBACKS)])
    if first_claim in candidates:
        candidates.remove(first_claim)
        candidates.append(first_claim)  # it already failed: it wins only when nothing does better
    sample = body[:SAMPLE_BYTES]

    def score(codec: str) -> tuple[float, bool, int]:
        text = sample.decode(codec, "replace")
        # a multi-byte character cut by the sample's end is not the charset's fault
        return arabic_share(text), "\ufffd" not in text[:-4], -candidates.index(codec)

    return max(candidates, key=score)
