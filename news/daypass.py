"""The digest's second look at a day's stories: merge entries that tell one story, split off strays.

Ingestion assigns each article to a story at once (``news.cluster``): it compares the article with one
earlier article at a time, under a precision-first threshold, and never looks back. By digest time each
entry has several articles' titles and leads as evidence and the whole day is known, so this pass looks
again, in two steps:

1. **Split.** Within an entry, taken in publication order, a member whose lead names other weekdays than
   the members before it, another figure for the same named quantity («80 قتيلا» beside «30 قتيلا»;
   «7 ملايين يورو» and «8.2 ملايين دولار» are different quantities, not a conflict) or another match
   score («2-1» beside «0-0») tells another event (Friday's raids beside Saturday's strike) and leaves
   the entry, to stand alone or join another one in step 2. So does **another party's answer**: a
   title that replies, reacts or gives first remarks («بريطانيا ترد على طرد دبلوماسييها», «تدين»,
   «في أول تعليق», «بيونغيانغ: ...») beside titles that tell the news, or two replies by two named
   parties («موسكو ترد» / «بريطانيا ترد»). Readers count the answer as a story of its own, and its
   wording repeats the news it answers, so word overlap alone folds it in.
2. **Merge.** Two entries are compared on their pooled words: every member's title and lead words, title
   words counted ``TITLE_WEIGHT`` times, each weighed by its inverse document frequency over the day (a
   shared name counts, a shared «قال» hardly). Entries that share at least ``min_shared`` words, whose
   cosine reaches ``threshold``, that lie within ``max_gap`` of each other and show no conflict as above
   become one, best pairs first; one of the shared words must be distinctive (in under 1 % of
   articles), so two short titles made only of common words («خبر من العاصمة اليوم») never match.

Words are compared through a **consonant skeleton** of their stem: long vowels and hamza seats dropped,
«غ گ چ» folded into «ج», «ڤ» into «ف», «پ» into «ب», so that transliterated names spelled two ways
(«تشلسي/تشيلسي», «غوغل/جوجل», «ميغان/ميجان») share a key; a Latin word of four letters or more is
written as the skeleton of its usual Arabic transliteration («Brexit» meets «بريكسيت»).

What the figures said (``benchmarks/quality_days.py``, ten labeled days of real feeds): the conflicts
remove mixed entries without creating repeats, the merge removes about a quarter of the repeats. At a
cosine of 0.4 the merge alone folded replies and a player's remarks into the news they answer; with the
reply conflict refusing those, the threshold came down to 0.34 (chosen on the dev days: below it,
two matches of one league day and another dismissal of the same afternoon start to join). The reply
conflict fires on 27 of 282 different-story and 5 of 315 same-story labeled dev pairs. Publication-time
decay of the score, outlier members (by similarity to the rest of their entry) and mean FastText title
vectors were tried and did not help.

Everything is pure: members in, a grouping out. What it does not do: read or write storage (the digest
builder shows the grouping; stories in the database stay as ingestion left them), decide topics, or
replace ingestion's assignment.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Final

from news.arabic import normalize, stem, tokenize
from news.models import DigestStory, StoryArticle, StorySource

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
PRIOR_RESOURCE: Final = "daypass_prior.json"
PRIOR_PATH: Final = Path(__file__).resolve().parent / "data" / PRIOR_RESOURCE
LEAD_WORDS: Final = 40  # lead words read per article: where outlets state the event
TITLE_WEIGHT: Final = 2.0
# Merged entries must share a distinctive word: one found in under 1 % of articles (a name, a place, a
# rare noun). Cosine alone is scale-free: two short titles made of common words would match.
RARE_SHARE: Final = 0.01
# Title keys shared by more entries than this are too common to propose candidates (they still count in
# the cosine); keeps the pass near-linear on a busy day.
MAX_POSTING: Final = 200

_WEEKDAYS: Final = (
    ("الأحد",),
    ("الاثنين", "الإثنين"),
    ("الثلاثاء",),
    ("الأربعاء",),
    ("الخميس",),
    ("الجمعة",),
    ("السبت",),
)
_WEEKDAY: Final = {normalize(word): day for day, words in enumerate(_WEEKDAYS) for word in words}
_SKELETON: Final = str.maketrans(
    {"ا": None, "و": None, "ي": None, "ء": None, "غ": "ج", "گ": "ج", "چ": "ج", "ڤ": "ف", "پ": "ب"}
)
_ARABIC_LETTER: Final = re.compile("[\u0621-\u064a\u067e\u0686\u06a4\u06af]")
_NUMBER_UNIT: Final = re.compile(r"(\d+(?:[.,]\d+)?)\s+([^\W\d_]{2,})(?:\s+([^\W\d_]{2,}))?")
# After a magnitude word the quantity is named by the next word: «ملايين يورو» is not «ملايين دولار».
_MAGNITUDES: Final = frozenset(
    normalize(w) for w in ("ألف", "آلاف", "مليون", "ملايين", "مليار", "مليارات", "بالمئة", "بالمائة", "في")
)
_SCORE: Final = re.compile(r"(?<![\d.,])(\d{1,2})\s*[-–]\s*(\d{1,2})(?![\d.,])")
# A title that answers something: a party's reply, reaction or first remarks. Verbs name their subject
# in the word before («بريطانيا ترد»); nouns do not («ردا على», «أول تعليق»). «تعلق» alone also means
# "suspends", so the remarks verbs count only before «على».
_REPLY_VERBS: Final = frozenset(
    normalize(w)
    for w in ("ترد", "يرد", "ردت", "يردون", "تدين", "يدين", "تندد", "يندد", "ترحب", "يرحب", "تحذر", "يحذر")
)
_REMARK_VERBS: Final = frozenset(normalize(w) for w in ("يعلق", "تعلق"))
_REPLY_NOUNS: Final = frozenset(normalize(w) for w in ("رد", "ردا", "تعليقا"))
_FIRST: Final = normalize("أول")
# «بغداد: حريق ...» is a dateline, not Baghdad's words: an event noun follows the colon.
_EVENT_NOUNS: Final = frozenset(
    normalize(w)
    for w in ("مقتل", "مصرع", "حريق", "انفجار", "تفجير", "هجوم", "اعتقال", "سقوط", "تحطم", "وفاة", "إطلاق")
)
_REMARK: Final = normalize("تعليق")
_ON: Final = normalize("على")
# A capital stands for its country as the subject of a reply («موسكو ترد» is «روسيا ترد»).
_CAPITALS: Final = {
    normalize(capital): normalize(country)
    for capital, country in (
        ("موسكو", "روسيا"),
        ("لندن", "بريطانيا"),
        ("واشنطن", "أمريكا"),
        ("طهران", "إيران"),
        ("بكين", "الصين"),
        ("أنقرة", "تركيا"),
        ("دمشق", "سوريا"),
        ("القاهرة", "مصر"),
        ("الرياض", "السعودية"),
        ("باريس", "فرنسا"),
        ("برلين", "ألمانيا"),
        ("بيونغيانغ", "كوريا"),
        ("بغداد", "العراق"),
        ("الدوحة", "قطر"),
        ("أبوظبي", "الإمارات"),
        ("عمان", "الأردن"),
        ("بيروت", "لبنان"),
    )
}


@dataclass(frozen=True, slots=True)
class DayPassPolicy:
    """How the pass decides; the defaults are the figures' choice (see the module docstring).

    ``split`` and ``merge`` switch the two steps, ``skeletons`` the transliteration folding, ``latin``
    the reading of Latin words as Arabic skeletons and ``replies`` the reply conflict (a title that
    answers something beside one that does not, or two parties' replies), so the benchmark can show
    what each lever adds.
    """

    threshold: float = 0.34
    min_shared: int = 3
    max_gap: timedelta = timedelta(hours=24)
    split: bool = True
    merge: bool = True
    skeletons: bool = True
    latin: bool = True
    replies: bool = True

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        if self.min_shared < 1:
            raise ValueError("min_shared must be at least 1")
        if self.max_gap < timedelta(0):
            raise ValueError("max_gap must not be negative")


@dataclass(frozen=True, slots=True)
class Prior:
    """Document counts the day's own are added to: ``df[key]`` articles of ``docs`` hold ``key``."""

    df: Mapping[str, int]
    docs: int


NO_PRIOR: Final = Prior({}, 0)


@lru_cache(maxsize=1)
def shipped_prior() -> Prior:
    """The counts shipped in ``news/data/daypass_prior.json`` (``scripts/build_daypass_prior.py``).

    They keep a small day honest: with a dozen articles every word looks rare, and two stories would
    match on «قال» and «في».
    """
    raw = json.loads(resources.files("news").joinpath("data", PRIOR_RESOURCE).read_text("utf-8"))
    return Prior({str(k): int(v) for k, v in raw["df"].items()}, int(raw["docs"]))


@dataclass(frozen=True, slots=True)
class Member:
    """One article of a candidate entry: ``key`` names it, ``group`` is the entry ingestion put it in."""

    key: int
    group: int
    title: str
    lead: str
    at: datetime


def skeleton(token: str) -> str:
    """The consonant skeleton of a normalized token's stem; short or non-Arabic stems stay as they are.

    Stems under four letters keep their vowels: «قال» and «قيل» must not become one key. (So «بوتين»,
    whose «ين» the stemmer takes for a plural ending, gives «بوت» and misses «بوتن»: reading such
    words whole was tried and merged more unrelated entries on the dev days than it joined.) Cached per
    distinct token, like the stemmer.
    """
    result: str = _skeletons[token]
    return result


def _skeleton(token: str) -> str:
    if _LATIN_WORD.fullmatch(token):
        return _latin_skeleton(token)
    base = stem(token)
    if len(base) < 4 or not _ARABIC_LETTER.match(base):
        return base
    return base.translate(_SKELETON) or base


_LATIN_WORD: Final = re.compile("[a-z]{4,}")
_DIGRAPHS: Final = (
    ("sh", "ش"),
    ("ch", "تش"),
    ("th", "ث"),
    ("kh", "خ"),
    ("ph", "ف"),
    ("gh", "ج"),
    ("ck", "ك"),
)
_SOFT_C: Final = re.compile("c(?=[eiy])")
_LATIN: Final = str.maketrans(
    {
        **dict.fromkeys("aeiouwy", None),
        "b": "ب",
        "c": "ك",
        "d": "د",
        "f": "ف",
        "g": "ج",
        "h": "ه",
        "j": "ج",
        "k": "ك",
        "l": "ل",
        "m": "م",
        "n": "ن",
        "p": "ب",
        "q": "ك",
        "r": "ر",
        "s": "س",
        "t": "ت",
        "v": "ف",
        "x": "كس",
        "z": "ز",
    }
)


def _latin_skeleton(word: str) -> str:
    """A Latin name written as the Arabic skeleton of its usual transliteration («brexit» → «بركست»,
    as «بريكسيت» gives), so a title that keeps the Latin spelling still meets the Arabic one."""
    word = re.sub(r"(.)\1", r"\1", word)
    for latin, arabic in _DIGRAPHS:
        word = word.replace(latin, arabic)
    return _SOFT_C.sub("س", word).translate(_LATIN)


class _Memo(dict[str, str]):
    def __missing__(self, key: str) -> str:
        if len(self) >= 400_000:
            self.clear()
        value = self[key] = _skeleton(key)
        return value


_skeletons = _Memo()


@dataclass(slots=True)
class _Evidence:
    """What one article, or an entry's articles pooled, says: words, weekdays, quantities, scores, times."""

    title: set[str] = field(default_factory=set)
    lead: set[str] = field(default_factory=set)
    weekdays: set[int] = field(default_factory=set)
    quantities: dict[str, set[str]] = field(default_factory=dict)  # quantity name -> figures
    scores: set[str] = field(default_factory=set)
    replies: set[str] = field(default_factory=set)  # reply titles' subjects ("" when unnamed)
    plain: bool = False  # some member's title answers nothing
    heads: set[str] = field(default_factory=set)  # such titles' first words: the party they tell of
    first: datetime | None = None
    last: datetime | None = None

    def add(self, other: _Evidence) -> None:
        self.title |= other.title
        self.lead |= other.lead
        self.weekdays |= other.weekdays
        for name, figures in other.quantities.items():
            self.quantities.setdefault(name, set()).update(figures)
        self.scores |= other.scores
        self.replies |= other.replies
        self.plain |= other.plain
        self.heads |= other.heads
        if other.first is not None and (self.first is None or other.first < self.first):
            self.first = other.first
        if other.last is not None and (self.last is None or other.last > self.last):
            self.last = other.last

    def gap(self, other: _Evidence) -> timedelta:
        """Time between the two spans (zero when they overlap)."""
        if self.first is None or self.last is None or other.first is None or other.last is None:
            return timedelta(0)
        return max(timedelta(0), max(self.first, other.first) - min(self.last, other.last))


def _arabic_only(token: str) -> str:
    return stem(token) if _LATIN_WORD.fullmatch(token) else skeleton(token)


def _evidence(title: str, lead: str, at: datetime | None, policy: DayPassPolicy) -> _Evidence:
    key = (skeleton if policy.latin else _arabic_only) if policy.skeletons else stem
    title_tokens = tokenize(title)
    lead_tokens = tokenize(lead)[:LEAD_WORDS]
    ev = _Evidence(first=at, last=at)
    ev.title = {key(t) for t in title_tokens if len(t) > 1 and not t.isdigit()}
    ev.lead = {key(t) for t in lead_tokens if len(t) > 1 and not t.isdigit()}
    ev.weekdays = {_WEEKDAY[t] for t in (*title_tokens, *lead_tokens) if t in _WEEKDAY}
    text = normalize(f"{title} . {lead}")
    for figure, unit, after in _NUMBER_UNIT.findall(text):
        name = key(unit) + (" " + key(after) if unit in _MAGNITUDES and after else "")
        ev.quantities.setdefault(name, set()).add(figure.replace(",", "."))
    for a, b in _SCORE.findall(text):
        ev.scores.add("-".join(sorted((a, b))))
    subject = _reply_subject(title, title_tokens) if policy.replies else None
    if subject is None:
        ev.plain = True
        ev.heads = {_party(title_tokens[0])} if title_tokens else set()
    else:
        ev.replies.add(subject)
    return ev


def _reply_subject(title: str, tokens: Sequence[str]) -> str | None:
    """The party a title answers for (its country for a capital), "" when unnamed; None: no reply.

    A title opening with a capital and a colon («بيونغيانغ: ...») gives that government's words.
    """
    head, colon, rest = title.partition(":")
    if colon and (capital := normalize(head.strip())) in _CAPITALS:
        said = tokenize(rest)
        if said and said[0] not in _EVENT_NOUNS:
            return _party(capital)
    for i, token in enumerate(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token in _REPLY_VERBS or (token in _REMARK_VERBS and after == _ON):
            if i == 0:
                return ""
            return _party(tokens[i - 1])
        if token in _REPLY_NOUNS or (token == _REMARK and (after == _ON or tokens[i - 1 : i] == [_FIRST])):
            return ""
    return None


def conflict(a: _Evidence, b: _Evidence) -> bool:
    """Strong evidence of two events: other weekdays, other figures of one quantity, other scores."""
    if a.weekdays and b.weekdays and not a.weekdays & b.weekdays:
        return True
    for name, figures in a.quantities.items():
        theirs = b.quantities.get(name)
        if theirs and not figures & theirs:
            return True
    if a.scores and b.scores and not a.scores & b.scores:
        return True
    return _other_answer(a, b) or _other_answer(b, a)


def _party(token: str) -> str:
    """A normalized word as a party's key: a capital stands for its country («موسكو» is «روسيا»)."""
    return skeleton(_CAPITALS.get(token, token))


def _other_answer(a: _Evidence, b: _Evidence) -> bool:
    """``a`` only answers (a reply, a reaction, first remarks) and ``b`` only tells, or the two are
    replies by two named parties: a reader counts the answer as a story of its own. A telling that
    opens with the answering party («روسيا تطرد 60 دبلوماسيا» beside «روسيا ترد على أمريكا») is
    that party's answer told plainly, not another story."""
    if a.replies and not a.plain:
        named_a, named_b = a.replies - {""}, b.replies - {""}
        if b.plain and not b.replies:
            return named_a.isdisjoint(b.heads)
        return bool(named_a and named_b and named_a.isdisjoint(named_b))
    return False


def word_keys(title: str, lead: str) -> set[str]:
    """The word keys one article contributes to document frequencies (to build a ``Prior``)."""
    ev = _evidence(title, lead, None, DayPassPolicy())
    return ev.title | ev.lead


class _Idf:
    """Smoothed inverse document frequency over the day's articles plus optional prior counts."""

    def __init__(self, docs: Iterable[_Evidence], prior_df: Mapping[str, int], prior_docs: int) -> None:
        df: Counter[str] = Counter()
        n = 0
        for ev in docs:
            df.update(ev.title | ev.lead)
            n += 1
        self._df, self._prior, self._n = df, prior_df, n + prior_docs
        self._memo: dict[str, float] = {}
        self.rare = math.log((1 + self._n) / (1 + RARE_SHARE * self._n)) + 1.0

    def __call__(self, key: str) -> float:
        value = self._memo.get(key)
        if value is None:
            df = self._df.get(key, 0) + self._prior.get(key, 0)
            value = self._memo[key] = math.log((1 + self._n) / (1 + df)) + 1.0
        return value


_Vector = tuple[dict[str, float], float, frozenset[str]]


def _vector(ev: _Evidence, idf: _Idf) -> _Vector:
    """Weighted words, their norm, and the distinctive ones (in under ``RARE_SHARE`` of articles)."""
    vec = {k: idf(k) for k in ev.lead}
    for k in ev.title:
        vec[k] = TITLE_WEIGHT * idf(k)
    rare = frozenset(k for k in vec if idf(k) >= idf.rare)
    return vec, math.sqrt(sum(w * w for w in vec.values())), rare


def _cosine(a: _Vector, b: _Vector, min_shared: int) -> float:
    """Cosine of two entries' word vectors; 0 unless they share ``min_shared`` words, one distinctive."""
    (va, na, rare_a), (vb, nb, rare_b) = a, b
    if rare_a.isdisjoint(rare_b):
        return 0.0
    if len(va) > len(vb):
        va, vb = vb, va
    shared = [w * vb[k] for k, w in va.items() if k in vb]
    return sum(shared) / (na * nb) if len(shared) >= min_shared else 0.0


def review(
    members: Sequence[Member],
    policy: DayPassPolicy | None = None,
    *,
    prior: Prior | None = None,
) -> list[tuple[int, ...]]:
    """The entries to show, each as its members' keys (earliest first); every key appears exactly once.

    Entries keep ingestion's grouping unless a step above changes it. The result is ordered by each
    entry's earliest member, so equal input gives equal output. ``prior`` adds document counts to the
    day's own: ``shipped_prior()`` unless given (``NO_PRIOR`` for none).
    """
    policy = policy or DayPassPolicy()
    evidence = {m.key: _evidence(m.title, m.lead, m.at, policy) for m in members}
    order = {m.key: (m.at, m.key) for m in members}
    groups: dict[int, list[Member]] = {}
    for m in members:
        groups.setdefault(m.group, []).append(m)

    entries: list[list[int]] = []
    for group in groups.values():
        group.sort(key=lambda m: order[m.key])
        kept = [group[0].key]
        pooled = _Evidence()
        pooled.add(evidence[group[0].key])
        for m in group[1:]:
            if policy.split and conflict(evidence[m.key], pooled):
                entries.append([m.key])
            else:
                kept.append(m.key)
                pooled.add(evidence[m.key])
        entries.append(kept)

    if policy.merge and len(entries) > 1:
        prior = shipped_prior() if prior is None else prior
        entries = _merge(entries, evidence, policy, _Idf(evidence.values(), prior.df, prior.docs))
    shown = [tuple(sorted(keys, key=order.__getitem__)) for keys in entries]
    shown.sort(key=lambda keys: order[keys[0]])
    return shown


def _later(i: int, postings: Iterable[list[int]]) -> set[int]:
    """Entries after ``i`` in the postings short enough to propose candidates."""
    found: set[int] = set()
    for posting in postings:
        if len(posting) <= MAX_POSTING:
            found.update(posting[bisect_right(posting, i) :])
    return found


def _merge(
    entries: list[list[int]], evidence: Mapping[int, _Evidence], policy: DayPassPolicy, idf: _Idf
) -> list[list[int]]:
    """Single-link merging of entries, best pairs first, refusing a union that would hold a conflict."""
    pooled: list[_Evidence] = []
    for keys in entries:
        ev = _Evidence()
        for key in keys:
            ev.add(evidence[key])
        pooled.append(ev)
    vectors = [_vector(ev, idf) for ev in pooled]
    # Candidates share a title word and a distinctive word (the cosine needs both anyway).
    titles: dict[str, list[int]] = {}
    rares: dict[str, list[int]] = {}
    for i, ev in enumerate(pooled):
        for k in ev.title:
            titles.setdefault(k, []).append(i)
        for k in vectors[i][2]:
            rares.setdefault(k, []).append(i)
    pairs: list[tuple[float, int, int]] = []
    for i, ev in enumerate(pooled):
        by_title = _later(i, (titles[k] for k in ev.title))
        if not by_title:
            continue
        for j in by_title & _later(i, (rares[k] for k in vectors[i][2])):
            score = _cosine(vectors[i], vectors[j], policy.min_shared)
            if score >= policy.threshold:
                pairs.append((score, i, j))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))

    parent = list(range(len(entries)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for _, i, j in pairs:
        ri, rj = root(i), root(j)
        if ri == rj:
            continue
        a, b = pooled[ri], pooled[rj]
        if a.gap(b) > policy.max_gap or conflict(a, b):
            continue
        keep, drop = min(ri, rj), max(ri, rj)
        parent[drop] = keep
        pooled[keep].add(pooled[drop])
    merged: dict[int, list[int]] = {}
    for i, keys in enumerate(entries):
        merged.setdefault(root(i), []).extend(keys)
    return list(merged.values())


def review_stories(
    stories: Sequence[DigestStory], policy: DayPassPolicy | None = None, *, prior: Prior | None = None
) -> list[DigestStory]:
    """The digest's candidate stories after the day pass: one entry per story told, strays split off.

    * A story the pass leaves whole comes back as it was (the same object).
    * Entries merged from several stories come back as the story holding most of the entry's articles
      (then the one with more outlets, then the one told first); the others' outlets join its sources,
      their topics follow its own, and the stories wholly folded in are listed in ``merged_ids``.
    * An article split off a story comes back as an entry of its own, under its story's id (a story id
      is what the digest marks as sent; both parts go out in the same digest as a rule, since they
      carry the same topics).

    Stories loaded without ``articles`` take part through their representative alone. Articles
    without a date are placed at the story's date.
    """
    members: list[Member] = []
    owner: dict[int, DigestStory] = {}
    article: dict[int, StoryArticle] = {}
    # Among the stories of a merged entry, the one named: most of its articles, then most outlets, then
    # the first told (the digest shows the earliest telling, as ``choose_representative`` does).
    rank = {
        s.story_id: i
        for i, s in enumerate(
            sorted(stories, key=lambda s: (-s.source_count, s.published_at or _EPOCH, s.story_id))
        )
    }
    for story in stories:
        arts = story.articles or (
            StoryArticle(0, story.source, story.url, story.title, story.summary, story.published_at),
        )
        for art in arts:
            key = len(members)
            at = art.published_at or story.published_at or _EPOCH
            members.append(Member(key, story.story_id, art.title, art.summary, at))
            owner[key] = story
            article[key] = art
    out: list[DigestStory] = []
    for keys in review(members, policy, prior=prior):
        holders = Counter(owner[k].story_id for k in keys)
        base_id = min(holders, key=lambda sid: (-holders[sid], rank[sid]))
        base = next(owner[k] for k in keys if owner[k].story_id == base_id)
        if len(holders) == 1 and holders[base_id] == _size(base):
            out.append(base)
            continue
        out.append(_regrouped(base, [article[k] for k in keys], [owner[k] for k in keys], holders))
    return out


def _size(story: DigestStory) -> int:
    return len(story.articles) or 1


def _regrouped(
    base: DigestStory, arts: Sequence[StoryArticle], owners: Sequence[DigestStory], holders: Counter[int]
) -> DigestStory:
    """One shown entry built from ``arts`` (in publication order), named after ``base``.

    It keeps ``base``'s representative when that article is in the entry, else shows the entry's
    earliest article of ``base``.
    """
    stories: dict[int, DigestStory] = {base.story_id: base}
    for o in owners:
        stories.setdefault(o.story_id, o)
    own = [a for a, o in zip(arts, owners, strict=True) if o.story_id == base.story_id]
    if not base.articles or any(a.url == base.url for a in own):
        title, url, summary, source, at = base.title, base.url, base.summary, base.source, base.published_at
    else:
        first = own[0]
        title, url, summary, source = first.title, first.url, first.summary, first.source
        at = first.published_at or base.published_at
    sources: dict[str, StorySource] = {}
    for a in arts:
        if a.source != source and a.source not in sources:
            sources[a.source] = StorySource(source=a.source, url=a.url, title=a.title)
    return DigestStory(
        story_id=base.story_id,
        title=title,
        url=url,
        summary=summary,
        source=source,
        published_at=at,
        topics=tuple(dict.fromkeys(t for story in stories.values() for t in story.topics)),
        other_sources=tuple(sources.values()),
        articles=tuple(arts),
        merged_ids=tuple(
            sid for sid, n in holders.items() if sid != base.story_id and n == _size(stories[sid])
        ),
    )
