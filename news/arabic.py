"""Arabic normalization for matching, tokenization and light stemming.

Normalization here is for *matching* only (topics, dedup, search): it folds spelling variants that
Arabic writers use interchangeably, so it must never be applied to text shown to readers.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

# Tashkeel (U+064B–U+065F), superscript alef (U+0670), Quranic marks, tatweel.
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
# Zero-width and bidi controls that sneak in from CMS editors.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u061c]")
_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        "ی": "ي",  # Persian yeh
        "ک": "ك",  # Persian kaf
        **{chr(0x0660 + d): str(d) for d in range(10)},
        **{chr(0x06F0 + d): str(d) for d in range(10)},
    }
)
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def normalize(text: str) -> str:
    """Fold ``text`` to its matching form: NFKC, no marks, unified letters, Western digits, lower case."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _DIACRITICS.sub("", text)
    return text.translate(_FOLD).lower()


def tokenize(text: str) -> list[str]:
    """Normalized word tokens; punctuation and symbols separate words and are dropped."""
    return _TOKEN.findall(normalize(text))


_stemmer = Stemmer.Stemmer("arabic")


@lru_cache(maxsize=200_000)
def stem(token: str) -> str:
    """Light stem of one normalized token (Snowball Arabic), cached since news vocabularies repeat."""
    return str(_stemmer.stemWord(token))


def stems(text: str) -> list[str]:
    """Tokenize and stem ``text`` in one call."""
    return [stem(t) for t in tokenize(text)]
