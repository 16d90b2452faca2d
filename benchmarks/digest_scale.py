"""One digest tick at scale, through storage: 10,000 due chats, 5,000 stored stories, a SQLite file.

Chats follow one to five of the built-in topics (popular choices dominate), live in five timezones, and
mostly prefer Arabic-Indic digits and Arabic; 1% also have one keyword topic (30 different ones, each
about a word found in a few stories); those chats never share a rendering. Every chat is due in the same
tick, the worst case: one delivery minute for everybody.

Printed figures:

* build: what ``run_digests`` does before writing — load the stories, keyword topics and sent history,
  rank once, select and render per shared group (``jobs.digest.build_digests``);
* build, in memory: the same minus the three queries (``DigestBuilder`` alone);
* full tick: ``run_digests`` on a fresh copy of the database, i.e. build plus the writes (pages into the
  outbox, stories marked sent, schedules moved on, in batches of 500 chats per transaction).

    .venv/bin/python benchmarks/digest_scale.py [--chats 10000] [--stories 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from jobs.digest import DigestBuilder, DigestPolicy, build_digests, run_digests
from news.topics import BUILTIN_KEYS
from storage import chats as chat_store
from storage import stories as story_store
from storage.db import Database
from storage.migrate import upgrade
from storage.schema import Chat, KeywordTopic
from tests.fixtures.delivery.seed import bulk_stories

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


def _words(text: str) -> list[str]:
    return text.split()


ZONES = ["Asia/Riyadh", "Africa/Cairo", "Asia/Dubai", "Africa/Casablanca", "Europe/London"]
WORDS = _words(
    "الحكومة البرلمان الرئيس الوزير الاقتصاد النفط الأسعار المنتخب الدوري المباراة التقنية الذكاء "
    "الاصطناعي الشركة الأسواق البورصة الفيلم المهرجان الكتاب المعرض القمة الاتفاق المفاوضات الانتخابات "
    "الأمطار الطقس الجامعة الطلاب المستشفى اللقاح الميزانية الضرائب الاستثمار المصرف العملة التضخم"
)
# Words that appear in few stories, as the subjects of keyword topics do («أوبك», a team, a city).
RARE = _words(
    "أوبك الفيفا اليونسكو الهلال الأهلي الزمالك الوداد الترجي مراكش الموصل حلب صنعاء بنغازي نواكشوط "
    "القيروان تطوان الأقصى الجولان سيناء النيل الفرات دجلة الأطلس الصحراء الخليج البحرين قطر عمان الكويت "
    "الشارقة"
)


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _stories(rng: random.Random, n: int) -> list[tuple[str, str, tuple[str, ...], datetime, int]]:
    rows = []
    for i in range(n):
        topics = tuple(rng.sample(BUILTIN_KEYS, rng.choice((1, 1, 2))))
        at = NOW - timedelta(seconds=rng.uniform(60, 23 * 3600))
        sources = rng.choice((1, 1, 1, 1, 2, 2, 3, 5, 8))
        title = _sentence(rng, 8) + (f" {rng.choice(RARE)}" if rng.random() < 0.2 else "")
        rows.append((f"{title} {i}", _sentence(rng, 35), topics, at, sources))
    return rows


def _chat_rows(rng: random.Random, n: int) -> list[dict[str, object]]:
    popular = [("politics",), ("politics", "economy"), ("sport",), ("politics", "sport"), BUILTIN_KEYS]
    rows = []
    for i in range(n):
        if rng.random() < 0.6:
            topics = rng.choice(popular)
        else:
            chosen = set(rng.sample(BUILTIN_KEYS, rng.randint(1, 5)))
            topics = tuple(k for k in BUILTIN_KEYS if k in chosen)  # stored in the menu's order
        rows.append(
            {
                "telegram_id": 10_000 + i,
                "type": rng.choice(("private", "private", "private", "group", "supergroup", "channel")),
                "title": f"chat {i}",
                "language": "ar" if rng.random() < 0.9 else "en",
                "active": True,
                "delivery_minute": 7 * 60,
                "timezone": rng.choice(ZONES),
                "digits": "arabic" if rng.random() < 0.8 else "western",
                "topics": " ".join(topics),
                "next_digest_at": NOW,
                "created_at": NOW - timedelta(days=30),
                "updated_at": NOW - timedelta(days=30),
            }
        )
    return rows


async def _seed(url: str, chats: int, stories: int) -> None:
    rng = random.Random(20261129)
    db = Database(url)
    try:
        await bulk_stories(db, _stories(rng, stories))
        async with db.session() as s, s.begin():
            await s.execute(insert(Chat), _chat_rows(rng, chats))
            keyword_chats = rng.sample(range(1, chats + 1), max(1, chats // 100))
            await s.execute(
                insert(KeywordTopic),
                [
                    {
                        "chat_id": pk,
                        "key": f"kw_{i % len(RARE)}",
                        "name": RARE[i % len(RARE)],
                        "keywords": RARE[i % len(RARE)],
                        "created_at": NOW,
                    }
                    for i, pk in enumerate(keyword_chats)
                ],
            )
    finally:
        await db.dispose()


async def _measure(url: str, policy: DigestPolicy) -> dict[str, float]:
    db = Database(url)
    try:
        async with db.session() as s:
            due = await chat_store.due_chats(s, NOW)
        started = time.perf_counter()
        digests = await build_digests(db, due, NOW, policy=policy)
        with_reads = time.perf_counter() - started

        async with db.session() as s:
            stories = await story_store.stories_since(s, NOW - policy.window, limit=policy.max_stories)
            keyword = await chat_store.keyword_topics_for(s, [c.id for c in due])
        started = time.perf_counter()
        every_keyword_topic = [t for topics in keyword.values() for t in topics]
        builder = DigestBuilder(stories, now=NOW, policy=policy, keyword_topics=every_keyword_topic)
        for chat in due:
            builder.build(chat, keyword.get(chat.id, ()), ())
        in_memory = time.perf_counter() - started
        return {
            "due": len(due),
            "stories": len(stories),
            "with_reads": with_reads,
            "in_memory": in_memory,
            "renderings": builder.renderings,
            "pages": sum(len(d.pages) for d in digests),
        }
    finally:
        await db.dispose()


async def _full_tick(url: str, policy: DigestPolicy) -> tuple[float, int, int, float, float]:
    db = Database(url)
    try:
        started = time.perf_counter()
        run = await run_digests(db, NOW, policy=policy)
        total = time.perf_counter() - started
        return total, run.queued_chats, run.pages, run.build_seconds, run.write_seconds
    finally:
        await db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--stories", type=int, default=5_000)
    args = parser.parse_args()
    policy = DigestPolicy()
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template.db"
        url = f"sqlite:///{template}"
        upgrade(url)
        started = time.perf_counter()
        asyncio.run(_seed(url, args.chats, args.stories))
        print(
            f"seeded {args.chats} chats and {args.stories} stories in {time.perf_counter() - started:.1f} s"
        )

        copy = Path(tmp) / "run.db"
        shutil.copy(template, copy)
        m = asyncio.run(_measure(f"sqlite:///{copy}", policy))
        print(
            f"due chats: {m['due']:.0f}; candidate stories: {m['stories']:.0f}; "
            f"distinct renderings: {m['renderings']:.0f}; pages: {m['pages']:.0f}"
        )
        print(f"build (with the 3 reads):  {m['with_reads']:.2f} s")
        print(f"build (in memory only):    {m['in_memory']:.2f} s")

        copy2 = Path(tmp) / "tick.db"
        shutil.copy(template, copy2)
        total, chats, pages, build_s, write_s = asyncio.run(_full_tick(f"sqlite:///{copy2}", policy))
        print(
            f"full tick with DB writes:  {total:.2f} s "
            f"(build {build_s:.2f} s + write {write_s:.2f} s; {chats} chats, {pages} pages queued)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
