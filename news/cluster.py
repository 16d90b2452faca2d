"""Story clustering: which earlier article, if any, tells the same event as a new one.

Outlets reword wire copy: two tellings of one event share names, places and numbers but often fewer
than half of their word 3-shingles, while two different events of the same day (a match and the coach's
remarks after it, a threat and the other side's reply) can share almost as many words. So "same story"
is decided in two stages:

1. **Retrieval** — a MinHash of the article's salient stems (title plus the first words of the lead,
   frequent news words removed) is split into one-value bands; each band value keys a bucket of recent
   articles. Buckets are capped (most recent kept), so a lookup touches at most ``bands × cap``
   articles however many are indexed: cost stays flat from 10k to 200k articles, and a burst of one
   topic (a World Cup day) cannot turn a lookup into a scan.
2. **Verification** — a small logistic model scores a candidate pair from title overlap, lead and
   first-sentence overlap, how much of each title appears in the other article (words weighed by their
   inverse document frequency over the index's window, so shared names count more than shared verbs),
   shared stem bigrams (reused wire sentences), shared and conflicting numbers, the time gap and
   whether both come from one outlet. Its weights were fit on the dev half of
   ``benchmarks/data/story_pairs.jsonl`` (``benchmarks/quality_clusters.py --fit``: both labeling
   batches, strata weighted to the first batch's mix, each weight kept to its natural sign); the threshold
   favours precision, because merging two events hides one of them. A story is joined only if the new
   article also resembles the story's first article, so A~B and B~C do not chain C into A's story.

Everything here is pure: no I/O, time is a parameter. What this module does not do: it does not store
anything durable (storage keeps ``StorySignature.to_bytes()`` in ``articles.minhash`` and rebuilds the
index from the window's rows after a restart), it does not clean HTML (callers pass plain text) and it
does not decide topics.
"""

from __future__ import annotations

import heapq
import itertools
import math
import re
import struct
import sys
from array import array
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Final, TypeAlias

import xxhash

from news.arabic import normalize, stem, stems

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

U32: TypeAlias = "array[int]"  # unsigned 32-bit hashes: compact like a numpy array, without numpy


def _h(token: str) -> int:
    return int(xxhash.xxh32_intdigest(token.encode("utf-8")))


SIGNATURE_VERSION: Final = 1
NUM_BANDS: Final = 16  # MinHash values, one per LSH band (rows per band = 1)
LEAD_TOKENS: Final = 60  # lead words compared by the verifier
LSH_LEAD_TOKENS: Final = 20  # lead words that join the title in the retrieval set
BIGRAM_TOKENS: Final = 80  # lead words whose stem bigrams are compared
_LEAD_CHARS: Final = 800  # enough text for BIGRAM_TOKENS words; the rest is never tokenized
_NUMBER_CHARS: Final = 500

# The 200 most frequent words (document frequency over titles and leads of the ANT corpus, 8.6k
# articles from five outlets) plus dateline and packaging words. Generated from data, not hand-picked:
# it drops function words and the news vocabulary that every story shares («اعلن», «الرييس»,
# «ترامب», «مباراه»), which would otherwise make two unrelated stories of one day look alike.
_FREQUENT_WORDS: Final = """
    في من علي ان الي التي عن مع الذي بعد ما هذا وقال خلال انه بين هذه لا قبل قد كما لم عام كان
    ذلك الماضي منذ او وفي الرييس المتحده العام العالم اي لكن اكثر قال حيث وهو انها وكان كانت
    واضاف غير كل هو امام وقالت عبر حتي عاما فيها رييس ايضا بسبب اخري وذلك بشكل نحو الولايات هي
    يوم له الاول بعض وكانت عدد الاولي حول فيه اليوم ومن وقت دولار وقد بان الا بها الذين القدم
    موقع اول فيما احد لها مثل مدينه هناك شركه تم وهي السعوديه الجمعه اذا بيان وكاله الاربعاء ولم
    ضد الثلاثاء الاثنين الامر الثاني الاخيره بشان دون و محمد مليون عندما اكبر الامريكيه روسيا
    جديده الوقت عليها الحكومه يمكن الان دونالد الاحد اعلن البلاد ب وزير الخميس اعلنت ترامب والتي
    باسم اخر عليه الامريكي فقط السبت ولا السابق سنوات فان بحسب اذ تلك عند الف قالت الدولي كبيره
    العربيه الاتحاد به وزاره كاس لكره يكون مباراه اجل منها وفقا بينما كبير لن العمل عده مجلس
    المصري تويتر بعدما التواصل بي الخارجيه ضمن ولكن منطقه المباراه المقبل مقابل الفريق الاجتماعي
    شخص اوروبا الشركه السلطات الاسبوع مره جميع لدي ال العاصمه حين سي ثم وان الاميركيه وسط مصر
    مليار بما فريق السعودي عدم
    دبي الامارات اتلانتا نيويورك لندن واشنطن بيروت القاهره cnn نت شاهد بالصور بالفيديو فيديو عاجل
    امس صباح ليل غدا الامريكي الاميركي ترمب
"""
_STOP: Final = frozenset(stem(w) for w in normalize(_FREQUENT_WORDS).split())

_EMPTY_BAND: Final = 0xFFFFFFFF  # MinHash value of an empty set: never bucketed
_PRIME: Final = (1 << 61) - 1
_MAX32: Final = (1 << 32) - 1
_U32: Final = "I" if array("I").itemsize == 4 else "L"  # the typecode of 4-byte unsigned items

_FIRST_SENTENCE = re.compile(r"(?<!\d)[.!?؟؛\n](?!\d)")
_WORD = re.compile(r"[^\W_]+")  # the tokenizer's notion of a word, to count without stemming
_NUMBER = re.compile(r"[0-9٠-٩۰-۹]+(?:[.,٫][0-9٠-٩۰-۹]+)?")
_DIGITS = str.maketrans(
    {
        **{chr(0x0660 + d): str(d) for d in range(10)},
        **{chr(0x06F0 + d): str(d) for d in range(10)},
        ",": ".",
        "٫": ".",
    }
)
# Stems of this sentence identify the stemmer and stop-word list that made a signature.
_PROBE: Final = "أعلنت الحكومات والمنتخبات واللاعبون والأميركيون أن قراراتهم بالانسحاب ستُطبَّق في 2018"
_STEMMER_MARK: Final = _h(" ".join(stems(_PROBE)) + "|" + " ".join(sorted(_STOP))) & 0xFFFF


def _content(s: str) -> bool:
    return len(s) > 1 and not s.isdigit() and s not in _STOP


def _distinctive_numbers(text: str) -> set[str]:
    """Numbers that identify an event (tolls, scores, sums); years and small counts say little."""
    found: set[str] = set()
    for raw in _NUMBER.findall(text):
        n = raw.translate(_DIGITS)
        if "." in n:
            found.add(n)
            continue
        value = int(n)
        if value >= 10 and not 1900 <= value <= 2100:
            found.add(n)
    return found


@dataclass(frozen=True, slots=True, eq=False)
class StorySignature:
    """What clustering keeps of an article: hashed stems, bigrams and numbers, and a MinHash.

    Every field is a sorted ``array("I")`` of unique 32-bit hashes (``minhash`` is ordered by band
    instead): as compact as numpy's arrays, but the process that matches stories (which only reads
    signatures) then never imports numpy, ~18 MB of its memory.
    ``to_bytes`` gives a few hundred bytes for ``articles.minhash``; ``from_bytes`` raises ValueError
    for blobs of another ``SIGNATURE_VERSION`` or made while ``news.arabic`` stemmed differently (a
    16-bit mark of the stems of a probe sentence is stored), so after an upgrade the caller recomputes
    the signature from the stored title and text instead of comparing unlike hashes.
    """

    title: U32
    first: U32  # content stems of the lead's first sentence
    words: U32  # title ∪ the lead's first LEAD_TOKENS content stems
    bigrams: U32
    numbers: U32
    title_numbers: U32
    minhash: U32

    _HEADER = struct.Struct("<BHBHHHHHH")

    def to_bytes(self) -> bytes:
        head = self._HEADER.pack(
            SIGNATURE_VERSION,
            _STEMMER_MARK,
            len(self.minhash),
            len(self.title),
            len(self.first),
            len(self.words),
            len(self.bigrams),
            len(self.numbers),
            len(self.title_numbers),
        )
        parts = (
            self.minhash,
            self.title,
            self.first,
            self.words,
            self.bigrams,
            self.numbers,
            self.title_numbers,
        )
        return head + b"".join(map(_little_endian, parts))

    @classmethod
    def from_bytes(cls, data: bytes) -> StorySignature:
        if len(data) < cls._HEADER.size:
            raise ValueError("story signature too short")
        version, stemmer, *sizes = cls._HEADER.unpack_from(data)
        if version != SIGNATURE_VERSION:
            raise ValueError(f"story signature version {version}, expected {SIGNATURE_VERSION}")
        if stemmer != _STEMMER_MARK:
            raise ValueError("story signature made with another stemmer; recompute it from the text")
        if sizes[0] != NUM_BANDS or cls._HEADER.size + 4 * sum(sizes) != len(data):
            raise ValueError("malformed story signature")
        values = array(_U32, data[cls._HEADER.size :])
        if sys.byteorder == "big":
            values.byteswap()
        arrays: list[U32] = []
        start = 0
        for size in sizes:
            arrays.append(values[start : start + size])
            start += size
        minhash, title, first, words, bigrams, numbers, title_numbers = arrays
        return cls(title, first, words, bigrams, numbers, title_numbers, minhash)

    @property
    def empty(self) -> bool:
        """True when the text had no content words: such an article never joins a story."""
        return len(self.words) == 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StorySignature) and self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.to_bytes())


def signature(title: str, text: str) -> StorySignature:
    """The clustering signature of one article (``text``: cleaned summary or body, dateline allowed).

    Only the title and the first words of the lead are read: that is where every outlet states the
    event, and it keeps the cost flat for long bodies.
    """
    # Imported here: the process that only matches stories (``nashra fetch`` with worker processes)
    # never computes a signature, and the cleaning patterns cost ~10 ms to compile.
    from news.clean import strip_dateline

    body = strip_dateline(text[: _LEAD_CHARS + 200])[:_LEAD_CHARS]
    title_keys = list(map(_key_memo.__getitem__, stems(title)))
    lead_keys = list(map(_key_memo.__getitem__, stems(body)[: max(LEAD_TOKENS, BIGRAM_TOKENS)]))
    first_words = len(_WORD.findall(_FIRST_SENTENCE.split(body, maxsplit=1)[0]))
    title_set = {h for h, content in title_keys if content}
    lsh = title_set | {h for h, content in lead_keys[:LSH_LEAD_TOKENS] if content}
    words = title_set | {h for h, content in lead_keys[:LEAD_TOKENS] if content}
    window = lead_keys[:BIGRAM_TOKENS]
    bigrams = {
        (ha * 2654435761 + hb * 40503 + 1) & 0xFFFFFFFF
        for (ha, ca), (hb, cb) in itertools.pairwise(window)
        if ca or cb
    }
    return StorySignature(
        title=_sorted(title_set),
        first=_sorted({h for h, content in lead_keys[:first_words] if content}),
        words=_sorted(words),
        bigrams=_sorted(bigrams),
        numbers=_sorted({_h("#" + n) for n in _distinctive_numbers(title + "\n" + body[:_NUMBER_CHARS])}),
        title_numbers=_sorted({_h("#" + n) for n in _distinctive_numbers(title)}),
        minhash=_minhash(lsh),
    )


class _KeyMemo(dict[str, tuple[int, bool]]):
    """stem -> (32-bit hash, is a content word); news vocabularies repeat, so hashing is a dict hit."""

    def __missing__(self, key: str) -> tuple[int, bool]:
        if len(self) >= 400_000:
            self.clear()
        value = (_h(key), _content(key))
        self[key] = value
        return value


_key_memo = _KeyMemo()


def _little_endian(values: U32) -> bytes:
    if sys.byteorder == "little":
        return values.tobytes()
    swapped = array(_U32, values)
    swapped.byteswap()
    return swapped.tobytes()


def _sorted(values: set[int]) -> U32:
    return array(_U32, sorted(values))


@cache
def _permutations() -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """The retrieval permutations: the affine scheme of datasketch's MinHash, h -> (a*h + b) mod
    (2^61 - 1), drawn with a fixed seed so signatures stored yesterday still match today's.

    numpy is imported here, where signatures are made (the worker processes, which hold it for the
    topic model anyway), not where they are only read and compared.
    """
    import numpy as np

    rng = np.random.RandomState(20180215)
    a = rng.randint(1, 1 << 32, size=NUM_BANDS, dtype=np.uint64)
    return a, rng.randint(0, 1 << 32, size=NUM_BANDS, dtype=np.uint64)


def _minhash(hashes: set[int]) -> U32:
    if not hashes:
        return array(_U32, [_EMPTY_BAND] * NUM_BANDS)
    import numpy as np  # vectorized: ten times as fast as the same arithmetic on Python ints

    a, b = _permutations()
    hv = np.array(list(hashes), dtype=np.uint64)
    # a, b < 2^32 and h < 2^32, so a*h + b < 2^64: no uint64 overflow before the modulus.
    permuted = np.bitwise_and((hv[:, None] * a + b) % np.uint64(_PRIME), np.uint64(_MAX32))
    return array(_U32, permuted.min(axis=0).astype(np.uint32).tolist())


def _common(x: U32, y: U32) -> int:
    """Size of the intersection of two arrays of unique hashes."""
    if not x or not y:
        return 0
    if len(x) > len(y):
        x, y = y, x
    return len(set(x).intersection(y))


def _jaccard(x: U32, y: U32) -> float:
    c = _common(x, y)
    union = len(x) + len(y) - c
    return c / union if union else 0.0


def _coverage(part: U32, whole: U32) -> float:
    return _common(part, whole) / len(part) if part else 0.0


def _conflict(x: U32, y: U32) -> float:
    return 1.0 if x and y and not _common(x, y) else 0.0


FEATURE_NAMES: Final = (
    "words_jaccard",
    "first_sentence_jaccard",
    "title_overlap",
    "title_cross",
    "title_cross_min",
    "bigram_jaccard",
    "shared_numbers",
    "title_number_conflict",
    "number_conflict",
    "gap_days_after_6h",
    "same_source",
)


Weigher = Callable[[int], float]


def _uniform(_: int) -> float:
    return 1.0


def smooth_idf(df: int, docs: int) -> float:
    """``log((1 + docs) / (1 + df)) + 1``, the weight ``StoryIndex.idf`` gives a word."""
    return math.log((1 + docs) / (1 + df)) + 1.0


def _weighted_jaccard(x: set[int], y: set[int], w: Weigher) -> float:
    union = sum(map(w, x | y))
    return sum(map(w, x & y)) / union if union else 0.0


def _weighted_coverage(part: set[int], whole: set[int], w: Weigher) -> float:
    total = sum(map(w, part))
    return sum(map(w, part & whole)) / total if total else 0.0


@dataclass(frozen=True, slots=True)
class _WordSets:
    """A signature's title, words and first-sentence hashes as Python sets, for the weighted features.

    Built once per lookup for the new article, and for each candidate only when it is scored: kept for
    every indexed article they were 70% of the index's memory (~5.5 KB an article), and building them
    at ``add`` cost more than building them for the few candidates a lookup scores. Built the same way
    each time, so a set's iteration order, and with it the order in which ``features`` adds up float
    weights, does not depend on when it was built.
    """

    title: set[int]
    words: set[int]
    first: set[int]

    @classmethod
    def of(cls, sig: StorySignature) -> _WordSets:
        return cls(set(sig.title), set(sig.words), set(sig.first))


def features(
    a: StorySignature, b: StorySignature, *, gap: timedelta, same_source: bool, idf: Weigher | None = None
) -> tuple[float, ...]:
    """The verifier's inputs for one pair, in ``FEATURE_NAMES`` order (exposed for the benchmark).

    ``idf`` weighs word hashes (rare names count more than common verbs); without it every word
    weighs the same. ``StoryIndex`` passes the inverse document frequency over its window.
    """
    return _features(a, b, _WordSets.of(a), _WordSets.of(b), gap=gap, same_source=same_source, idf=idf)


def _features(
    a: StorySignature,
    b: StorySignature,
    a_sets: _WordSets,
    b_sets: _WordSets,
    *,
    gap: timedelta,
    same_source: bool,
    idf: Weigher | None,
) -> tuple[float, ...]:
    w = idf or _uniform
    a_title, b_title = a_sets.title, b_sets.title
    a_words, b_words = a_sets.words, b_sets.words
    a_in_b = _weighted_coverage(a_title, b_words, w)
    b_in_a = _weighted_coverage(b_title, a_words, w)
    shorter = min(sum(map(w, a_title)), sum(map(w, b_title)))
    return (
        _weighted_jaccard(a_words, b_words, w),
        _weighted_jaccard(a_sets.first, b_sets.first, w),
        sum(map(w, a_title & b_title)) / shorter if shorter else 0.0,
        a_in_b + b_in_a,
        min(a_in_b, b_in_a),
        _jaccard(a.bigrams, b.bigrams),
        float(min(3, _common(a.numbers, b.numbers))),
        _conflict(a.title_numbers, b.title_numbers),
        _conflict(a.numbers, b.numbers),
        max(0.0, abs(gap.total_seconds()) / 3600.0 - 6.0) / 24.0,
        1.0 if same_source else 0.0,
    )


# Logistic weights in FEATURE_NAMES order, fit on the dev split (see the module docstring). The
# number conflict sits at 0: held to its sign, the fit finds nothing in it beyond the title-number
# conflict and the gap.
WEIGHTS: Final = (2.05, 2.64, 0.66, 2.09, 0.4, 1.66, 0.1, -0.91, 0.0, -3.44, -1.6)
BIAS: Final = -2.08
DEFAULT_THRESHOLD: Final = 0.77
# Candidates whose word sets overlap (unweighted Jaccard) less than this are not scored at all: on the
# labeled pairs no pair the verifier scores >= 0.6 has a word Jaccard below 0.063, and one intersection
# is much cheaper than the eleven features.
PREFILTER_WORDS_JACCARD: Final = 0.05
# A new article joining a story must also score this much against the story's earliest article.
FOUNDER_THRESHOLD: Final = 0.4


def similarity(
    a: StorySignature, b: StorySignature, *, gap: timedelta, same_source: bool, idf: Weigher | None = None
) -> float:
    """Probability-like score in [0, 1] that ``a`` and ``b`` tell the same event (see ``features``)."""
    if a.empty or b.empty:
        return 0.0
    return _probability(features(a, b, gap=gap, same_source=same_source, idf=idf))


def _probability(inputs: tuple[float, ...]) -> float:
    z = BIAS + sum(w * f for w, f in zip(WEIGHTS, inputs, strict=True))
    return 1.0 / (1.0 + math.exp(-z))


@dataclass(frozen=True, slots=True)
class StoryMatch:
    """The story a new article joins, through which stored article, and how sure the verifier was."""

    story_id: int
    article_id: int
    similarity: float


@dataclass(slots=True)
class _Entry:
    story_id: int
    at: datetime
    stamp: float  # at.timestamp(), for cheap gaps while ranking candidates
    source: str
    sig: StorySignature


def _band_keys(sig: StorySignature) -> list[int]:
    return [(band << 32) | int(v) for band, v in enumerate(sig.minhash) if int(v) != _EMPTY_BAND]


class StoryIndex:
    """In-memory index of the articles published within ``window`` of now, for story matching.

    Memory is bounded by the window (``evict`` drops what fell out of it); a lookup reads at most
    ``NUM_BANDS × bucket_cap`` bucket entries and examines at most ``max_verify`` candidates, those
    sharing the most bands first (then the closest in time).
    Not thread-safe; one ingest task owns it.
    """

    def __init__(
        self,
        window: timedelta,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        founder_threshold: float = FOUNDER_THRESHOLD,
        bucket_cap: int = 32,
        max_verify: int = 24,
        prior_df: Mapping[int, int] | None = None,
        prior_docs: int = 0,
    ) -> None:
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        if bucket_cap < 1 or max_verify < 1:
            raise ValueError("bucket_cap and max_verify must be at least 1")
        self.window = window
        self.threshold = threshold
        self.founder_threshold = founder_threshold
        self.bucket_cap = bucket_cap
        self.max_verify = max_verify
        self._entries: dict[int, _Entry] = {}
        self._buckets: dict[int, list[int]] = {}
        self._expiry: list[tuple[datetime, int]] = []
        self._members: dict[int, set[int]] = {}  # story id -> its indexed articles
        self._founders: dict[int, int] = {}  # story id -> its earliest indexed article
        self._df: dict[int, int] = {}  # word hash -> indexed articles containing it
        self._prior_df: Mapping[int, int] = prior_df or {}
        self._prior_docs = prior_docs

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._entries

    def story_of(self, article_id: int) -> int | None:
        entry = self._entries.get(article_id)
        return entry.story_id if entry else None

    def add(
        self, article_id: int, story_id: int, sig: StorySignature, at: datetime, *, source: str = ""
    ) -> None:
        """Index an article as a member of ``story_id`` (re-adding an id replaces it)."""
        _require_aware(at)
        if article_id in self._entries:
            self._remove(article_id)
        self._entries[article_id] = _Entry(story_id, at, at.timestamp(), source, sig)
        self._members.setdefault(story_id, set()).add(article_id)
        df = self._df
        for h in sig.words:
            df[h] = df.get(h, 0) + 1
        founder = self._entries.get(self._founders.get(story_id, -1))
        if founder is None or (at, article_id) < (founder.at, self._founders[story_id]):
            self._founders[story_id] = article_id
        heapq.heappush(self._expiry, (at, article_id))
        for key in _band_keys(sig):
            bucket = self._buckets.setdefault(key, [])
            bucket.append(article_id)
            if len(bucket) > self.bucket_cap:
                del bucket[0]

    def rename_story(self, old: int, new: int) -> None:
        """Give the articles of story ``old`` the id ``new`` (a caller's placeholder becomes the stored id).

        Lets a caller index a batch's new stories under provisional ids and create them all at once.
        """
        if old == new or old not in self._members:
            return
        if new in self._members:
            raise ValueError(f"story {new} is already indexed")
        members = self._members.pop(old)
        for article_id in members:
            self._entries[article_id].story_id = new
        self._members[new] = members
        self._founders[new] = self._founders.pop(old)

    def match(self, sig: StorySignature, at: datetime, *, source: str = "") -> StoryMatch | None:
        """The best story for a new article published at ``at``, or None when nothing is close enough."""
        _require_aware(at)
        if sig.empty:
            return None
        buckets = self._buckets
        idf = _IdfMemo(self).__getitem__  # one weight per word for this lookup, however many pairs
        lists = [buckets[key] for key in _band_keys(sig) if key in buckets]
        # Counted in C; newest first so that, among equal counts, the most recent articles come first.
        hits = Counter(itertools.chain.from_iterable(map(reversed, lists)))
        stamp, reach, entries = at.timestamp(), self.window.total_seconds(), self._entries
        own = _WordSets.of(sig)
        scored: list[StoryMatch] = []
        examined = 0
        for article_id, _ in hits.most_common():
            entry = entries[article_id]
            if abs(stamp - entry.stamp) > reach:
                continue
            examined += 1
            if examined > self.max_verify:
                break
            # The unweighted word Jaccard, from the new article's set (the arrays hold unique hashes, so
            # the count and the ratio are those of ``_jaccard``).
            common = len(own.words.intersection(entry.sig.words))
            union = len(own.words) + len(entry.sig.words) - common
            if (common / union if union else 0.0) < PREFILTER_WORDS_JACCARD:
                continue
            score = self._score(sig, own, at, source, entry, idf)
            if score >= self.threshold:
                scored.append(StoryMatch(entry.story_id, article_id, score))
        scored.sort(key=lambda m: (-m.similarity, m.article_id))
        for found in scored:
            if self._agrees_with_founder(sig, own, at, source, found, idf):
                return found
        return None

    def idf(self, word_hash: int) -> float:
        """Smoothed inverse document frequency of a word over the window (plus the prior counts).

        ``log((1 + n) / (1 + df)) + 1``: never zero, so a nearly empty window (a fresh install) weighs
        words almost uniformly instead of ignoring the few articles it has.
        """
        return smooth_idf(
            self._df.get(word_hash, 0) + self._prior_df.get(word_hash, 0),
            len(self._entries) + self._prior_docs,
        )

    def _score(
        self, sig: StorySignature, own: _WordSets, at: datetime, source: str, entry: _Entry, idf: Weigher
    ) -> float:
        """``similarity(sig, entry.sig, …)``, from the word sets already built for both."""
        if sig.empty or entry.sig.empty:
            return 0.0
        same_source = bool(source) and source == entry.source
        gap = at - entry.at
        return _probability(
            _features(sig, entry.sig, own, _WordSets.of(entry.sig), gap=gap, same_source=same_source, idf=idf)
        )

    def _agrees_with_founder(
        self, sig: StorySignature, own: _WordSets, at: datetime, source: str, found: StoryMatch, idf: Weigher
    ) -> bool:
        """Guard against chaining: A~B and B~C must not pull C into A's story when C and A differ.

        The new article must also resemble the story's earliest indexed article, at a lower bar.
        """
        founder_id = self._founders.get(found.story_id)
        if founder_id is None or founder_id == found.article_id:
            return True
        founder = self._entries[founder_id]
        return self._score(sig, own, at, source, founder, idf) >= self.founder_threshold

    def evict(self, now: datetime) -> int:
        """Forget articles published before ``now - window``; returns how many were dropped."""
        _require_aware(now)
        cutoff = now - self.window
        dropped = 0
        while self._expiry and self._expiry[0][0] < cutoff:
            at, article_id = heapq.heappop(self._expiry)
            entry = self._entries.get(article_id)
            if entry is not None and entry.at == at:
                self._remove(article_id)
                dropped += 1
        return dropped

    def _remove(self, article_id: int) -> None:
        entry = self._entries.pop(article_id)
        df = self._df
        for h in entry.sig.words:
            left = df[h] - 1
            if left:
                df[h] = left
            else:
                del df[h]
        members = self._members[entry.story_id]
        members.discard(article_id)
        if not members:
            del self._members[entry.story_id]
            del self._founders[entry.story_id]
        elif self._founders[entry.story_id] == article_id:
            self._founders[entry.story_id] = min(members, key=lambda m: (self._entries[m].at, m))
        for key in _band_keys(entry.sig):
            bucket = self._buckets.get(key)
            if bucket is None:
                continue
            try:
                bucket.remove(article_id)
            except ValueError:  # already pushed out by the cap
                continue
            if not bucket:
                del self._buckets[key]


class _IdfMemo(dict[int, float]):
    """``word hash → StoryIndex.idf`` for the length of one lookup.

    The window's counts cannot change while ``match`` runs, so each word's weight is computed once
    instead of once per sum in every candidate pair (that was ~700 Python calls per new article). The
    values, and the order in which ``features`` adds them, are those of ``StoryIndex.idf`` itself, so
    scores are bit-for-bit the same; ``features`` reads them through ``dict.__getitem__``, in C.
    """

    __slots__ = ("_df", "_docs", "_prior")

    def __init__(self, index: StoryIndex) -> None:
        super().__init__()
        self._df, self._prior = index._df, index._prior_df
        self._docs = len(index._entries) + index._prior_docs

    def __missing__(self, word_hash: int) -> float:
        # ``StoryIndex.idf`` without its lookups of the index (a lookup misses ~90 times).
        df = self._df.get(word_hash, 0) + self._prior.get(word_hash, 0)
        value = self[word_hash] = smooth_idf(df, self._docs)
        return value


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("naive datetime given to story clustering")


@dataclass(frozen=True, slots=True)
class StoryMember:
    """One article of a story, as far as choosing the representative needs to know it."""

    article_id: int
    source: str
    published_at: datetime
    text_length: int = 0


def choose_representative(members: Sequence[StoryMember]) -> StoryMember:
    """The article the digest shows for a story: the earliest one with a substantive text.

    "Substantive" means at least half as long as the longest telling, so a one-line video caption or a
    breaking-news stub that arrived first gives way to the first full report. Ties go to the lower id.
    """
    if not members:
        raise ValueError("a story has at least one article")
    longest = max(m.text_length for m in members)
    substantive = [m for m in members if 2 * m.text_length >= longest]
    return min(substantive, key=lambda m: (m.published_at, m.article_id))
