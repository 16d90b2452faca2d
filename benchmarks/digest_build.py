"""How long building one tick's digests takes: 10,000 chats over 5,000 stories, pure ``news`` code.

The stories and chats are synthetic but shaped like production: Arabic titles and ~250-character
summaries, a dozen outlets, most stories single-source and a few with many sources, one or two topics per
story; chats follow one to five of ten topics with a few popular choices dominating, live in the Arab
world's timezones and mostly prefer Arabic-Indic digits. Every chat is due in the same tick (the worst
case: one delivery minute for everybody).

What is timed is what the digest tick does after loading the stories: rank them once (``StoryIndex``),
then per chat compute ``digest_group_key`` and, for a key not seen yet in this tick, select and render
(with one ``RenderCache`` for the tick, so each story is rendered once per timezone and digits).
Database and Telegram time are not included.

    .venv/bin/python benchmarks/digest_build.py            # the realistic mix
    .venv/bin/python benchmarks/digest_build.py --unique   # worst case: every chat renders its own digest
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from news.digest import DigestGroupKey, StoryIndex, digest_group_key
from news.models import DigestPage, DigestStory, StorySource
from news.render import RenderCache, render_digest, render_empty

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
TOPICS = {
    "politics": "سياسة",
    "middle_east": "الشرق الأوسط",
    "world": "العالم",
    "economy": "اقتصاد",
    "sports": "رياضة",
    "technology": "تقنية",
    "health": "صحة",
    "culture": "ثقافة وفن",
    "science": "علوم",
    "kw:gaza": "غزة",
}
TOPIC_WEIGHTS = [20, 18, 14, 12, 14, 7, 5, 4, 3, 3]
OUTLETS = [
    "الجزيرة",
    "العربية",
    "سكاي نيوز عربية",
    "بي بي سي عربي",
    "فرانس 24",
    "سي إن إن بالعربية",
    "الشرق الأوسط",
    "اليوم السابع",
    "هسبريس",
    "عنب بلدي",
    "RT Arabic",
    "DW عربية",
]
_WORDS_TEXT = (
    "الرئيس الحكومة وزير اجتماع قمة اتفاق مفاوضات انتخابات البرلمان الاقتصاد النفط أسعار البورصة "
    "الدولار التضخم البنك المركزي مباراة الدوري المنتخب هدف بطولة كأس شركة تقنية الذكاء الاصطناعي "
    "هاتف إطلاق مهرجان فيلم معرض كتاب مستشفى لقاح دراسة علماء الفضاء غزة القدس بيروت دمشق القاهرة "
    "الرياض دبي بغداد عمّان الخرطوم تونس الجزائر الرباط يعلن يؤكد ينفي يبحث يستقبل يطلق 2026 #عاجل "
    "iPhone"
)
WORDS = _WORDS_TEXT.split()
POPULAR_SETS = [
    ("politics", "middle_east", "economy"),
    ("sports",),
    ("politics", "world"),
    ("economy", "technology"),
    ("middle_east", "kw:gaza"),
    ("politics", "middle_east", "world", "economy", "sports"),
]
TIMEZONES = [
    ("Africa/Cairo", 30),
    ("Asia/Riyadh", 25),
    ("Asia/Dubai", 8),
    ("Asia/Baghdad", 6),
    ("Africa/Casablanca", 6),
    ("Africa/Algiers", 5),
    ("Asia/Amman", 4),
    ("Asia/Beirut", 3),
    ("Europe/London", 3),
    ("America/New_York", 2),
]


def make_stories(rng: random.Random, n: int) -> list[DigestStory]:
    keys = list(TOPICS)
    stories = []
    for i in range(n):
        topics = tuple(dict.fromkeys(rng.choices(keys, TOPIC_WEIGHTS, k=rng.choice([1, 1, 2]))))
        others_n = min(int(rng.expovariate(0.7)), len(OUTLETS) - 1)
        source = rng.choice(OUTLETS)
        others = tuple(
            StorySource(o, f"https://{abs(hash(o)) % 997}.example/{i}", "عنوان")
            for o in rng.sample([o for o in OUTLETS if o != source], others_n)
        )
        summary = " ".join(rng.choices(WORDS, k=40))[:260]
        stories.append(
            DigestStory(
                story_id=i + 1,
                title=" ".join(rng.choices(WORDS, k=rng.randint(7, 14))),
                url=f"https://news{i % 50}.example/{i}",
                summary=summary,
                source=source,
                published_at=NOW - timedelta(minutes=rng.randint(1, 36 * 60)),
                topics=topics,
                other_sources=others,
            )
        )
    return stories


def make_chats(rng: random.Random, n: int, unique: bool) -> list[dict[str, object]]:
    keys = list(TOPICS)
    zones = [z for z, _ in TIMEZONES]
    zone_weights = [w for _, w in TIMEZONES]
    chats = []
    for i in range(n):
        if rng.random() < 0.6:
            topics: tuple[str, ...] = rng.choice(POPULAR_SETS)
        else:
            topics = tuple(dict.fromkeys(rng.choices(keys, TOPIC_WEIGHTS, k=rng.randint(1, 5))))
        chats.append(
            {
                "topics": topics,
                "tz": ZoneInfo(rng.choices(zones, zone_weights)[0]),
                "digits": "arabic" if rng.random() < 0.8 else "western",
                "since": NOW - timedelta(days=1),
                "exclude": (i + 100_000,) if unique else (),
            }
        )
    return chats


def build(stories: list[DigestStory], chats: list[dict[str, object]]) -> tuple[int, int, int]:
    """Digests for every chat; returns (distinct renderings, pages, empty digests)."""
    index = StoryIndex(stories)
    blocks = RenderCache()
    cache: dict[DigestGroupKey, list[DigestPage]] = {}
    pages = empty = 0
    for chat in chats:
        tz = chat["tz"]
        assert isinstance(tz, ZoneInfo)
        key = digest_group_key(
            topics=chat["topics"],  # type: ignore[arg-type]
            tz=tz,
            since=chat["since"],  # type: ignore[arg-type]
            exclude_ids=chat["exclude"],  # type: ignore[arg-type]
            digits=chat["digits"],  # type: ignore[arg-type]
        )
        result = cache.get(key)
        if result is None:
            sections = index.select(
                topics=key.topics, since=key.since, topic_names=TOPICS, exclude_ids=key.exclude_ids
            )
            digits = "arabic" if key.digits == "arabic" else "western"
            if sections:
                result = render_digest(sections, now=NOW, tz=tz, digits=digits, cache=blocks)
            else:
                result = [render_empty(now=NOW, tz=tz, digits=digits)]
                empty += 1
            cache[key] = result
        pages += len(result)
    return len(cache), pages, empty


def main() -> int:
    parser = argparse.ArgumentParser(description="time one digest tick for many chats")
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--stories", type=int, default=5_000)
    parser.add_argument("--unique", action="store_true", help="no two chats share a digest")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    stories = make_stories(rng, args.stories)
    chats = make_chats(rng, args.chats, args.unique)
    start = time.perf_counter()
    groups, pages, empty = build(stories, chats)
    seconds = time.perf_counter() - start
    print(
        f"{args.chats} chats, {args.stories} stories: {seconds:.2f} s "
        f"({groups} distinct digests rendered, {pages} pages, {empty} empty)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
