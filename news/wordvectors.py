"""Word vectors for closeness of meaning between two titles, read with numpy alone.

The vectors are FastText's (``scripts/train_daypass_vectors.py`` trains them on the ANT corpus and
writes ``news/data/daypass_vectors.npz``): a word of the vocabulary has its own vector; any other word
gets the mean of its character n-grams' bucket vectors, so a spelling the corpus never had («تشيلسى»,
a new transliteration of a name) still lands near the ones it had. What this module does not do: train,
or decide anything; ``news.daypass`` decides how much the closeness counts.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Final

import numpy as np
import numpy.typing as npt

RESOURCE: Final = "daypass_vectors.npz"
Vector = npt.NDArray[np.float32]


def _fnv1a(data: bytes) -> int:
    """FastText's n-gram hash: 32-bit FNV-1a over the bytes read as signed chars."""
    h = 2166136261
    for byte in data:
        h = ((h ^ ((byte - 256 if byte > 127 else byte) & 0xFFFFFFFF)) * 16777619) & 0xFFFFFFFF
    return h


def ngram_buckets(word: str, min_n: int, max_n: int, buckets: int) -> list[int]:
    """The buckets of ``word``'s character n-grams, word wrapped in «<» and «>» as FastText does."""
    wrapped = f"<{word}>"
    return [
        _fnv1a(wrapped[i : i + n].encode("utf-8")) % buckets
        for n in range(min_n, max_n + 1)
        for i in range(len(wrapped) - n + 1)
    ]


class WordVectors:
    """Unit-length word vectors and mean title vectors, cached per distinct word."""

    def __init__(
        self,
        words: Iterable[str],
        word_vectors: npt.NDArray[np.float32],
        ngram_vectors: npt.NDArray[np.float32],
        min_n: int,
        max_n: int,
    ) -> None:
        self._index = {w: i for i, w in enumerate(words)}
        self._words = word_vectors
        self._ngrams = ngram_vectors
        self._min_n, self._max_n = min_n, max_n
        self.dim = int(word_vectors.shape[1])
        self._memo: dict[str, Vector | None] = {}

    def word(self, token: str) -> Vector | None:
        """The unit vector of one normalized token; None when it has none (no n-gram either)."""
        if token in self._memo:
            return self._memo[token]
        i = self._index.get(token)
        if i is not None:
            raw: Vector = self._words[i]
        else:
            rows = ngram_buckets(token, self._min_n, self._max_n, len(self._ngrams))
            raw = self._ngrams[rows].mean(axis=0) if rows else np.zeros(self.dim, np.float32)
        norm = float(np.linalg.norm(raw))
        value = (raw / norm).astype(np.float32) if norm > 0 else None
        if len(self._memo) >= 200_000:
            self._memo.clear()
        self._memo[token] = value
        return value

    def mean(self, tokens: Iterable[str]) -> Vector | None:
        """The unit mean of the tokens' unit vectors (None when no token has one)."""
        found = [v for v in map(self.word, tokens) if v is not None]
        if not found:
            return None
        total: Vector = np.sum(found, axis=0, dtype=np.float32)
        norm = float(np.linalg.norm(total))
        return total / norm if norm > 0 else None


def _dequantize(q: npt.NDArray[np.int8], scale: npt.NDArray[np.float16]) -> npt.NDArray[np.float32]:
    out: npt.NDArray[np.float32] = q.astype(np.float32) * scale.astype(np.float32)[:, None]
    return out


@lru_cache(maxsize=1)
def shipped() -> WordVectors:
    """The vectors shipped in ``news/data/daypass_vectors.npz`` (loaded once, about 0.1 s)."""
    raw = resources.files("news").joinpath("data", RESOURCE).read_bytes()
    arrays: dict[str, npt.NDArray[np.generic]] = {}
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        for name in zf.namelist():
            arrays[name.removesuffix(".npy")] = np.load(io.BytesIO(zf.read(name)), allow_pickle=False)
    min_n, max_n, _ = (int(x) for x in arrays["params"])
    return WordVectors(
        (str(w) for w in arrays["words"]),
        _dequantize(arrays["word_vectors"].astype(np.int8), arrays["word_scale"].astype(np.float16)),
        _dequantize(arrays["ngram_vectors"].astype(np.int8), arrays["ngram_scale"].astype(np.float16)),
        min_n,
        max_n,
    )
