"""/alerts, /quiet, /time with editions, /length, /sources and the /stats chart, through the emulator.

Bad input gets a clear Arabic reply and changes nothing; good input is stored and shown back. The command
menus and /help list the new commands in Arabic and English.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.handlers import menu
from bot.handlers.alerts import SOURCE
from bot.texts import COMMANDS_AR, COMMANDS_EN
from jobs.preferences import outlet_token
from news.models import Article, DigestPage
from storage import articles as article_store
from storage import chats as chat_store
from storage import deliveries as outbox
from storage import feeds as feed_store
from storage.schema import Delivery
from tests.bot.conftest import Bot
from tests.emulator import Chat, User

NEW = ("alerts", "quiet", "sources", "length")
PNG = bytes.fromhex("89504e470d0a1a0a")


async def _subscribed(bot: Bot, language: str = "ar") -> tuple[User, Chat]:
    user = bot.emu.create_user("هدى", language_code=language)
    chat = bot.emu.create_private_chat(user)
    await bot.say(chat, user, "/start")
    return user, chat


async def _settings(bot: Bot, chat_id: int) -> chat_store.ChatSettings:
    async with bot.db.session() as s:
        chat = await chat_store.get_chat(s, chat_id)
    assert chat is not None
    return chat


async def test_alerts_on_off_and_cap_with_clear_refusals(bot: Bot) -> None:
    user, chat = await _subscribed(bot)
    state = await bot.say(chat, user, "/alerts")
    assert "متوقفة" in state.text and not (await _settings(bot, chat.id)).alerts
    on = await bot.say(chat, user, "/alerts on")
    assert "مفعّلة" in on.text and "5" in on.text and "23:00–07:00" in on.text
    capped = await bot.say(chat, user, "/alerts ١٢")
    stored = await _settings(bot, chat.id)
    assert stored.alerts and stored.alerts_per_day == 12 and "12" in capped.text
    for bad in ("/alerts maybe", "/alerts 50", "/alerts 0"):
        reply = await bot.say(chat, user, bad)
        assert "لم أفهم" in reply.text and "/alerts on" in reply.text, (bad, reply.text)
    assert (await _settings(bot, chat.id)).alerts_per_day == 12
    off = await bot.say(chat, user, "/alerts off")
    assert "متوقفة" in off.text and not (await _settings(bot, chat.id)).alerts


async def test_quiet_hours_and_a_malformed_quiet(bot: Bot) -> None:
    user, chat = await _subscribed(bot)
    shown = await bot.say(chat, user, "/quiet")
    assert "23:00–07:00" in shown.text
    done = await bot.say(chat, user, "/quiet 22:30 06:00")
    assert "22:30–06:00" in done.text
    stored = await _settings(bot, chat.id)
    assert (stored.quiet_start, stored.quiet_end) == (22 * 60 + 30, 6 * 60)
    for bad in ("/quiet 22:30", "/quiet مساء", "/quiet 25:00 06:00"):
        reply = await bot.say(chat, user, bad)
        assert "لم أفهم" in reply.text and "/quiet 23:00 07:00" in reply.text, (bad, reply.text)
    assert (await _settings(bot, chat.id)).quiet_start == 22 * 60 + 30
    await bot.say(chat, user, "/quiet off")
    assert (await _settings(bot, chat.id)).quiet_start is None


async def test_editions_up_to_four_and_five_are_refused(bot: Bot) -> None:
    user, chat = await _subscribed(bot)
    done = await bot.say(chat, user, "/time 19:00 07:00")
    assert "07:00" in done.text and "19:00" in done.text
    stored = await _settings(bot, chat.id)
    assert stored.editions == (7 * 60, 19 * 60)
    assert stored.next_digest_at is not None
    local = stored.next_digest_at + timedelta(hours=3)  # Riyadh is UTC+3 all year
    assert (local.hour, local.minute) in ((7, 0), (19, 0))
    assert stored.next_digest_at - datetime.now(UTC) <= timedelta(hours=12)

    refused = await bot.say(chat, user, "/time 06:00 09:00 12:00 15:00 18:00")
    assert "٤" in refused.text and "على الأكثر" in refused.text
    assert (await _settings(bot, chat.id)).editions == (7 * 60, 19 * 60)

    settings = await bot.say(chat, user, "/settings")
    assert (
        "07:00، 19:00" in settings.text and "كاملة" in settings.text and "التنبيهات العاجلة" in settings.text
    )

    await bot.say(chat, user, "/time 08:15")
    assert (await _settings(bot, chat.id)).editions == (8 * 60 + 15,)


async def test_length_short_and_full(bot: Bot) -> None:
    user, chat = await _subscribed(bot)
    short = await bot.say(chat, user, "/length short 3")
    assert "قصيرة" in short.text and "3" in short.text
    stored = await _settings(bot, chat.id)
    assert (stored.digest_length, stored.per_topic) == ("short", 3)
    for bad in ("/length", "/length medium", "/length short 99"):
        reply = await bot.say(chat, user, bad)
        assert "/length short" in reply.text, (bad, reply.text)
    full = await bot.say(chat, user, "/length full")
    assert "كاملة" in full.text
    assert (await _settings(bot, chat.id)).digest_length == "full"


async def _two_outlets(bot: Bot) -> None:
    now = datetime.now(UTC)
    async with bot.db.session() as s, s.begin():
        for n, name in enumerate(("وكالة الشرق", "إذاعة النيل")):
            feed = await feed_store.add_feed(s, f"https://outlet{n}.example/rss", now=now)
            article = Article(
                url=f"https://outlet{n}.example/1",
                canonical_url=f"https://outlet{n}.example/1",
                title=f"خبر من {name}",
                source=name,
                published_at=now,
                topics=("politics",),
            )
            await article_store.insert_articles(s, feed.id, [article], fetched_at=now)


async def test_sources_keyboard_mutes_and_unmutes_and_an_unknown_source_is_named(bot: Bot) -> None:
    user, chat = await _subscribed(bot)
    await _two_outlets(bot)
    keyboard = await bot.say(chat, user, "/sources")
    east = f"{SOURCE}|{chat.id}|{outlet_token('وكالة الشرق')}"
    assert east + "|1" in keyboard.button_data and len(keyboard.button_data) == 2
    answer = await bot.press(chat, user, keyboard, east + "|1")
    assert "وكالة الشرق" in (answer["text"] or "")
    assert (await _settings(bot, chat.id)).muted_sources == {"وكالة الشرق"}
    edited = bot.current(chat, keyboard)
    button = next(b for row in edited.inline_keyboard for b in row if b["callback_data"] == east + "|0")
    assert button["text"].startswith("🔇") and "المكتومة: وكالة الشرق" in edited.text
    # The mute press handled again (a restart before its done mark) leaves the outlet muted.
    query_id = bot.emu.press_button(chat, user, keyboard.message_id, data=east + "|1", force=True)
    await bot.emu.wait_for_async(
        lambda: any(a["callback_query_id"] == query_id for a in bot.emu.callback_answers), 5, "the answer"
    )
    assert (await _settings(bot, chat.id)).muted_sources == {"وكالة الشرق"}

    unknown = await bot.say(chat, user, "/sources الجزيرة")
    assert "لا أعرف مصدرًا باسم «الجزيرة»" in unknown.text and "إذاعة النيل" in unknown.text
    assert (await _settings(bot, chat.id)).muted_sources == {"وكالة الشرق"}

    by_name = await bot.say(chat, user, "/sources وكالة الشرق")
    assert "عاد المصدر" in by_name.text
    assert (await _settings(bot, chat.id)).muted_sources == frozenset()


async def test_muted_outlets_disappear_from_latest_and_search(bot: Bot) -> None:
    user, chat = await _subscribed(bot)
    await _two_outlets(bot)
    before = await bot.say(chat, user, "/latest")
    assert "خبر من وكالة الشرق" in before.text and "خبر من إذاعة النيل" in before.text
    await bot.say(chat, user, "/sources وكالة الشرق")
    latest = await bot.say(chat, user, "/latest")
    found = await bot.say(chat, user, "/search خبر")
    for reply in (latest, found):
        assert "خبر من إذاعة النيل" in reply.text and "وكالة الشرق" not in reply.text, reply.text


async def test_group_members_cannot_change_alerts(bot: Bot) -> None:
    admin = bot.emu.create_user("مشرف")
    member = bot.emu.create_user("عضو")
    group = bot.emu.create_group("أخبار الحي", members=[member], creator=admin)
    await bot.say(group, admin, "/start")
    refused = await bot.say(group, member, "/alerts on")
    assert "للمشرفين فقط" in refused.text
    assert not (await _settings(bot, group.id)).alerts
    await bot.say(group, admin, "/alerts on")
    assert (await _settings(bot, group.id)).alerts


async def test_stats_answers_with_a_chart_photo(bot: Bot, operator: User) -> None:
    chat = bot.emu.create_private_chat(operator)
    await _two_outlets(bot)
    before = len(bot.emu.sent(chat))
    bot.emu.send_text(chat, operator, "/stats")
    sent = await bot.emu.wait_for_sent_async(chat, count=before + 2, timeout=30)
    text, photo = bot.emu.sent(chat)[before:]
    assert "إحصاءات اليوم" in text.text
    assert photo is sent and photo.photo is not None
    assert bytes.fromhex(photo.photo["head"])[:8] == PNG
    assert photo.photo["size"] > 10_000 and photo.photo["width"] >= 600 and photo.photo["height"] >= 400
    assert "photo" in photo.message and "آخر ٧ أيام" in photo.text
    assert bot.emu.counters["calls.sendPhoto"] == 1


async def test_menus_and_help_list_the_new_commands_in_arabic_and_english(bot: Bot) -> None:
    for scope, names in (("all_private_chats", menu.PRIVATE), ("all_chat_administrators", menu.GROUP_ADMINS)):
        for language, table in (("ar", COMMANDS_AR), ("", COMMANDS_EN)):
            listed = {c["command"]: c["description"] for c in bot.emu.commands(scope, language)}
            assert all(listed[name] == table[name] for name in NEW), (scope, language)
            assert set(NEW) <= set(names)
    user, chat = await _subscribed(bot)
    arabic = await bot.say(chat, user, "/help")
    english_user = bot.emu.create_user("Sam", language_code="en")
    english_chat = bot.emu.create_private_chat(english_user)
    english = await bot.say(english_chat, english_user, "/help")
    for name in NEW:
        assert f"/{name}" in arabic.text and f"/{name}" in english.text
    assert "تنبيهات الأخبار العاجلة" in arabic.text and "breaking-news alerts" in english.text
    assert "/time 07:00 19:00" in arabic.text


async def test_digest_pages_written_without_a_kind_count_as_digests(bot: Bot) -> None:
    """Outbox writers that predate alerts insert no ``kind``: the column's server default names them."""
    _user, chat = await _subscribed(bot)
    stored = await _settings(bot, chat.id)
    async with bot.db.session() as s, s.begin():
        await outbox.enqueue_pages(s, stored.id, "now:x", [DigestPage(0, "<b>x</b>")], now=datetime.now(UTC))
    async with bot.db.session() as s:
        kinds = list(await s.scalars(select(Delivery.kind).where(Delivery.chat_id == stored.id)))
    assert kinds == ["digest"]
