"""Arabic normalization for matching, tokenization and light stemming.

Normalization here is for *matching* only (topics, dedup, search, the classifier): it folds spelling
variants that Arabic writers use interchangeably, so it must never be applied to text shown to readers.

Folding: alef forms (أ إ آ ٱ) → ا, ى → ي, ة → ه, hamza seats ؤ → و and ئ → ي (a bare ء stays),
Persian yeh/keheh → ي/ك, Arabic-Indic and Persian digits → 0–9; tashkeel, superscript alef, tatweel,
zero-width and bidi marks are removed, after NFKC (which also undoes presentation-form ligatures).

The stemmer is a light (affix-stripping) stemmer written for the *folded* alphabet, in the spirit of
Larkey's Light10. We do not use Snowball Arabic: it strips a single «و» even from root letters
(«وزير» → «زير» while «الوزير» → «وزير»), leaves «وال» on («والعسكري» → «والعسكر») and, after
folding, keeps «ه» after «ال» («العسكريه» → «عسكريه» but «عسكري» → «عسكر»). On the word families in
tests/fixtures/topics/stem_families.json, Snowball gives one key to 32 % of the families even when
it runs before folding, this stemmer to 92 % (100 % with ``proclitic_splits``); see
benchmarks/quality_topics.py. Speed comes from caching: a word seen before costs one dict lookup.
What it does not do: find roots, undo broken plurals («بنك»/«بنوك», «وقت»/«اوقات»), or strip a lone
«و ف ب ل ك», because nothing in the letters tells «وقال» (و + قال) from «وزير» (a word starting with و);
keyword matching tries both readings (``proclitic_splits``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import Any

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


class _Memo(dict[str, Any]):
    """A memo that computes misses with ``fn`` and empties itself when it grows too big.

    News vocabularies repeat, so caching per distinct word makes tokenizing and stemming cost a dict
    lookup per word; clearing instead of LRU bookkeeping keeps the hit path free of Python code.
    """

    __slots__ = ("_fn",)

    def __init__(self, fn: Callable[[str], Any]) -> None:
        super().__init__()
        self._fn = fn

    def __missing__(self, key: str) -> Any:
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


def _chunk_tokens(chunk: str) -> tuple[str, ...]:
    words = _TOKEN.findall(_clean(chunk))
    if len(words) == 1:
        # Most pieces are one word already in its matching form: the memo then holds the piece once,
        # as its key and as its token, instead of two equal strings (~2 MB over a few thousand articles).
        word = words[0].translate(_FOLD).lower()
        return (chunk,) if word == chunk else (word,)
    return tuple(word.translate(_FOLD).lower() for word in words)


_tokens_of_chunk: _Memo = _Memo(_chunk_tokens)


def chunks(text: str) -> list[str]:
    """``text`` cut at white space: the pieces ``tokenize`` reads one by one (and caches).

    Callers that memoize their own per-piece results (the classifier maps a piece straight to
    vocabulary columns) use this with ``chunk_tokens`` to stay consistent with ``tokenize``.
    """
    return text.split()


def chunk_tokens(chunk: str) -> tuple[str, ...]:
    """The normalized tokens of one piece from ``chunks`` (cached)."""
    result: tuple[str, ...] = _tokens_of_chunk[chunk]
    return result


def chunk_tokens_many(pieces: Sequence[str]) -> list[tuple[str, ...]]:
    """``chunk_tokens`` of many pieces from ``chunks``, normalized in a few calls over all of them.

    The pieces are joined with line breaks, which normalization never creates, merges or removes, and
    cleaned and folded as one string, so only the regular-expression split costs a call per piece.
    The result equals ``[chunk_tokens(p) for p in pieces]``; it is not cached (the caller memoizes).
    """
    if not pieces:
        return []
    cleaned = _clean("\n".join(pieces)).split("\n")
    if len(cleaned) != len(pieces):  # a piece held a line break: not a piece of ``chunks``
        return [_chunk_tokens(piece) for piece in pieces]
    words = list(map(_TOKEN.findall, cleaned))
    folded = "\n".join(chain.from_iterable(words)).translate(_FOLD).lower().split("\n")
    out: list[tuple[str, ...]] = []
    at = 0
    for found in words:
        n = len(found)
        out.append(tuple(folded[at : at + n]))
        at += n
    return out


def tokenize(text: str) -> list[str]:
    """Normalized word tokens in order; punctuation and symbols separate words and are dropped.

    White space never falls inside a word, so the text is cut there first and each piece is
    normalized and tokenized once per distinct piece (a dict lookup when seen before).
    """
    return list(chain.from_iterable(map(_tokens_of_chunk.__getitem__, text.split())))


# --- light stemmer -------------------------------------------------------------------------------------

# Article-bearing proclitics, longest first: و/ف + ب/ك/ل + ال, and ال alone. «لل» is ل + ال.
_PREFIXES = ("وبال", "وكال", "فبال", "فكال", "ولل", "فلل", "وال", "فال", "بال", "كال", "لل", "ال")
# Enclitic pronouns stripped only from long words: «تفاهم» and «متهم» end in «هم» by themselves.
_PRONOUNS = ("هما", "ها", "هم")
# Plural, dual-oblique, nisba, feminine and accusative endings, longest first.
_SUFFIXES = ("ات", "ون", "ين", "يه", "ه", "ي", "ا")
_MIN_STEM = 3
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")


def _analyze(token: str) -> tuple[str, str]:
    """(stem, ending removed from the end) of a normalized token; the ending is "" when none was."""
    if len(token) < 3 or not _ARABIC_LETTER.match(token):
        return token, ""
    word = token
    for prefix in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            word = word[len(prefix) :]
            # After the article, «ال» can only be a hamza word folded («الألعاب» → «العاب»); its bare
            # form already lost those letters to the article rule, so drop them here too.
            if word.startswith("ال") and len(word) >= 4:
                word = word[2:]
            break
    full = word
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
    return word, full[len(word) :] if full.startswith(word) else full[len(word) - len(full) :]


def _light_stem(token: str) -> str:
    return _analyze(token)[0]


# ``_analyze``'s stems as substitutions over many tokens at once, one token per line (``stem_many``).
# 0. A mark (a character no token holds) opens each line ``_analyze`` would stem: 3+ letters, the first an
#    Arabic letter; every later pattern starts at the mark, so other tokens pass through untouched.
_MARK = "\x01"
_STEMMABLE = re.compile("^(?=[\u0621-\u064a].{2})", re.M)
# 1. The first article-bearing proclitic, in ``_PREFIXES`` order, that leaves 2+ letters (a regex tries
#    alternatives in order and moves on when the lookahead fails), then a second «ال» when 2+ are left.
_PREFIX_RUN = re.compile(f"^{_MARK}(?:{'|'.join(_PREFIXES)})(?=..)(?:ال(?=..))?", re.M)
# 2. One enclitic pronoun (the three never end a word together) when 4+ letters stay; a «ت» left
#    before it was a taa marbuta, so the first pattern turns it back into «ه».
_PRONOUN_AFTER_TAA = re.compile(f"^{_MARK}(.{{3,}})ت(?:{'|'.join(_PRONOUNS)})$", re.M)
_PRONOUN = re.compile(f"^{_MARK}(.{{4,}})(?:{'|'.join(_PRONOUNS)})$", re.M)
# 3. The ending loop: it strips, from the end, the first suffix of ``_SUFFIXES`` that leaves 3+ letters
#    until none does. Two suffixes end in the same letter only as «يه»/«ه» (and «ي» then «ه» takes the
#    same letters), so the loop always reaches the shortest stem of 3+ letters followed by suffixes
#    only: what a lazy stem before a run of suffixes finds. A test holds this to ``_analyze``.
_SUFFIX_RUN = re.compile(f"^{_MARK}(.{{{_MIN_STEM},}}?)(?:{'|'.join(_SUFFIXES)})+$", re.M)


def stem_many(tokens: Sequence[str]) -> list[str]:
    """``stem`` of many normalized tokens, by a few regular-expression passes over all of them at once.

    The same stems as ``stem``, whose Python code per token was a third of classifying unseen text;
    about three times as fast. Not cached: for callers that memoize (the classifier's piece memo).
    """
    if not tokens:
        return []
    text = _STEMMABLE.sub(_MARK, "\n".join(tokens))
    text = _PREFIX_RUN.sub(_MARK, text)
    text = _PRONOUN_AFTER_TAA.sub(_MARK + "\\1ه", text)
    text = _PRONOUN.sub(_MARK + "\\1", text)
    text = _SUFFIX_RUN.sub(_MARK + "\\1", text)
    out = text.replace(_MARK, "").split("\n")
    if len(out) != len(tokens):  # a token held a line break: not a token of ``tokenize``
        return [_light_stem(token) for token in tokens]
    return out


_stems: _Memo = _Memo(_light_stem)


def stem(token: str) -> str:
    """Light stem of one *normalized* token (as ``tokenize`` returns it); cached per distinct token.

    Tokens that are not Arabic words (Latin, digits) come back unchanged.
    """
    result: str = _stems[token]
    return result


def stem_and_ending(token: str) -> tuple[str, str]:
    """``(stem(token), ending)`` where ``ending`` is what stemming cut off the end ("" if nothing).

    Keyword matching uses it to tell «الرياضة» (an ending was cut) from «الرياض» (none was).
    """
    return _analyze(token)


def stem_tokens(tokens: Iterable[str]) -> list[str]:
    """``stem`` over many normalized tokens, without a Python call per token."""
    return list(map(_stems.__getitem__, tokens))


def stems(text: str) -> list[str]:
    """Tokenize and stem ``text`` in one call."""
    return list(map(_stems.__getitem__, tokenize(text)))


def search_stems(title: str, summary: str) -> str:
    """Light stems of the title and the summary's head between single spaces: what search matches with
    ``LIKE '% stem %'`` (``storage.search``)."""
    return f" {' '.join(stems(title + ' ' + summary[:2000]))} "


# Lone proclitics: conjunction و/ف, optionally followed by preposition ب/ك/ل, or a preposition alone.
_LONE_PROCLITICS = ("وب", "وك", "ول", "فب", "فك", "فل", "و", "ف", "ب", "ك", "ل")


def proclitic_splits(token: str) -> tuple[str, ...]:
    """``token`` and each reading of it with a lone «و ف ب ك ل» proclitic taken off (3+ letters left).

    «ولبنان» gives («ولبنان», «لبنان», ...); «وزير» gives («وزير», «زير»). ``stem`` never strips these
    letters because nothing in the spelling tells the two apart; a matcher that tries every reading
    finds «لبنان» in «ولبنان» at the price that a keyword «زير» would match «وزير».
    """
    out = [token]
    if _ARABIC_LETTER.match(token):
        for clitic in _LONE_PROCLITICS:
            if token.startswith(clitic) and len(token) - len(clitic) >= 3:
                out.append(token[len(clitic) :])
    return tuple(out)
