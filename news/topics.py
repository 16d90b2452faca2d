"""Topics: the built-in taxonomy, and admin keyword topics matched against articles.

Keyword matching works on light stems (``news.arabic``), whole tokens only, so «سد» finds «السد» and
«بالسد» but never «السداد» or «مسدس», and «نفط» finds «النفطية». The rules, in order of application:

- every keyword and every article token is normalized and stemmed the same way; an article token also
  counts under each reading with a lone «و ف ب ك ل» taken off («ولبنان» → «لبنان»);
- a keyword that ends in «ة/ه» only matches a token that had *some* ending cut off, so «رياضة» finds
  «الرياضية» and «رياضي» but not the city «الرياض», and «مدرسة» does not find «مدرس»;
- a keyword of several words is a phrase: its stems must follow each other in the same field;
- any excluded phrase present vetoes the topic.

An article is tokenized once into ``ArticleTerms`` (about 0.2 ms with a 3,000-character body); each
``KeywordMatcher`` then costs one set-disjointness test plus a scan for phrases whose words all
occur, so 10,000 chats' topics take about 30 ms per article (benchmarks/quality_topics.py). This
module does not know about chats or storage. The built-in topics are decided by ``news.classifier``;
``desk_topic`` only reads an outlet's own section tags («رياضة», «اقتصاد») so that ingestion can put
the desk the outlet filed an item under ahead of the classifier's guess.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from itertools import chain
from urllib.parse import unquote, urlsplit

from news.arabic import normalize, proclitic_splits, stem_and_ending, tokenize
from news.models import Article, Topic

# Backed by the ANT corpus folders the classifier learns from: «politics» is its Middle East and
# international news desks together. No other topic has training data behind it.
BUILTIN_TOPICS: tuple[Topic, ...] = (
    Topic(key="politics", name_ar="سياسة", name_en="Politics"),
    Topic(key="economy", name_ar="اقتصاد", name_en="Economy"),
    Topic(key="sport", name_ar="رياضة", name_en="Sport"),
    Topic(key="technology", name_ar="تكنولوجيا", name_en="Technology"),
    Topic(key="culture", name_ar="ثقافة وفن", name_en="Culture and arts"),
)
BUILTIN_KEYS: tuple[str, ...] = tuple(t.key for t in BUILTIN_TOPICS)
_BUILTIN_BY_KEY: dict[str, Topic] = {t.key: t for t in BUILTIN_TOPICS}


def builtin_topic(key: str) -> Topic | None:
    """The built-in topic with ``key``, or ``None``."""
    return _BUILTIN_BY_KEY.get(key)


# --- feed section tags ----------------------------------------------------------------------------------

# What outlets call their desks in <category> tags, normalized (``news.arabic``) and without «ال» or a
# leading «و». A tag names a desk only when every word of it is in one topic's list (filler words
# aside), so «رياضة» and «كرة القدم» are sport, but «الرياض» (the city), «رياضة محلية» or «إيران»
# are nothing: precision first, since the tag overrides the classifier's best guess.
_DESK_WORDS: dict[str, str] = {
    "politics": "سياسه سياسي سياسيه سياسات عالم دولي دوليه عربي عربيه شرق اوسط"
    " world international politics middle east mideast middleeast arab",
    "economy": "اقتصاد اقتصادي اقتصاديه اعمال مال بورصه بورصات اسواق اسهم"
    " economy business markets finance money",
    "sport": "رياضه رياضي رياضيه رياضات كره قدم sport sports football soccer",
    "technology": "تكنولوجيا تكنولوجي تقنيه تقنيات علوم علم technology tech science",
    "culture": "ثقافه ثقافي ثقافيه فن فنون ادب سينما culture arts art entertainment",
}
_DESK_OF_WORD: dict[str, str] = {w: key for key, words in _DESK_WORDS.items() for w in words.split()}
_DESK_FILLER = frozenset({"اخبار", "خبر", "news", "and", "the", "قسم", "section"})


def _desk_word(token: str) -> str:
    token = token.lower()
    for prefix in ("وال", "ال", "و"):
        rest = token[len(prefix) :]
        if token.startswith(prefix) and (rest in _DESK_OF_WORD or rest in _DESK_FILLER):
            return rest
    return token


def desk_topic(categories: Iterable[str]) -> str | None:
    """The built-in topic a feed item's section tags name, or ``None`` when they name none or disagree.

    The classifier learns from outlets' own filing, so an outlet that tags an item «رياضة» has said
    what the classifier would only guess. When tags name a news desk (politics) and a specialist one,
    the specialist wins, as in training (news desks re-file sport and culture stories); two different
    specialist desks cancel out.
    """
    found: list[str] = []
    for category in categories:
        words = [w for w in map(_desk_word, tokenize(category)) if w not in _DESK_FILLER]
        keys = {_DESK_OF_WORD.get(w) for w in words}
        key = keys.pop() if len(keys) == 1 else None
        if key is not None and key not in found:
            found.append(key)
    specialist = [k for k in found if k != "politics"]
    if len(specialist) > 1:
        return None
    return specialist[0] if specialist else (found[0] if found else None)


_URL_WORD_BREAK = re.compile(r"[-_.+\s]+")


def url_sections(url: str, *, limit: int = 3) -> list[str]:
    """The section names at the head of an article URL's path, as words for ``desk_topic``.

    Outlets file a story under a section path as they tag it: «/ar/sport/2018/…», «/arabic/sports-
    44141531», «/sport/article/…». Reading stops at the first segment holding a digit (a date, an id,
    the slug), whose other words still count («sports-44141531» is «sports»); two-letter segments are
    language codes. A title slug rarely consists of desk words only, and ``desk_topic`` wants every
    word of a section to name the same desk, so a slug names none.
    """
    try:
        path = urlsplit(url).path
    except ValueError:
        return []
    out: list[str] = []
    for segment in unquote(path).split("/"):
        if len(out) >= limit:
            break
        if not segment or (len(segment) == 2 and segment.isascii() and segment.isalpha()):
            continue
        words = [w for w in _URL_WORD_BREAK.split(segment) if w and not any(c.isdigit() for c in w)]
        if words:
            out.append(" ".join(words))
        if any(c.isdigit() for c in segment):
            break
    return out


def with_desk(topics: Sequence[str], desk: str | None, *, limit: int = 2) -> tuple[str, ...]:
    """``topics`` with the tagged desk first (at most ``limit``); unchanged when there is no desk."""
    if desk is None:
        return tuple(topics)
    return tuple(dict.fromkeys((desk, *topics)))[:limit]


# --- article terms --------------------------------------------------------------------------------------

_ENDED = "+"  # marks the key of a token that had an ending cut off («الرياضة»), see the module docstring
_CACHE_LIMIT = 400_000


class _TokenKeys(dict[str, tuple[str, ...]]):
    """Token → every key it can match under (each proclitic reading, with and without ``_ENDED``)."""

    def __missing__(self, token: str) -> tuple[str, ...]:
        found: list[str] = []
        for reading in proclitic_splits(token):
            stem, ending = stem_and_ending(reading)
            for key in (stem, stem + _ENDED) if ending else (stem,):
                if key not in found:
                    found.append(key)
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        keys = self[token] = tuple(found)
        return keys


_token_keys = _TokenKeys()
_NO_KEYS: tuple[str, ...] = ()


class ArticleTerms:
    """The keys of an article's tokens, in order, and the set of all of them: built once per article.

    A one-word keyword is a set lookup; a phrase scans the sequence only when all its words occur.
    Fields (title, summary, body) are kept apart by an empty slot, so a phrase never runs from the
    end of the title into the summary.
    """

    __slots__ = ("_present", "_sequence")

    def __init__(self, sequence: Sequence[tuple[str, ...]]) -> None:
        self._sequence = sequence
        self._present = frozenset(chain.from_iterable(sequence))

    @classmethod
    def of(cls, *parts: str) -> ArticleTerms:
        """Terms of ``parts`` (e.g. title, summary, body) read as separate fields."""
        sequence: list[tuple[str, ...]] = []
        for part in parts:
            if sequence:
                sequence.append(_NO_KEYS)
            sequence += map(_token_keys.__getitem__, tokenize(part))
        return cls(sequence)

    @classmethod
    def of_article(cls, article: Article) -> ArticleTerms:
        """Terms of an article's title, summary and body."""
        return cls.of(article.title, article.summary, article.body)

    @property
    def keys(self) -> frozenset[str]:
        """Every key some token of the article matches under."""
        return self._present

    def has(self, phrase: Sequence[str]) -> bool:
        """Whether the keys of ``phrase`` occur at consecutive positions (a one-key phrase: anywhere)."""
        present = self._present
        if not all(key in present for key in phrase):
            return False
        if len(phrase) == 1:
            return True
        seq = self._sequence
        first, rest = phrase[0], phrase[1:]
        last_start = len(seq) - len(phrase)
        for i, keys in enumerate(seq):
            if i > last_start:
                break
            if first in keys and all(key in seq[i + j] for j, key in enumerate(rest, 1)):
                return True
        return False


# --- keyword topics -------------------------------------------------------------------------------------


def keyword_phrase(keyword: str) -> tuple[str, ...]:
    """The stem keys a keyword (one word or a phrase) is matched by; empty when it has no word in it."""
    keys: list[str] = []
    for token in tokenize(keyword):
        stem, ending = stem_and_ending(token)
        keys.append(stem + _ENDED if ending.endswith("ه") else stem)
    return tuple(keys)


class _PhraseSet:
    """Compiled phrases: one-word ones as a frozenset (a C-level disjointness test), the rest apart."""

    __slots__ = ("phrases", "words")

    def __init__(self, phrases: Iterable[str]) -> None:
        compiled = [p for p in map(keyword_phrase, phrases) if p]
        self.words = frozenset(p[0] for p in compiled if len(p) == 1)
        self.phrases = tuple(p for p in compiled if len(p) > 1)

    def found_in(self, terms: ArticleTerms) -> bool:
        if not self.words.isdisjoint(terms.keys):
            return True
        return any(terms.has(p) for p in self.phrases)


class KeywordMatcher:
    """Decides whether an article belongs to one keyword topic; compile once, call for many articles."""

    __slots__ = ("_excluded", "_wanted", "topic")

    def __init__(self, topic: Topic) -> None:
        self.topic = topic
        self._wanted = _PhraseSet(topic.keywords)
        self._excluded = _PhraseSet(topic.excluded)

    def matches(self, text: str | ArticleTerms) -> bool:
        """True when some keyword occurs in ``text`` and no excluded phrase does.

        Pass ``ArticleTerms`` when several matchers look at one article, so it is tokenized once.
        """
        terms = ArticleTerms.of(text) if isinstance(text, str) else text
        return self._wanted.found_in(terms) and not self._excluded.found_in(terms)


def matching_topics(terms: ArticleTerms, matchers: Iterable[KeywordMatcher]) -> tuple[str, ...]:
    """Keys of the keyword topics whose matcher accepts the article, in the matchers' order."""
    return tuple(m.topic.key for m in matchers if m.matches(terms))


# --- what admins type -----------------------------------------------------------------------------------

MAX_NAME_CHARS = 40
MAX_KEYWORDS = 50
MAX_KEYWORD_CHARS = 60
KEY_PREFIX = "kw_"


class TopicSpecError(ValueError):
    """A keyword-topic definition an admin typed cannot be used; the message says, in Arabic, what to fix."""


_SEPARATORS = re.compile(r"[،,؛;\n\r]+")
_NAME_FORBIDDEN = re.compile(r"[<>&\x00-\x1f\x7f]")
_MINUS = ("-", "−", "–", "—")  # ASCII hyphen, minus sign, and the dashes phone keyboards substitute
_SPACES = re.compile(r"\s+")
_EXAMPLE = "طاقة: نفط، غاز طبيعي، -غاز الضحك"


def topic_key(name: str) -> str:
    """A stable key for a keyword topic name: the same name (up to spelling variants) gives the same key.

    Keys are ASCII without spaces, since storage keeps lists of keys space-separated.
    """
    folded = _SPACES.sub(" ", normalize(name)).strip()
    return KEY_PREFIX + hashlib.blake2b(folded.encode("utf-8"), digest_size=6).hexdigest()


def parse_keyword_topic(spec: str) -> Topic:
    """Parse ``NAME: كلمة، كلمة، -كلمة`` into a keyword topic; raise ``TopicSpecError`` when it is unusable.

    Keywords are separated by the Arabic comma, the ASCII comma, semicolons or new lines; a leading
    minus excludes a keyword. Duplicates (after normalization) are dropped, first spelling kept.
    """
    name, sep, rest = spec.partition(":")
    if not sep:
        raise TopicSpecError(f"اكتب اسم الموضوع ثم نقطتين ثم الكلمات مفصولة بفواصل، مثل: {_EXAMPLE}")
    name = _SPACES.sub(" ", name).strip()
    if not name:
        raise TopicSpecError(f"اكتب اسمًا للموضوع قبل النقطتين، مثل: {_EXAMPLE}")
    if len(name) > MAX_NAME_CHARS:
        raise TopicSpecError(f"اسم الموضوع طويل: اختصره إلى {MAX_NAME_CHARS} حرفًا على الأكثر.")
    if _NAME_FORBIDDEN.search(name):
        raise TopicSpecError("اسم الموضوع لا يقبل الرموز < و > و &، فاحذفها منه.")
    keywords: list[str] = []
    excluded: list[str] = []
    seen: set[tuple[bool, tuple[str, ...]]] = set()
    for raw in _SEPARATORS.split(rest):
        item = _SPACES.sub(" ", raw).strip()
        if not item:
            continue
        negative = item.startswith(_MINUS)
        if negative:
            item = item[1:].strip()
        if len(item) > MAX_KEYWORD_CHARS:
            raise TopicSpecError(
                f"الكلمة «{item[:20]}…» طويلة: اجعل كل كلمة أو عبارة {MAX_KEYWORD_CHARS} حرفًا على الأكثر."
            )
        phrase = keyword_phrase(item)
        if not phrase:
            raise TopicSpecError(f"«{item or '-'}» ليست كلمة: اكتب كلمات بحروف أو أرقام بين الفواصل.")
        if (negative, phrase) in seen:
            continue
        seen.add((negative, phrase))
        (excluded if negative else keywords).append(item)
    if len(keywords) + len(excluded) > MAX_KEYWORDS:
        raise TopicSpecError(f"الكلمات كثيرة: يقبل الموضوع {MAX_KEYWORDS} كلمة على الأكثر، فاحذف بعضها.")
    if not keywords:
        raise TopicSpecError(f"أضف كلمة واحدة على الأقل بلا علامة الطرح، مثل: {_EXAMPLE}")
    return Topic(key=topic_key(name), name_ar=name, keywords=tuple(keywords), excluded=tuple(excluded))


def format_keyword_topic(topic: Topic) -> str:
    """The spec an admin would type for ``topic``; ``parse_keyword_topic`` reads it back unchanged."""
    words = [*topic.keywords, *("-" + w for w in topic.excluded)]
    return f"{topic.name_ar}: {'، '.join(words)}"
