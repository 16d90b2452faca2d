"""A reader in a private chat: subscribing, picking topics by button, time and timezone, reading, pausing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.handlers import topics as topic_handlers
from news.models import Article
from news.topics import BUILTIN_KEYS
from storage import articles as article_store
from storage import chats as chat_store
from tests.bot.conftest import Bot, eventually
from tests.emulator import Chat, SentMessage, User


async def _reader(bot: Bot, language: str = "ar") -> tuple[User, Chat]:
    user = bot.emu.create_user("سلمى", language_code=language)
    return user, bot.emu.create_private_chat(user)


async def _settings(bot: Bot, chat_id: int) -> chat_store.ChatSettings:
    async with bot.db.session() as s:
        chat = await chat_store.get_chat(s, chat_id)
    assert chat is not None
    return chat


async def _press_stale(bot: Bot, chat: Chat, user: User, message: SentMessage, data: str) -> None:
    """Press a button whose data the keyboard no longer shows, and wait for the bot's answer."""
    query_id = bot.emu.press_button(chat, user, message.message_id, data=data, force=True)
    await bot.emu.wait_for_async(
        lambda: any(a["callback_query_id"] == query_id for a in bot.emu.callback_answers), 5, "the answer"
    )


async def test_start_subscribes_and_the_picker_toggles_topics_in_place(bot: Bot) -> None:
    user, chat = await _reader(bot)
    welcome = await bot.say(chat, user, "/start")
    assert "أهلًا" in welcome.text and "07:00" in welcome.text and "Asia/Riyadh" in welcome.text
    assert welcome.parse_mode == "HTML"
    toggle = f"{topic_handlers.TOGGLE}|{chat.id}|"
    buttons = [*(toggle + k + "|0" for k in BUILTIN_KEYS), f"{topic_handlers.DONE}|{chat.id}"]
    assert welcome.button_data == buttons
    assert all(b["text"].startswith("✅") for row in welcome.inline_keyboard[:-1] for b in row)
    stored = await _settings(bot, chat.id)
    assert stored.topics == BUILTIN_KEYS and stored.active and stored.next_digest_at is not None

    answer = await bot.press(chat, user, welcome, toggle + "sport|0")
    assert "رياضة" in (answer["text"] or "")
    edited = bot.current(chat, welcome)
    assert edited.edit_date is not None and len(bot.emu.sent(chat)) == 1  # edited in place, nothing new
    sport = next(b for row in edited.inline_keyboard for b in row if b["callback_data"] == toggle + "sport|1")
    assert sport["text"].startswith("▫️")
    assert "sport" not in (await _settings(bot, chat.id)).topics

    await bot.press(chat, user, welcome, toggle + "sport|1")
    assert (await _settings(bot, chat.id)).topics == BUILTIN_KEYS
    # The same press handled twice (a restart before its done mark) sets the same state again.
    await _press_stale(bot, chat, user, welcome, toggle + "sport|1")
    assert (await _settings(bot, chat.id)).topics == BUILTIN_KEYS
    # A picker from an older version (no state in its data) still toggles.
    await _press_stale(bot, chat, user, welcome, toggle + "sport")
    assert "sport" not in (await _settings(bot, chat.id)).topics
    await _press_stale(bot, chat, user, welcome, toggle + "sport")
    assert (await _settings(bot, chat.id)).topics == BUILTIN_KEYS

    await bot.press(chat, user, welcome, f"{topic_handlers.DONE}|{chat.id}")
    done = bot.current(chat, welcome)
    assert done.inline_keyboard == [] and "سياسة" in done.text

    reopened = await bot.say(chat, user, "/topics")
    assert reopened.button_data == buttons


async def test_time_and_timezone_set_the_daily_delivery(bot: Bot) -> None:
    user, chat = await _reader(bot)
    await bot.say(chat, user, "/start")
    reply = await bot.say(chat, user, "/time 07:30")
    assert "07:30" in reply.text
    stored = await _settings(bot, chat.id)
    assert stored.delivery_minute == 450
    assert stored.next_digest_at is not None and stored.next_digest_at > datetime.now(UTC)

    reply = await bot.say(chat, user, "/timezone Africa/Cairo")
    assert "Africa/Cairo" in reply.text
    assert (await _settings(bot, chat.id)).timezone == "Africa/Cairo"

    menu = await bot.say(chat, user, "/timezone")
    assert f"tz|{chat.id}|Asia/Dubai" in menu.button_data
    await bot.press(chat, user, menu, f"tz|{chat.id}|Asia/Dubai")
    assert "Asia/Dubai" in bot.current(chat, menu).text
    stored = await _settings(bot, chat.id)
    assert stored.timezone == "Asia/Dubai"
    assert stored.next_digest_at is not None
    local = stored.next_digest_at + timedelta(hours=4)  # Dubai is UTC+4 all year
    assert (local.hour, local.minute) == (7, 30)

    settings = await bot.say(chat, user, "/settings")
    assert "07:30" in settings.text and "Asia/Dubai" in settings.text and "هذه المحادثة" in settings.text


async def test_stop_pauses_and_start_resumes_with_settings_kept(bot: Bot) -> None:
    user, chat = await _reader(bot)
    await bot.say(chat, user, "/start")
    await bot.say(chat, user, "/time 06:15")
    reply = await bot.say(chat, user, "/stop")
    assert "/start" in reply.text
    assert not (await _settings(bot, chat.id)).active
    reply = await bot.say(chat, user, "/start")
    assert "عادت" in reply.text
    stored = await _settings(bot, chat.id)
    assert stored.active and stored.delivery_minute == 6 * 60 + 15


async def test_bad_input_gets_a_short_arabic_answer_and_changes_nothing(bot: Bot) -> None:
    user, chat = await _reader(bot)
    await bot.say(chat, user, "/start")
    before = await _settings(bot, chat.id)
    cases = {
        "/time 25:99": "غير صالح",
        "/time": "/time 07:30",
        "/timezone Mars/Base": "غير معروفة",
        "/addtopic": "/addtopic",
        "/addtopic طاقة:": "كلمة واحدة على الأقل",
        "/addtopic <b>طاقة</b>: نفط": "لا يقبل الرموز",
        "/addtopic كثير: " + "، ".join(f"كلمة{n}" for n in range(500)): "الكلمات كثيرة",
        "/deltopic": "/deltopic",
        "/deltopic رياضة": "لا يُحذف",
        "/search": "/search",
        "/latest فلك": "لا أعرف موضوعًا",
        "/frobnicate": "لا أعرف هذا الأمر",
        "مرحبا": "/help",
    }
    for text, expected in cases.items():
        reply = await bot.say(chat, user, text)
        assert expected in reply.text, (text, reply.text)
        assert reply.parse_mode == "HTML"
    after = await _settings(bot, chat.id)
    assert (after.delivery_minute, after.timezone, after.topics) == (
        before.delivery_minute,
        before.timezone,
        before.topics,
    )
    async with bot.db.session() as s:
        assert await chat_store.keyword_topics(s, after.id) == []


async def test_user_text_is_escaped_in_replies(bot: Bot) -> None:
    user, chat = await _reader(bot)
    await bot.say(chat, user, "/start")
    reply = await bot.say(chat, user, "/timezone <b>Mars</b>")
    assert "<b>Mars</b>" in reply.text  # shown literally, not parsed as markup
    assert not any(
        e["type"] == "bold" and reply.text[e["offset"] :].startswith("Mars") for e in reply.entities
    )
    reply = await bot.say(chat, user, "/search <i>x</i> & y")
    assert "<i>x</i> &amp; y" not in reply.text and "<i>x</i> & y" in reply.text


async def test_commands_before_start_ask_for_start(bot: Bot) -> None:
    user, chat = await _reader(bot)
    for command in ["/time 08:00", "/topics", "/settings", "/stop", "/addtopic طاقة: نفط", "/digest"]:
        reply = await bot.say(chat, user, command)
        assert "/start" in reply.text, command
    async with bot.db.session() as s:
        assert await chat_store.get_chat(s, chat.id) is None


async def test_keyword_topic_appears_in_the_picker_and_can_be_deleted(bot: Bot) -> None:
    user, chat = await _reader(bot)
    await bot.say(chat, user, "/start")
    picker = await bot.say(chat, user, "/addtopic طاقة: نفط، غاز، -غاز الضحك")
    assert "طاقة" in picker.text and "غاز الضحك" in picker.text
    labels = [b["text"] for row in picker.inline_keyboard for b in row]
    assert "✅ طاقة" in labels
    key = next(d for d in picker.button_data if d.split("|")[2].startswith("kw_")).split("|")[2]
    await bot.press(chat, user, picker, f"{topic_handlers.TOGGLE}|{chat.id}|{key}|0")
    assert key not in (await _settings(bot, chat.id)).topics
    reply = await bot.say(chat, user, "/deltopic طاقة")
    assert "حُذف" in reply.text
    reopened = await bot.say(chat, user, "/topics")
    assert not any("kw_" in d for d in reopened.button_data)


def _article(n: int, title: str, topics: tuple[str, ...]) -> Article:
    return Article(
        url=f"https://news.example/{n}?a=1&b=2",
        canonical_url=f"https://news.example/{n}",
        title=title,
        source="وكالة <الأنباء>",
        published_at=datetime.now(UTC) - timedelta(hours=n),
        fingerprint=f"fp{n}",
        topics=topics,
    )


async def test_search_and_latest_find_stored_articles(bot: Bot) -> None:
    async with bot.db.session() as s, s.begin():
        await article_store.insert_articles(
            s,
            None,
            [
                _article(1, "ارتفاع أسعار النفط <عاجل>", ("economy",)),
                _article(2, "المنتخب يفوز بالمباراة", ("sport",)),
            ],
            fetched_at=datetime.now(UTC),
        )
    user, chat = await _reader(bot)
    found = await bot.say(chat, user, "/search الأسعار نفط")
    assert "ارتفاع أسعار النفط <عاجل>" in found.text and "المنتخب" not in found.text
    link = next(e for e in found.entities if e["type"] == "text_link")
    assert link["url"] == "https://news.example/1?a=1&b=2"
    missing = await bot.say(chat, user, "/search زلزال")
    assert "لم أجد" in missing.text

    latest = await bot.say(chat, user, "/latest")
    assert "النفط" in latest.text and "المنتخب" in latest.text and "وكالة <الأنباء>" in latest.text
    sport = await bot.say(chat, user, "/latest رياضة")
    assert "المنتخب" in sport.text and "النفط" not in sport.text
    culture = await bot.say(chat, user, "/latest culture")
    assert "لا أخبار" in culture.text


async def test_english_speakers_get_english(bot: Bot) -> None:
    user, chat = await _reader(bot, language="en")
    welcome = await bot.say(chat, user, "/start")
    assert "Welcome" in welcome.text
    labels = [b["text"] for row in welcome.inline_keyboard for b in row]
    assert "✅ Politics" in labels
    assert (await _settings(bot, chat.id)).language == "en"
    reply = await bot.say(chat, user, "/time 25:99")
    assert "not a valid time" in reply.text


async def test_help_hides_operator_commands_from_readers(bot: Bot, operator: User) -> None:
    user, chat = await _reader(bot)
    reader_help = await bot.say(chat, user, "/help")
    assert "/topics" in reader_help.text and "/channel" in reader_help.text
    assert "/addfeed" not in reader_help.text and "/stats" not in reader_help.text
    op_chat = bot.emu.create_private_chat(operator)
    op_help = await bot.say(op_chat, operator, "/help")
    assert "/addfeed" in op_help.text and "/stats" in op_help.text


async def test_blocked_then_unblocked_reader_is_told_to_start_again(bot: Bot) -> None:
    user, chat = await _reader(bot)
    await bot.say(chat, user, "/start")
    bot.emu.block_bot(user)

    async def removed() -> bool:
        return (await _settings(bot, chat.id)).deactivated_reason is not None

    await eventually(removed, "the blocked chat to be deactivated")
    assert (await _settings(bot, chat.id)).deactivated_reason == "blocked by the user"
    bot.emu.unblock_bot(user)
    reply = await bot.say(chat, user, "/time 09:00")
    assert "/start" in reply.text
    assert (await _settings(bot, chat.id)).delivery_minute == 7 * 60
    await bot.say(chat, user, "/start")
    stored = await _settings(bot, chat.id)
    assert stored.deactivated_reason is None and stored.active
