"""Bot operators manage feeds and read statistics; everyone else is refused politely."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.handlers.operator import pages
from news.render import TELEGRAM_MAX_LEN, telegram_length
from storage import feeds as feed_store
from tests.bot.conftest import Bot
from tests.emulator import User


async def test_operator_adds_lists_and_removes_feeds(bot: Bot, operator: User) -> None:
    chat = bot.emu.create_private_chat(operator)
    async with bot.db.session() as s:
        seeded = len(await feed_store.list_feeds(s))

    added = await bot.say(chat, operator, "/addfeed http://127.0.0.1:8080/feed.xml")
    assert "أُضيف المصدر" in added.text and "http://127.0.0.1:8080/feed.xml" in added.text
    duplicate = await bot.say(chat, operator, "/addfeed http://127.0.0.1:8080/feed.xml")
    assert "مضاف من قبل" in duplicate.text
    for command, expected in {
        "/addfeed file:///etc/passwd": "رُفض الرابط",
        "/addfeed http://user:pw@example.com/rss": "رُفض الرابط",
        "/addfeed": "/addfeed https://example.com/rss",
        "/delfeed abc": "/delfeed 3",
        "/delfeed 99999": "لا يوجد مصدر رقم 99999",
    }.items():
        reply = await bot.say(chat, operator, command)
        assert expected in reply.text, (command, reply.text)

    async with bot.db.session() as s, s.begin():
        feeds = await feed_store.list_feeds(s)
        assert len(feeds) == seeded + 1
        mine = next(f for f in feeds if f.url == "http://127.0.0.1:8080/feed.xml")
        now = datetime.now(UTC)
        await feed_store.record_fetch_error(
            s, mine.id, "HTTP 500 <Internal Server Error>", now=now, next_check_at=now + timedelta(hours=1)
        )
    listing = await bot.say(chat, operator, "/feeds")
    assert f"#{mine.id}" in listing.text and "يتعثر" in listing.text
    assert "HTTP 500 <Internal Server Error>" in listing.text

    removed = await bot.say(chat, operator, f"/delfeed {mine.id}")
    assert f"حُذف المصدر رقم {mine.id}" in removed.text
    async with bot.db.session() as s:
        assert await feed_store.get_feed(s, mine.id) is None

    stats = await bot.say(chat, operator, "/stats")
    assert "إحصاءات اليوم" in stats.text and f"{seeded} جديدة" in stats.text


async def test_non_operators_are_refused_and_nothing_changes(bot: Bot) -> None:
    user = bot.emu.create_user("قارئ")
    chat = bot.emu.create_private_chat(user)
    async with bot.db.session() as s:
        before = len(await feed_store.list_feeds(s))
    for command in ["/addfeed https://example.com/rss", "/delfeed 1", "/feeds", "/stats"]:
        reply = await bot.say(chat, user, command)
        assert "لمشغّلي البوت فقط" in reply.text, command
    async with bot.db.session() as s:
        assert len(await feed_store.list_feeds(s)) == before


def test_long_listings_are_split_between_lines_under_telegrams_limit() -> None:
    lines = [f"#{n} " + "س" * 300 for n in range(40)]
    split = pages(lines)
    assert len(split) > 1
    assert all(telegram_length(p) <= TELEGRAM_MAX_LEN for p in split)
    assert "\n".join(split) == "\n".join(lines)
