"""Arabic normalization for matching, tokenization and light stemming.

Normalization here is for *matching* only (topics, dedup, search, the classifier): it folds spelling
variants that Arabic writers use interchangeably, so it must never be applied to text shown to readers.

The stemmer is a light (affix-stripping) stemmer written for the *folded* alphabet that ``normalize``
produces, in the spirit of Larkey's Light10. We do not use Snowball Arabic: it strips a single «و» even
from root letters («وزير» → «زير» while «الوزير» → «وزير»), leaves «وال» on («والعسكري» → «والعسكر»)
and treats «ه» (what «ة» folds to) differently after «ال», so forms of one word got different keys.
What this stemmer does not do: it does not find roots, does not undo broken plurals («دول»/«دولة» meet
by accident, «وقت»/«اوقات» never do), and it never strips a lone «و ف ب ل ك» because nothing in the
letters tells «وقال» (و + قال) from «وزير» (a word starting with و); keyword matching tries both readings
(see ``proclitic_readings``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

# Tashkeel (U+064B–U+065F), superscript alef (U+0670), Quranic annotation marks, tatweel.
_MARKS = "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u0640"
# Zero-width characters and bidi controls that CMS editors leave inside words.
_INVISIBLE = "\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u061c"
_STRIP = re.compile(f"[{_MARKS}{_INVISIBLE}]")
_FOLD_TABLE: dict[str, str] = {
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ى": "ي",
    "ة": "ه",
    "ؤ": "و",
    "ئ": "ي",
    "ی": "ي",  # Persian yeh
    "ې": "ي",
    "ک": "ك",  # Persian keheh
    "ڪ": "ك",
    "ە": "ه",  # Kurdish ae, seen in some feeds as a taa marbuta stand-in
    **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
    **{chr(0x06F0 + d): str(d) for d in range(10)},  # Persian digits
}
_FOLD = str.maketrans(_FOLD_TABLE)
# A word is a run of letters and digits; "_" and punctuation split words.
_TOKEN = re.compile(r"[^\W_]+")

_CACHE_LIMIT = 400_000


class _Memo(dict[str, str]):
    """A string → string memo that computes misses with ``fn`` and empties itself when it grows too big.

    News vocabularies repeat, so caching per distinct word makes tokenizing and stemming cost a dict
    lookup per word; clearing instead of LRU bookkeeping keeps the hit path free of Python code.
    """

    __slots__ = ("_fn",)

    def __init__(self, fn: Callable[[str], str]) -> None:
        super().__init__()
        self._fn = fn

    def __missing__(self, key: str) -> str:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        value = self._fn(key)
        self[key] = value
        return value


def _clean(text: str) -> str:
    """NFKC, then drop marks and invisible characters (which would otherwise split or hide words)."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return _STRIP.sub("", text)


def normalize(text: str) -> str:
    """Fold ``text`` to its matching form: NFKC, no marks, unified letters, Western digits, lower case.

    Spaces and punctuation are kept, so the result can still be split or searched for phrases.
    """
    return _clean(text).translate(_FOLD).lower()


def _fold_word(word: str) -> str:
    return word.translate(_FOLD).lower()


_folded = _Memo(_fold_word)


def tokenize(text: str) -> list[str]:
    """Normalized word tokens in order; punctuation and symbols separate words and are dropped."""
    return list(map(_folded.__getitem__, _TOKEN.findall(_clean(text))))


# --- light stemmer -------------------------------------------------------------------------------------

# Article-bearing proclitics, longest first: و/ف + ب/ك/ل + ال, and ال alone. «لل» is ل + ال.
_PREFIXES = ("وبال", "وكال", "فبال", "فكال", "ولل", "فلل", "وال", "فال", "بال", "كال", "لل", "ال")
# Enclitic pronouns stripped only from long words: «تفاهم» and «متهم» end in «هم» by themselves.
_PRONOUNS = ("هما", "ها", "هم")
# Plural, dual-oblique, nisba, feminine and accusative endings, longest first.
_SUFFIXES = ("ات", "ون", "ين", "يه", "ه", "ي", "ا")
_MIN_STEM = 3
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")


def _light_stem(token: str) -> str:
    if len(token) < 3 or not _ARABIC_LETTER.match(token):
        return token
    word = token
    for prefix in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            word = word[len(prefix) :]
            break
    for pronoun in _PRONOUNS:
        if word.endswith(pronoun) and len(word) - len(pronoun) >= 4:
            word = word[: -len(pronoun)]
            if word.endswith("ت"):  # «حكومتها» → «حكومت» → «حكومه»: the taa marbuta comes back
                word = word[:-1] + "ه"
            break
    changed = True
    while changed:
        changed = False
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
                word = word[: -len(suffix)]
                changed = True
                break
    return word


_stems = _Memo(_light_stem)


def stem(token: str) -> str:
    """Light stem of one *normalized* token (as ``tokenize`` returns it); cached per distinct token.

    Tokens that are not Arabic words (Latin, digits) come back unchanged.
    """
    return _stems[token]


def stem_tokens(tokens: Iterable[str]) -> list[str]:
    """``stem`` over many normalized tokens, without a Python call per token."""
    return list(map(_stems.__getitem__, tokens))


def stems(text: str) -> list[str]:
    """Tokenize and stem ``text`` in one call."""
    return list(map(_stems.__getitem__, map(_folded.__getitem__, _TOKEN.findall(_clean(text)))))


# Lone proclitics: conjunction و/ف, optionally followed by preposition ب/ك/ل, or a preposition alone.
_LONE_PROCLITICS = ("وب", "وك", "ول", "فب", "فك", "فل", "و", "ف", "ب", "ك", "ل")


def _readings(token: str) -> tuple[str, ...]:
    keys = [_stems[token]]
    for clitic in _LONE_PROCLITICS:
        if token.startswith(clitic) and len(token) - len(clitic) >= 3:
            key = _stems[token[len(clitic) :]]
            if key not in keys:
                keys.append(key)
    return tuple(keys)


_readings_memo: dict[str, tuple[str, ...]] = {}


def proclitic_readings(token: str) -> tuple[str, ...]:
    """Every stem ``token`` may have: as written, and with a lone «و ف ب ك ل» proclitic taken off.

    «ولبنان» reads as «ولبنان» or «لبنان»; «وزير» as «وزير» or «زير». The first item is ``stem(token)``.
    Matching a keyword against all readings finds «لبنان» in «ولبنان» without ever cutting «وزير» down
    in ``stem`` itself; the price is that a keyword «زير» would match «وزير».
    """
    found = _readings_memo.get(token)
    if found is None:
        if len(_readings_memo) >= _CACHE_LIMIT:
            _readings_memo.clear()
        found = _readings_memo[token] = _readings(token)
    return found
