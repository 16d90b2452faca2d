"""The built-in topic classifier: a TF-IDF linear model over light stems, run with numpy alone.

The model file (``news/data/topics.npz``) is written by ``scripts/train_topics.py``; this module only
reads it and scores, so scikit-learn is a training dependency, never a runtime one. Features are the
stems of title, description and body, stem bigrams inside each field, and the title's stems once more
under their own names (a headline word says more than a body word); each vector is weighted by
sublinear TF times IDF and L2-normalized. ``Featurizer`` names the features (training builds the
vocabulary from it); ``TopicClassifier.feature_ids`` finds the same features as column numbers with
numpy (a bigram is a pair of unigram columns, looked up in a sorted array), which is what makes
inference fast, and training builds its matrices through that same method, so the two cannot drift.
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
from itertools import chain, compress, pairwise, repeat
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from news.arabic import chunk_tokens, chunk_tokens_many, chunks, stem, stem_many, stem_tokens, tokenize

MODEL_RESOURCE = "topics.npz"
FORMAT_VERSION = 1
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

    __slots__ = ("_pieces", "_tokens", "_unigrams", "memo", "multi")

    def __init__(self, pieces: Mapping[str, int], tokens: Mapping[str, int], unigrams: _Columns) -> None:
        self._pieces = pieces  # the model's word forms as written → column: where the memo starts
        self.memo: dict[str, int] = dict(self._pieces)
        self.multi: list[IntArray] = []
        self._tokens = tokens  # the forms that are normalized tokens already → column
        self._unigrams = unigrams

    def columns_many(self, texts: Sequence[str]) -> list[IntArray]:
        """The unigram columns of each text's tokens in order (-1 for a token outside the vocabulary).

        The pieces none of the texts' memo lookups found are learned in one batch: several texts
        (fields, articles) at a time make that cost per batch, not per text.
        """
        pieces_of = [chunks(text) for text in texts]
        if len(self.memo) + sum(map(len, pieces_of)) > _CACHE_LIMIT:
            self.memo = dict(self._pieces)
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

    def _learn(self, rest: list[str]) -> None:
        memo = self.memo
        token_lists = chunk_tokens_many(rest)
        table = self._tokens
        column: dict[str, int] = {}
        unseen = []
        for token in set(chain.from_iterable(token_lists)):
            col = table.get(token)
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


class TopicClassifier:
    """A loaded linear topic model. ``load()`` gives the shipped one, loaded once per process."""

    def __init__(
        self,
        *,
        classes: Sequence[str],
        vocabulary: Sequence[str],
        idf: FloatArray,
        coef: FloatArray,
        intercept: FloatArray,
        config: FeatureConfig,
        temperature: float,
        second_min_prob: float,
        info: Mapping[str, Any] | None = None,
        words: WordTable | None = None,
        sources: SourceWeights | None = None,
    ) -> None:
        if coef.shape != (len(vocabulary), len(classes)) or idf.shape != (len(vocabulary),):
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
        if len(set(vocabulary)) != len(vocabulary):
            raise ValueError("the vocabulary holds a feature twice")
        # Scoring needs only the lookup tables built here; the names (~120k strings, ~10 MB as Python
        # objects) are kept as their UTF-8 text, for ``vocabulary()`` and ``to_bytes``.
        self._n_features = len(vocabulary)
        self._vocabulary_utf8 = "\n".join(vocabulary).encode("utf-8")
        self._unigrams, self._bigram_codes, self._bigram_cols, self._title_cols = _lookup_tables(vocabulary)
        # Word forms with their stems' columns, found at training time (``word_table``): a stemming cache.
        self._words = table = words or WordTable([], [], [])
        if not len(table.forms) == len(table.columns) == len(table.tokens):
            raise ValueError("the word table's lists differ in length")
        pairs = zip(table.forms, table.columns, strict=True)
        tokens = dict(compress(zip(table.forms, table.columns, strict=True), table.tokens))
        self._chunk_codes = _ChunkCodes(dict(pairs), tokens, self._unigrams)
        self._idf = idf.astype(np.float32)
        # Stored in half precision; rounding here too makes a freshly trained model score exactly as
        # the same model read back from its file.
        self._coef = coef.astype(np.float16).astype(np.float32)
        self._intercept = intercept.astype(np.float32)

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
            joined = bytes(npz["vocabulary"]).decode("utf-8")
            vocabulary = joined.split("\n") if joined else []
            words = None
            if "words" in npz.files:
                joined_words = bytes(npz["words"]).decode("utf-8")
                words = WordTable(
                    joined_words.split("\n") if joined_words else [],
                    npz["word_columns"].tolist(),
                    npz["word_is_token"].astype(bool).tolist(),
                )
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
                vocabulary=vocabulary,
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
        arrays: dict[str, npt.NDArray[Any]] = {
            "meta": np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8),
            "vocabulary": np.frombuffer(self._vocabulary_utf8, dtype=np.uint8),
            "idf": self._idf,
            # Half precision halves the file; scores move by ~1e-3, far below any decision margin.
            "coef": self._coef.astype(np.float16),
            "intercept": self._intercept,
        }
        if self._words.forms:
            order = sorted(range(len(self._words.forms)), key=self._words.forms.__getitem__)
            forms = "\n".join(self._words.forms[i] for i in order)
            arrays["words"] = np.frombuffer(forms.encode("utf-8"), dtype=np.uint8)
            arrays["word_columns"] = np.asarray(self._words.columns, dtype=np.int32)[order]
            arrays["word_is_token"] = np.asarray(self._words.tokens, dtype=np.uint8)[order]
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
        return self._n_features

    def vocabulary(self) -> tuple[str, ...]:
        """Feature names, in column order."""
        joined = self._vocabulary_utf8.decode("utf-8")
        return tuple(joined.split("\n")) if self._n_features else ()

    def words(self) -> WordTable:
        """The stored table of word forms (a cache of tokenizing and stemming)."""
        return self._words

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
        """Weights, one row per feature and one column per class."""
        return self._coef

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
            mapped = self._title_cols[head[head >= 0]]
            parts.append(mapped[mapped >= 0])
        return np.concatenate(parts)

    def _bigrams(self, seq: IntArray) -> IntArray:
        first, second = seq[:-1], seq[1:]
        both = (first >= 0) & (second >= 0)
        codes = first[both] * self.n_features + second[both]
        if not len(codes) or not len(self._bigram_codes):
            return np.zeros(0, dtype=np.int64)
        # Sorted keys make the binary searches walk the table in order (numpy starts each one where
        # the last ended), about twice as fast; the order of feature ids does not matter.
        codes.sort()
        at = np.searchsorted(self._bigram_codes, codes)
        at[at == len(self._bigram_codes)] = 0
        hit = self._bigram_codes[at] == codes
        found: IntArray = self._bigram_cols[at[hit]]
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
            rows = self._coef[indices] if len(indices) else None
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


def _lookup_tables(vocabulary: Sequence[str]) -> tuple[_Columns, IntArray, IntArray, IntArray]:
    """Unigram columns, sorted bigram codes with their columns, and the title column of each unigram.

    A bigram «a b» has code ``col(a) * n + col(b)``; both unigrams are in any vocabulary cut by
    document frequency, since a pair never occurs in more documents than either of its words.
    """
    n = len(vocabulary)
    unigrams = _Columns()
    bigram_cols: list[int] = []
    title_at: list[int] = []
    for col, feature in enumerate(vocabulary):  # one pass: this is most of loading a model
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
    codes = pair_cols[0::2] * n + pair_cols[1::2]
    title_words = [vocabulary[c][len(TITLE_PREFIX) :] for c in title_at]
    word_cols = np.fromiter(map(unigrams.__getitem__, title_words), dtype=np.int64, count=len(title_words))
    if len(word_cols) and word_cols.min() < 0:
        bad = vocabulary[title_at[int(np.flatnonzero(word_cols < 0)[0])]]
        raise ValueError(f"title feature {bad!r} has a word outside the vocabulary")
    title_cols = np.full(n, -1, dtype=np.int64)
    title_cols[word_cols] = np.asarray(title_at, dtype=np.int64)
    order = np.argsort(codes, kind="stable")
    return unigrams, codes[order], np.asarray(bigram_cols, dtype=np.int64)[order], title_cols


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
