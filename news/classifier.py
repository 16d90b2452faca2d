"""The built-in topic classifier: a TF-IDF linear model over light stems, run with numpy alone.

The model file (``news/data/topics.npz``) is written by ``scripts/train_topics.py``; this module only
reads it and scores, so scikit-learn is a training dependency, never a runtime one. Features are the
stems of title, description and body, stem bigrams inside each field, and the title's stems once more
under their own names (a headline word says more than a body word); each vector is weighted by
sublinear TF times IDF and L2-normalized. ``Featurizer`` names the features (training builds the
vocabulary from it); ``TopicClassifier.feature_ids`` finds the same features as column numbers with
numpy (a bigram is a pair of unigram columns, looked up in a sorted array), which is what makes
inference fast, and training builds its matrices through that same method, so the two cannot drift.
The file stores the vocabulary as those lookup tables need it (``VocabularyTables``: the unigrams' names,
and for every other column the unigram columns it is made of), so loading creates no string per bigram
feature and the names are rebuilt only when asked for; loading took ~0.3 s and ~50 MB of memory when
it went through ~120k names.
Reading a word for the first time (normalizing, tokenizing, stemming) is most of the cost of new text,
so the model file also carries a table of the training corpus's common word forms, as written, with
their stems' columns (``WordTable``): a precomputed cache, which changes no feature (the tests check it
against the stemmer) and makes the first pass over unseen articles about 1.3 times as fast.

Scores become probabilities with a softmax whose temperature, like per-class offsets folded into the
intercepts, was fitted on out-of-fold scores of the training documents. ``topics`` holds the best
topic and, when its probability passes a threshold fitted on the articles the corpus filed under two
topics, the runner-up (about 5 % of articles get one).

Outlets do not file alike: the same kind of story lands on different desks. The model may carry
per-outlet weights (``SourceWeights``) learned on the outlets of its training corpus, chosen by the
article's URL: a known outlet is scored by shared weights plus its own block (feature augmentation,
Daumé III 2007), which agrees with the outlets' own desks more often than one model for all of them;
any other source gets the general model, unchanged.

What this does not do: topics outside the five built-ins, read feed ``<category>`` tags or URL
sections (ingestion does, on top), or any language but Arabic (a Latin word is a feature like any
other, but the model saw little English).
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from itertools import chain, pairwise, repeat
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from news.arabic import chunk_tokens, chunk_tokens_many, chunks, stem, stem_many, stem_tokens, tokenize

MODEL_RESOURCE = "topics.npz"
FORMAT_VERSION = 2  # 2: the vocabulary stored as its structure (``VocabularyTables``)
_CACHE_LIMIT = 200_000

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """What the featurizer emits; stored in the model so inference matches training.

    ``body_chars`` caps how much of the body is read: leads carry the topic and the rest costs time.
    The same cap applies to the title and the description, since some feeds put a whole article there.
    """

    title_prefix: bool = True
    bigrams: bool = True
    body_chars: int = 3000

    def to_json(self) -> dict[str, Any]:
        return {"title_prefix": self.title_prefix, "bigrams": self.bigrams, "body_chars": self.body_chars}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FeatureConfig:
        return cls(
            title_prefix=bool(data["title_prefix"]),
            bigrams=bool(data["bigrams"]),
            body_chars=int(data["body_chars"]),
        )


class Featurizer:
    """(title, description, text) → feature strings: the one definition that training and inference share."""

    __slots__ = ("config",)

    def __init__(self, config: FeatureConfig) -> None:
        self.config = config

    def features(self, title: str, description: str = "", text: str = "") -> list[str]:
        cfg = self.config
        out: list[str] = []
        cap = cfg.body_chars
        title_stems = _stems(title[:cap])
        for part in (title_stems, _stems(description[:cap]), _stems(text[:cap])):
            out.extend(part)
            if cfg.bigrams and len(part) > 1:
                out.extend(map(" ".join, pairwise(part)))
        if cfg.title_prefix:
            out.extend(TITLE_PREFIX + s for s in title_stems)
        return out


def _stems(text: str) -> list[str]:
    return stem_tokens(tokenize(text)) if text else []


TITLE_PREFIX = "t:"
# Between fields in a column sequence, so that no bigram spans two fields.
_FIELD_BREAK = np.full(1, -1, dtype=np.int64)


class _Columns(dict[str, int]):
    """Stem → unigram column; -1 for a stem outside the vocabulary (without storing it)."""

    def __missing__(self, key: str) -> int:
        return -1


class WordTable(NamedTuple):
    """A model's table of word forms: pieces of text that are one word as written, sorted by ``forms``.

    ``columns`` holds the unigram column of each word's stem (-1 when the stem is not in the
    vocabulary); ``tokens`` says whether the piece is already a normalized token, so that it answers
    for tokens too. Parallel lists rather than one object per word keep loading fast.
    """

    forms: list[str]
    columns: list[int]
    tokens: list[bool]


# Articles whose new words ``feature_ids_many`` learns together: the batch work is paid once per group.
_GROUP = 32
_UNSEEN = -99  # ``_ChunkCodes``: a piece not in the memo yet
_EMPTY = -2  # a piece with no token in it («-», «،»): it leaves no trace in the sequence
_FIRST_MULTI = -3  # -3, -4, …: a piece of several tokens, by its index in ``_ChunkCodes.multi``


class _FormIndex:
    """The model's table of word forms as fixed-width UTF-8 in arrays, looked up a batch at a time.

    It stands where a dict of all 65k forms stood (~10 MB of Python strings and entries in every
    process that classifies, most of them words a pass never meets): ``_ChunkCodes`` looks up only the
    pieces it meets and memoizes them as before. A lookup hashes the batch's keys with numpy, finds
    them among the forms' sorted hashes and compares the bytes of each candidate, so a result is
    exactly the dict's; a binary search comparing the strings themselves made classifying ~40% slower.
    """

    __slots__ = ("columns", "forms", "hashes", "tokens")

    def __init__(self, blob: bytes, columns: npt.NDArray[np.int32], tokens: npt.NDArray[np.uint8]) -> None:
        forms = _fixed_width(blob, len(columns))
        hashes = _hash_rows(forms)
        order = np.argsort(hashes, kind="stable")
        self.hashes = hashes[order]
        if len(hashes) > 1 and not bool((self.hashes[1:] != self.hashes[:-1]).all()):
            # A form stored twice, or (about once in 10^10 tables) two forms of one 64-bit hash.
            raise ValueError("the model's word forms are not unique by their hashes")
        self.forms = forms[order]
        self.columns = np.asarray(columns, dtype=np.int64)[order]
        self.tokens = np.asarray(tokens, dtype=bool)[order]

    def lookup(self, words: Sequence[str], *, tokens_only: bool = False) -> list[int | None]:
        """Each word's column, or None when it is not a form of the table (``tokens_only``: not one
        that is a normalized token as written)."""
        if not len(self.forms) or not words:
            return [None] * len(words)
        encoded = [w.encode("utf-8") for w in words]
        # A longer key would be cut to the width, and numpy ignores trailing NULs: neither can match.
        fits = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)) <= self.forms.itemsize
        if b"\0" in b"".join(encoded):
            fits &= np.fromiter((b"\0" not in e for e in encoded), dtype=bool, count=len(encoded))
        keys = np.array(encoded, dtype=self.forms.dtype)
        at = np.minimum(np.searchsorted(self.hashes, _hash_rows(keys)), len(self.forms) - 1)
        hit = fits & (self.forms[at] == keys)
        if tokens_only:
            hit &= self.tokens[at]
        return [c if h else None for c, h in zip(self.columns[at].tolist(), hit.tolist(), strict=True)]


def _fixed_width(blob: bytes, count: int) -> npt.NDArray[np.bytes_]:
    """``count`` newline-separated forms as an ``S<n>`` array (``n``: the longest, to a multiple of 8),
    built without a Python object per form (130k short-lived objects left the heap fragmented)."""
    if count == 0:
        return np.zeros(0, dtype="S8")
    buf = np.frombuffer(blob, dtype=np.uint8)
    breaks = np.flatnonzero(buf == ord("\n"))
    if len(breaks) != count - 1:
        raise ValueError("the model's word forms do not match their columns")
    starts = np.concatenate(([0], breaks + 1))
    stops = np.concatenate((breaks, [len(buf)]))
    width = max(8, -(-int((stops - starts).max()) // 8) * 8)
    chars = np.zeros((count, width), dtype=np.uint8)
    last = max(len(buf) - 1, 0)
    for j in range(width):  # a column at a time: an index of every byte at once would be 17 MB
        at = starts + j
        chars[:, j] = np.where(at < stops, buf[np.minimum(at, last)], 0)
    forms: npt.NDArray[np.bytes_] = chars.view(f"S{width}").ravel()
    return forms


def _hash_rows(strings: npt.NDArray[np.bytes_]) -> npt.NDArray[np.uint64]:
    """A 64-bit hash of each fixed-width string (width a multiple of 8), eight bytes at a time."""
    width = strings.dtype.itemsize // 8
    words = np.ascontiguousarray(strings).view(np.uint64).reshape(len(strings), width)
    h = np.full(len(strings), 0x9E3779B97F4A7C15, dtype=np.uint64)
    for k in range(width):
        h ^= words[:, k]
        h *= np.uint64(0xFF51AFD7ED558CCD)  # murmur3's finalizer steps; uint64 products wrap
        h ^= h >> np.uint64(33)
    return h


class _ChunkCodes:
    """Piece of text (``arabic.chunks``) → one int code, so that a field's codes are one ``np.fromiter``.

    A code ≥ -1 is the unigram column of the piece's one token (-1: outside the vocabulary, which breaks
    bigrams like a field break does); ``_EMPTY`` marks a piece without tokens and codes from
    ``_FIRST_MULTI`` down the column arrays of pieces holding several tokens («10.5», «أ-ب»), which
    are rare. Pieces met for the first time are looked up in the model's table of word forms, and the
    rest normalized together (``arabic.chunk_tokens_many``) and their tokens stemmed once each: no
    Python call per known piece. The memo is emptied when it grows past ``_CACHE_LIMIT``, so a
    stream of new words cannot grow it forever.
    """

    __slots__ = ("_forms", "_unigrams", "memo", "multi")

    def __init__(self, forms: _FormIndex, unigrams: _Columns) -> None:
        self._forms = forms
        self.memo: dict[str, int] = {}
        self.multi: list[IntArray] = []
        self._unigrams = unigrams

    def columns_many(self, texts: Sequence[str]) -> list[IntArray]:
        """The unigram columns of each text's tokens in order (-1 for a token outside the vocabulary).

        The pieces none of the texts' memo lookups found are learned in one batch: several texts
        (fields, articles) at a time make that cost per batch, not per text.
        """
        pieces_of = [chunks(text) for text in texts]
        if len(self.memo) + sum(map(len, pieces_of)) > _CACHE_LIMIT:
            self.memo = {}
            self.multi.clear()
        memo_get = self.memo.get
        codes_of = [
            np.fromiter(map(memo_get, pieces, repeat(_UNSEEN)), dtype=np.int64, count=len(pieces))
            for pieces in pieces_of
        ]
        # Unseen pieces, pieces without a token, pieces of several tokens: the few that need a look.
        specials = [np.flatnonzero(codes < -1) for codes in codes_of]
        unseen = [
            pieces[i]
            for pieces, codes, special in zip(pieces_of, codes_of, specials, strict=True)
            if len(special)
            for i in special[codes[special] == _UNSEEN].tolist()
        ]
        if unseen:
            self._learn(list(dict.fromkeys(unseen)))
        return [
            self._expand(pieces, codes, special) if len(special) else codes
            for pieces, codes, special in zip(pieces_of, codes_of, specials, strict=True)
        ]

    def _expand(self, pieces: list[str], codes: IntArray, special: IntArray) -> IntArray:
        """``codes`` with unseen pieces filled in, pieces without tokens dropped, several tokens spread."""
        memo = self.memo
        at = special.tolist()
        codes[special] = [memo[pieces[i]] for i in at]
        parts: list[IntArray] = []
        start = 0
        for i in at:
            code = memo[pieces[i]]
            if code >= -1:
                continue
            parts.append(codes[start:i])
            if code <= _FIRST_MULTI:
                parts.append(self.multi[_FIRST_MULTI - code])
            start = i + 1
        if not parts:
            return codes
        parts.append(codes[start:])
        return np.concatenate(parts)

    def _learn(self, pieces: list[str]) -> None:
        memo = self.memo
        rest = []
        for piece, col in zip(pieces, self._forms.lookup(pieces), strict=True):
            if col is None:
                rest.append(piece)
            else:
                memo[piece] = col
        if not rest:
            return
        token_lists = chunk_tokens_many(rest)
        tokens = list(set(chain.from_iterable(token_lists)))
        column: dict[str, int] = {}
        unseen = []
        for token, col in zip(tokens, self._forms.lookup(tokens, tokens_only=True), strict=True):
            if col is None:
                unseen.append(token)
            else:
                column[token] = col
        # Tokens outside the model's table are stemmed together, and kept only through the pieces.
        column.update(zip(unseen, map(self._unigrams.__getitem__, stem_many(unseen)), strict=True))
        for piece, found in zip(rest, token_lists, strict=True):
            if len(found) == 1:
                memo[piece] = column[found[0]]
            elif not found:
                memo[piece] = _EMPTY
            else:
                memo[piece] = _FIRST_MULTI - len(self.multi)
                self.multi.append(
                    np.fromiter(map(column.__getitem__, found), dtype=np.int64, count=len(found))
                )


@dataclass(frozen=True, slots=True)
class SourceWeights:
    """Weights for articles of the outlets the model was trained on, one block per outlet.

    An article of outlet ``i`` scores ``x · (shared + blocks[i]) + intercept``; ``domains[i]`` are the
    host names (and their subdomains) that identify the outlet. ``temperature`` and
    ``second_min_prob`` are this path's own, fitted like the general model's on out-of-fold scores.
    """

    names: tuple[str, ...]
    domains: tuple[tuple[str, ...], ...]
    shared: npt.NDArray[np.floating[Any]]
    blocks: npt.NDArray[np.floating[Any]]
    intercept: FloatArray
    temperature: float
    second_min_prob: float

    def index(self, url: str | None) -> int | None:
        """The outlet ``url`` belongs to, or None (no URL, no host, an outlet the model does not know)."""
        if not url:
            return None
        try:
            host = (urlsplit(url.strip()).hostname or "").rstrip(".")
        except ValueError:
            return None
        for i, domains in enumerate(self.domains):
            if any(host == d or host.endswith("." + d) for d in domains):
                return i
        return None


@dataclass(frozen=True, slots=True)
class TopicPrediction:
    """What the classifier says about one article.

    ``scores`` are probabilities over the built-in keys (they sum to 1); ``best`` is the top one and
    ``topics`` the keys confidently matching, best first (``best`` always included).
    """

    best: str
    scores: dict[str, float]
    topics: tuple[str, ...]


class VocabularyTables(NamedTuple):
    """The vocabulary as scoring reads it, which is also how a model file stores it.

    ``unigrams``: unigram name → column, in column order; ``bigram_codes``: the sorted codes
    ``col(a) * n + col(b)`` of the bigram features «a b», with their columns in ``bigram_cols``;
    ``title_cols``: for each unigram column, the column of its title feature («t:a»), else -1. Built
    from feature names (``of``, at training) or from the file's structure (``from_structure``), which
    creates no string per bigram: the names are ~120k Python strings whose churn used to leave ~20 MB
    of the process's memory behind once freed.
    """

    unigrams: _Columns
    bigram_codes: IntArray
    bigram_cols: IntArray
    title_cols: IntArray
    n_features: int

    @classmethod
    def of(cls, vocabulary: Sequence[str]) -> VocabularyTables:
        """Tables from feature names in column order.

        A bigram's two unigrams are in any vocabulary cut by document frequency, since a pair never
        occurs in more documents than either of its words; a title feature's word likewise.
        """
        n = len(vocabulary)
        if len(set(vocabulary)) != n:
            raise ValueError("the vocabulary holds a feature twice")
        unigrams = _Columns()
        bigram_cols: list[int] = []
        title_at: list[int] = []
        for col, feature in enumerate(vocabulary):
            if " " in feature:
                bigram_cols.append(col)
            elif feature.startswith(TITLE_PREFIX):
                title_at.append(col)
            else:
                unigrams[feature] = col
        words = " ".join([vocabulary[c] for c in bigram_cols]).split(" ") if bigram_cols else []
        if len(words) != 2 * len(bigram_cols):
            raise ValueError("a bigram feature is not two words")
        pair_cols = np.fromiter(map(unigrams.__getitem__, words), dtype=np.int64, count=len(words))
        if len(pair_cols) and pair_cols.min() < 0:
            bad = vocabulary[bigram_cols[int(np.flatnonzero(pair_cols < 0)[0]) // 2]]
            raise ValueError(f"bigram {bad!r} has a word outside the vocabulary")
        title_words = [vocabulary[c][len(TITLE_PREFIX) :] for c in title_at]
        word_cols = np.fromiter(map(unigrams.__getitem__, title_words), np.int64, count=len(title_words))
        if len(word_cols) and word_cols.min() < 0:
            bad = vocabulary[title_at[int(np.flatnonzero(word_cols < 0)[0])]]
            raise ValueError(f"title feature {bad!r} has a word outside the vocabulary")
        first = np.full(n, -1, dtype=np.int32)
        second = np.full(n, -1, dtype=np.int32)
        first[bigram_cols], second[bigram_cols] = pair_cols[0::2], pair_cols[1::2]
        first[title_at], second[title_at] = word_cols, _TITLE
        return cls._build(unigrams, first, second)

    @classmethod
    def from_structure(
        cls, unigram_names: Sequence[str], first: npt.NDArray[Any], second: npt.NDArray[Any]
    ) -> VocabularyTables:
        """Tables from the names of the unigrams (in column order) and what every column is made of.

        Column ``c`` is a unigram when ``first[c] == second[c] == -1``, the bigram of the unigram
        columns ``first[c]`` and ``second[c]``, or the title feature of unigram ``first[c]`` when
        ``second[c] == -2``. Anything else (a column pointing outside the unigrams, a feature twice)
        is refused, as ``of`` refuses the same vocabulary spelt as names.
        """
        first = np.asarray(first, dtype=np.int32)
        second = np.asarray(second, dtype=np.int32)
        n = len(first)
        if first.shape != (n,) or second.shape != (n,):
            raise ValueError("the vocabulary's structure arrays differ in shape")
        is_unigram = (first == -1) & (second == -1)
        unigram_at = np.flatnonzero(is_unigram)
        if len(unigram_at) != len(unigram_names):
            raise ValueError("the vocabulary's unigram names do not match its structure")
        unigrams = _Columns(zip(unigram_names, unigram_at.tolist(), strict=True))
        if len(unigrams) != len(unigram_names):
            raise ValueError("the vocabulary holds a feature twice")
        built = (second >= 0) | (second == _TITLE)
        parts = np.concatenate([first[built], second[second >= 0]])
        if not np.array_equal(built, ~is_unigram) or (
            len(parts) and (parts.min() < 0 or parts.max() >= n or not is_unigram[parts].all())
        ):
            raise ValueError("a vocabulary column is made of something other than unigrams")
        return cls._build(unigrams, first, second)

    @classmethod
    def _build(
        cls, unigrams: _Columns, first: npt.NDArray[np.int32], second: npt.NDArray[np.int32]
    ) -> VocabularyTables:
        n = len(first)
        bigram_at = np.flatnonzero(second >= 0)
        codes = first[bigram_at].astype(np.int64) * n + second[bigram_at]
        title_at = np.flatnonzero(second == _TITLE)
        title_words = first[title_at]
        if len(np.unique(codes)) != len(codes) or len(np.unique(title_words)) != len(title_words):
            raise ValueError("the vocabulary holds a feature twice")
        title_cols = np.full(n, -1, dtype=np.int64)
        title_cols[title_words] = title_at
        order = np.argsort(codes, kind="stable")
        return cls(unigrams, codes[order], bigram_at.astype(np.int64)[order], title_cols, n)

    def structure(self) -> tuple[list[str], npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """(unigram names in column order, ``first``, ``second``): what ``from_structure`` reads."""
        n = self.n_features
        first = np.full(n, -1, dtype=np.int32)
        second = np.full(n, -1, dtype=np.int32)
        first[self.bigram_cols] = self.bigram_codes // max(n, 1)
        second[self.bigram_cols] = self.bigram_codes % max(n, 1)
        words = np.flatnonzero(self.title_cols >= 0)
        first[self.title_cols[words]] = words
        second[self.title_cols[words]] = _TITLE
        return sorted(self.unigrams, key=self.unigrams.__getitem__), first, second

    def names(self) -> tuple[str, ...]:
        """Every feature's name, in column order: «a», «a b», «t:a»."""
        n = self.n_features
        out = [""] * n
        for name, col in self.unigrams.items():
            out[col] = name
        firsts, seconds = (self.bigram_codes // max(n, 1)).tolist(), (self.bigram_codes % max(n, 1)).tolist()
        for col, a, b in zip(self.bigram_cols.tolist(), firsts, seconds, strict=True):
            out[col] = f"{out[a]} {out[b]}"
        words = np.flatnonzero(self.title_cols >= 0)
        for word, col in zip(words.tolist(), self.title_cols[words].tolist(), strict=True):
            out[col] = TITLE_PREFIX + out[word]
        return tuple(out)


_TITLE = -2  # ``VocabularyTables`` structure: in ``second``, a title feature


class StoredWords(NamedTuple):
    """A table of word forms as a model file stores it: sorted by form, UTF-8 text, parallel arrays.

    Looked up as it is stored (``_FormIndex``): going through a ``WordTable``'s lists first made 130k
    short-lived objects that left the heap fragmented.
    """

    blob: bytes  # the forms joined by newlines
    columns: npt.NDArray[np.int32]
    tokens: npt.NDArray[np.uint8]

    @classmethod
    def of(cls, table: WordTable) -> StoredWords:
        if not len(table.forms) == len(table.columns) == len(table.tokens):
            raise ValueError("the word table's lists differ in length")
        order = sorted(range(len(table.forms)), key=table.forms.__getitem__)
        return cls(
            "\n".join(table.forms[i] for i in order).encode("utf-8"),
            np.asarray(table.columns, dtype=np.int32).reshape(-1)[order],
            np.asarray(table.tokens, dtype=np.uint8).reshape(-1)[order],
        )


class TopicClassifier:
    """A loaded linear topic model. ``load()`` gives the shipped one, loaded once per process."""

    def __init__(
        self,
        *,
        classes: Sequence[str],
        vocabulary: Sequence[str] | VocabularyTables,
        idf: FloatArray,
        coef: FloatArray,
        intercept: FloatArray,
        config: FeatureConfig,
        temperature: float,
        second_min_prob: float,
        info: Mapping[str, Any] | None = None,
        words: WordTable | StoredWords | None = None,
        sources: SourceWeights | None = None,
    ) -> None:
        """``vocabulary``: the feature names in column order, or the tables a model file stores;
        ``words`` likewise a ``WordTable`` or its stored arrays."""
        tables = vocabulary if isinstance(vocabulary, VocabularyTables) else VocabularyTables.of(vocabulary)
        if coef.shape != (tables.n_features, len(classes)) or idf.shape != (tables.n_features,):
            raise ValueError("model arrays do not match the vocabulary and classes")
        if sources is not None:
            n = len(sources.names)
            if (
                len(sources.domains) != n
                or sources.shared.shape != coef.shape
                or sources.blocks.shape != (n, *coef.shape)
                or sources.intercept.shape != (len(classes),)
            ):
                raise ValueError("the per-outlet weights do not match the model")
            # Kept in half precision, as in the file. Scoring gathers a document's rows from both and
            # adds them in single precision: a summed float32 copy of every block (12 MB) saved one
            # gather of a few hundred rows per document and was the model's largest array in memory.
            sources = replace(
                sources,
                shared=sources.shared.astype(np.float16, copy=False),
                blocks=sources.blocks.astype(np.float16, copy=False),
                intercept=sources.intercept.astype(np.float32),
            )
        self.sources = sources
        self.classes: tuple[str, ...] = tuple(classes)
        self.config = config
        self.featurizer = Featurizer(config)
        self.temperature = temperature
        self.second_min_prob = second_min_prob
        self.info: dict[str, Any] = dict(info or {})  # provenance: data, calibration figures
        # Scoring needs only the lookup tables; the feature names (~120k strings, ~10 MB as Python
        # objects, and as much again left fragmented once freed) are rebuilt from them on demand.
        self._tables = tables
        self._unigrams = tables.unigrams
        # Word forms with their stems' columns, found at training time (``word_table``): a stemming
        # cache, kept as the file stores it (sorted, UTF-8, parallel arrays) and read into the memo.
        stored = words if isinstance(words, StoredWords) else StoredWords.of(words or WordTable([], [], []))
        self._word_blob, self._word_columns, self._word_tokens = stored
        self._chunk_codes = _ChunkCodes(
            _FormIndex(self._word_blob, self._word_columns, self._word_tokens), self._unigrams
        )
        self._idf = idf.astype(np.float32)
        # Stored in half precision and kept so (rows are widened as scoring gathers them): a freshly
        # trained model scores exactly as the same model read back from its file.
        self._coef16 = coef.astype(np.float16)
        self._intercept = intercept.astype(np.float32)

    def _word_forms(self) -> list[str]:
        return self._word_blob.decode("utf-8").split("\n") if len(self._word_columns) else []

    # --- loading and saving -----------------------------------------------------------------------

    @classmethod
    def load(cls) -> TopicClassifier:
        """The shipped model from ``news/data``, cached: every caller shares one instance."""
        return _builtin()

    @classmethod
    def from_bytes(cls, data: bytes) -> TopicClassifier:
        return cls._from_file(io.BytesIO(data))

    @classmethod
    def _from_file(cls, file: Path | io.BytesIO) -> TopicClassifier:
        """Read an ``.npz`` model; given a path, members are inflated one at a time from the file."""
        with np.load(file, allow_pickle=False) as npz:
            meta = json.loads(bytes(npz["meta"]).decode("utf-8"))
            if meta.get("format") != FORMAT_VERSION:
                raise ValueError(f"unsupported topic model format {meta.get('format')!r}")
            joined = bytes(npz["unigrams"]).decode("utf-8")
            tables = VocabularyTables.from_structure(
                joined.split("\n") if joined else [], npz["first"], npz["second"]
            )
            words = None
            if "words" in npz.files:
                words = StoredWords(bytes(npz["words"]), npz["word_columns"], npz["word_is_token"])
            sources = None
            if "sources" in meta:
                src = meta["sources"]
                sources = SourceWeights(
                    names=tuple(src["names"]),
                    domains=tuple(tuple(d) for d in src["domains"]),
                    shared=npz["source_shared"],
                    blocks=npz["source_blocks"],
                    intercept=npz["source_intercept"],
                    temperature=float(src["temperature"]),
                    second_min_prob=float(src["second_min_prob"]),
                )
            return cls(
                classes=meta["classes"],
                vocabulary=tables,
                idf=npz["idf"],
                coef=npz["coef"],
                intercept=npz["intercept"],
                config=FeatureConfig.from_json(meta["features"]),
                temperature=float(meta["temperature"]),
                second_min_prob=float(meta["second_min_prob"]),
                info=meta.get("info") or {},
                words=words,
                sources=sources,
            )

    @classmethod
    def from_path(cls, path: Path) -> TopicClassifier:
        return cls._from_file(path)

    def to_bytes(self) -> bytes:
        """The model as an ``.npz`` archive, byte-identical for identical models (fixed zip timestamps)."""
        meta = {
            "format": FORMAT_VERSION,
            "classes": list(self.classes),
            "features": self.config.to_json(),
            "temperature": self.temperature,
            "second_min_prob": self.second_min_prob,
            "info": self.info,
        }
        if self.sources is not None:
            meta["sources"] = {
                "names": list(self.sources.names),
                "domains": [list(d) for d in self.sources.domains],
                "temperature": self.sources.temperature,
                "second_min_prob": self.sources.second_min_prob,
            }
        unigram_names, first, second = self._tables.structure()
        arrays: dict[str, npt.NDArray[Any]] = {
            "meta": np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8),
            # The vocabulary as its structure: unigram names, and what each column is made of.
            "unigrams": np.frombuffer("\n".join(unigram_names).encode("utf-8"), dtype=np.uint8),
            "first": first,
            "second": second,
            "idf": self._idf,
            # Half precision halves the file; scores move by ~1e-3, far below any decision margin.
            "coef": self._coef16,
            "intercept": self._intercept,
        }
        if len(self._word_columns):
            arrays["words"] = np.frombuffer(self._word_blob, dtype=np.uint8)
            arrays["word_columns"] = self._word_columns
            arrays["word_is_token"] = self._word_tokens
        if self.sources is not None:
            arrays["source_shared"] = self.sources.shared
            # Zero wherever the outlet never used a feature: most of each block, which deflate shrinks.
            arrays["source_blocks"] = self.sources.blocks
            arrays["source_intercept"] = self.sources.intercept
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, array in arrays.items():
                member = io.BytesIO()
                np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
                info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, member.getvalue(), compresslevel=9)
        return buf.getvalue()

    # --- scoring ----------------------------------------------------------------------------------

    @property
    def n_features(self) -> int:
        return self._tables.n_features

    def vocabulary(self) -> tuple[str, ...]:
        """Feature names, in column order (rebuilt from the lookup tables)."""
        return self._tables.names()

    def words(self) -> WordTable:
        """The stored table of word forms (a cache of tokenizing and stemming), sorted by form."""
        return WordTable(
            self._word_forms(), self._word_columns.tolist(), self._word_tokens.astype(bool).tolist()
        )

    def word_table(self, pieces: Iterable[str]) -> WordTable:
        """The table of word forms to store with this model, from pieces of text (``arabic.chunks``).

        A piece enters when it holds exactly one token, with the column of that token's stem; it
        serves as a token too when it is one as written (``chunk_tokens(piece) == (piece,)``).
        """
        table = WordTable([], [], [])
        for piece in sorted(set(pieces)):
            tokens = chunk_tokens(piece)
            if len(tokens) == 1:
                table.forms.append(piece)
                table.columns.append(self._unigrams[stem(tokens[0])])
                table.tokens.append(tokens[0] == piece)
        return table

    @property
    def idf(self) -> FloatArray:
        return self._idf

    @property
    def coef(self) -> FloatArray:
        """Weights, one row per feature and one column per class (a single-precision copy)."""
        coef: FloatArray = self._coef16.astype(np.float32)
        return coef

    @property
    def intercept(self) -> FloatArray:
        return self._intercept

    def feature_ids(self, title: str, description: str = "", text: str = "") -> IntArray:
        """Columns of the features of one article, repeated as often as the feature occurs.

        The same features as ``Featurizer.features`` minus those outside the vocabulary. The three
        fields become one column sequence with a -1 between fields, so bigrams never cross a field.
        """
        return self.feature_ids_many([(title, description, text)])[0]

    def feature_ids_many(
        self, articles: Iterable[tuple[str, str, str] | tuple[str, str] | tuple[str]]
    ) -> list[IntArray]:
        """``feature_ids`` of many articles; new words are learned a group of articles at a time."""
        cap = self.config.body_chars
        out: list[IntArray] = []
        group: list[tuple[str, str, str]] = []
        for article in chain(articles, [None]):
            if article is not None:
                title, description, text = (*article, "", "")[:3]
                group.append((title[:cap], description[:cap], text[:cap]))
                if len(group) < _GROUP:
                    continue
            if not group:
                break
            cols = self._chunk_codes.columns_many([field for fields in group for field in fields])
            for k, (_, description, text) in enumerate(group):
                title_cols, desc_cols, text_cols = cols[3 * k : 3 * k + 3]
                out.append(self._features(title_cols, desc_cols, text_cols, description, text))
            group = []
        return out

    def _features(
        self, title_cols: IntArray, desc_cols: IntArray, text_cols: IntArray, description: str, text: str
    ) -> IntArray:
        cfg = self.config
        fields = [title_cols]
        if description:
            fields += [_FIELD_BREAK, desc_cols]
        if text:
            fields += [_FIELD_BREAK, text_cols]
        seq = np.concatenate(fields) if len(fields) > 1 else title_cols
        parts = [seq[seq >= 0]]
        if cfg.bigrams and len(seq) > 1:
            parts.append(self._bigrams(seq))
        if cfg.title_prefix and len(title_cols):
            head = seq[: len(title_cols)]
            mapped = self._tables.title_cols[head[head >= 0]]
            parts.append(mapped[mapped >= 0])
        return np.concatenate(parts)

    def _bigrams(self, seq: IntArray) -> IntArray:
        first, second = seq[:-1], seq[1:]
        both = (first >= 0) & (second >= 0)
        codes = first[both] * self.n_features + second[both]
        table, table_cols = self._tables.bigram_codes, self._tables.bigram_cols
        if not len(codes) or not len(table):
            return np.zeros(0, dtype=np.int64)
        # Sorted keys make the binary searches walk the table in order (numpy starts each one where
        # the last ended), about twice as fast; the order of feature ids does not matter.
        codes.sort()
        at = np.searchsorted(table, codes)
        at[at == len(table)] = 0
        hit = table[at] == codes
        found: IntArray = table_cols[at[hit]]
        return found

    def vectorize(self, docs: Iterable[IntArray]) -> tuple[IntArray, IntArray, FloatArray]:
        """CSR parts (indptr, indices, data) of the TF-IDF matrix of documents given as feature ids.

        Each row: sublinear term frequency (1 + ln count) times IDF, L2-normalized; empty rows stay 0.
        """
        indptr = [0]
        indices: list[IntArray] = []
        data: list[FloatArray] = []
        for ids in docs:
            uniq, counts = np.unique(ids, return_counts=True)
            weights = (1.0 + np.log(counts, dtype=np.float32)) * self._idf[uniq]
            norm = float(np.sqrt(np.dot(weights, weights)))
            if norm > 0:
                weights /= norm
            indices.append(uniq)
            data.append(weights.astype(np.float32))
            indptr.append(indptr[-1] + len(uniq))
        return (
            np.asarray(indptr, dtype=np.int64),
            np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
            np.concatenate(data) if data else np.zeros(0, dtype=np.float32),
        )

    def source_of(self, url: str | None) -> int | None:
        """Index of the known outlet ``url`` belongs to (``sources``), or None: the general model."""
        return self.sources.index(url) if self.sources is not None else None

    def decision(
        self, indptr: IntArray, indices: IntArray, data: FloatArray, source: int | None = None
    ) -> FloatArray:
        """Raw linear scores, one row per document, one column per class; ``source``: see ``source_of``."""
        n_docs = len(indptr) - 1
        if source is None or self.sources is None:
            out = np.tile(self._intercept, (n_docs, 1))
            rows = self._coef16[indices].astype(np.float32) if len(indices) else None
        else:
            out = np.tile(self.sources.intercept, (n_docs, 1))
            rows = None
            if len(indices):
                rows = self.sources.blocks[source][indices].astype(np.float32)
                rows += self.sources.shared[indices]
        if rows is not None:
            contrib = rows * data[:, None]
            starts = indptr[:-1]
            nonempty = indptr[1:] > starts
            sums = np.add.reduceat(contrib, starts[nonempty], axis=0)
            out[nonempty] += sums
        return out

    def probabilities(self, decision: FloatArray, source: int | None = None) -> FloatArray:
        z = decision / self._temperature(source)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        probs: FloatArray = np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float32)
        return probs

    def _temperature(self, source: int | None) -> float:
        return self.temperature if source is None or self.sources is None else self.sources.temperature

    def _second_min_prob(self, source: int | None) -> float:
        if source is None or self.sources is None:
            return self.second_min_prob
        return self.sources.second_min_prob

    def predict_many(
        self,
        articles: Iterable[tuple[str, str, str] | tuple[str, str] | tuple[str]],
        urls: Sequence[str | None] | None = None,
    ) -> list[TopicPrediction]:
        """Predictions for many ``(title, description, text)`` tuples (trailing parts may be left out).

        ``urls``, one per article when given, pick the outlet's weights (``source_of``). Faster per
        article than ``predict``: the matrix work is done once per outlet in the batch.
        """
        ids = self.feature_ids_many(articles)
        if not ids:
            return []
        if urls is not None and len(urls) != len(ids):
            raise ValueError("urls must give one URL (or None) per article")
        sources = [self.source_of(u) for u in urls] if urls is not None else [None] * len(ids)
        out: list[TopicPrediction | None] = [None] * len(ids)
        for source in dict.fromkeys(sources):
            rows = [i for i, s in enumerate(sources) if s == source]
            scores = self.decision(*self.vectorize(ids[i] for i in rows), source=source)
            second = self._second_min_prob(source)
            for i, probs in zip(rows, self.probabilities(scores, source), strict=True):
                out[i] = self._prediction(probs, second)
        return [p for p in out if p is not None]

    def predict(
        self, title: str, description: str = "", text: str = "", url: str | None = None
    ) -> TopicPrediction:
        """The topics of one article; an empty article gets the prior's best guess."""
        return self.predict_many([(title, description, text)], None if url is None else [url])[0]

    def _prediction(self, probs: FloatArray, second_min_prob: float) -> TopicPrediction:
        order = np.argsort(-probs, kind="stable")
        best = self.classes[int(order[0])]
        topics = [best]
        second = int(order[1])
        if probs[second] >= second_min_prob:
            topics.append(self.classes[second])
        scores = {c: round(float(p), 6) for c, p in zip(self.classes, probs, strict=True)}
        return TopicPrediction(best=best, scores=scores, topics=tuple(topics))


@cache
def _builtin() -> TopicClassifier:
    # Read from the file itself rather than from a copy of its bytes: loading is the process's peak.
    with resources.as_file(resources.files("news").joinpath("data", MODEL_RESOURCE)) as path:
        return TopicClassifier._from_file(path)


def softmax_temperature_loss(decision: FloatArray, labels: Sequence[int], temperature: float) -> float:
    """Mean negative log-likelihood of ``labels`` under softmax(decision / temperature); for calibration."""
    z = decision / temperature
    z = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1))
    picked = z[np.arange(len(labels)), np.asarray(labels)]
    return float(np.mean(log_norm - picked)) if len(labels) else math.nan
