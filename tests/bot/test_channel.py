"""Channels: linked and configured from a private chat, with the rights checked at link time and on every
change, and each missing right named."""

from __future__ import annotations

from bot.handlers import channel as channel_handlers
from bot.handlers import topics as topic_handlers
from news.topics import BUILTIN_KEYS
from storage import chats as chat_store
from tests.bot.conftest import Bot, running_bot
from tests.emulator import BotAPIEmulator, Chat, User


async def _stored(bot: Bot, chat_id: int) -> chat_store.ChatSettings | None:
    async with bot.db.session() as s:
        return await chat_store.get_chat(s, chat_id)


def _admin_with_channel(bot: Bot, **channel: object) -> tuple[User, Chat, Chat]:
    user = bot.emu.create_user("محرر")
    private = bot.emu.create_private_chat(user)
    news = bot.emu.create_channel("قناة <نشرة>", creator=user, **channel)  # type: ignore[arg-type]
    return user, private, news


async def test_linking_by_name_then_configuring_the_channel_from_the_private_chat(bot: Bot) -> None:
    user, private, news = _admin_with_channel(bot, username="nashra_news")
    linked = await bot.say(private, user, "/channel @nashra_news")
    assert "رُبطت" in linked.text and "قناة <نشرة>" in linked.text
    stored = await _stored(bot, news.id)
    assert stored is not None and stored.type == "channel" and stored.linked_by == user.id
    assert stored.delivering and stored.topics == BUILTIN_KEYS

    toggle = f"{topic_handlers.TOGGLE}|{news.id}|culture|0"
    assert toggle in linked.button_data
    await bot.press(private, user, linked, toggle)
    assert "culture" not in (await _stored(bot, news.id)).topics  # type: ignore[union-attr]

    reply = await bot.say(private, user, "/time 09:15")
    assert "09:15" in reply.text and "قناة <نشرة>" in reply.text
    assert (await _stored(bot, news.id)).delivery_minute == 9 * 60 + 15  # type: ignore[union-attr]
    assert await _stored(bot, private.id) is None  # the private chat itself was not subscribed

    settings = await bot.say(private, user, "/settings")
    assert "قناة <نشرة>" in settings.text and "تضبط الآن" in settings.text and "09:15" in settings.text

    chooser = await bot.say(private, user, "/channel")
    assert chooser.button_data == [
        f"{channel_handlers.CHOOSE}|{private.id}",
        f"{channel_handlers.CHOOSE}|{news.id}",
    ]
    await bot.press(private, user, chooser, f"{channel_handlers.CHOOSE}|{private.id}")
    assert "هذه المحادثة" in bot.current(private, chooser).text
    await bot.say(private, user, "/start")
    assert (await _stored(bot, private.id)) is not None
    assert (await _stored(bot, news.id)).delivery_minute == 9 * 60 + 15  # type: ignore[union-attr]


async def test_linking_by_forwarding_a_post(bot: Bot) -> None:
    user, private, news = _admin_with_channel(bot)
    post = bot.emu.post_to_channel(news, "خبر اليوم")
    bot.emu.forward_channel_post(news, post["message_id"], user)
    linked = await bot.emu.wait_for_sent_async(private, contains="رُبطت")
    assert f"{topic_handlers.TOGGLE}|{news.id}|politics|0" in linked.button_data
    stored = await _stored(bot, news.id)
    assert stored is not None and stored.linked_by == user.id


async def test_each_missing_right_is_named_and_nothing_is_linked(bot: Bot) -> None:
    user = bot.emu.create_user("محرر")
    private = bot.emu.create_private_chat(user)
    stranger = bot.emu.create_user("غريب")
    not_in = bot.emu.create_channel("بلا بوت", username="no_bot_here", creator=user, bot_status="left")
    mute = bot.emu.create_channel("بلا نشر", username="mute_bot", creator=user, bot_rights={})
    foreign = bot.emu.create_channel("قناة غيري", username="not_mine", creator=stranger)
    group = bot.emu.create_supergroup("مجموعة", username="a_group", creator=user)
    cases = {
        "/channel @nobody_there": "لم أجد القناة",
        "/channel @a_group": "ليست قناة",
        "/channel @no_bot_here": "أضفني مشرفًا",
        "/channel @mute_bot": "نشر الرسائل",
        "/channel @not_mine": "يجب أن تكون أنت مشرفًا",
        "/channel <b>x</b>": "/channel @my_channel",
    }
    for command, expected in cases.items():
        reply = await bot.say(private, user, command)
        assert expected in reply.text, (command, reply.text)
    for chat in (not_in, mute, foreign, group):
        assert await _stored(bot, chat.id) is None

    member_group = bot.emu.create_group("مجموعة صغيرة", creator=user)
    reply = await bot.say(member_group, user, "/channel @mute_bot")
    assert "محادثة خاصة" in reply.text


async def test_rights_are_rechecked_before_every_change(bot: Bot) -> None:
    user, private, news = _admin_with_channel(bot, username="nashra_news")
    linked = await bot.say(private, user, "/channel @nashra_news")
    bot.emu.set_bot_member(news, "administrator", by=user, can_post_messages=False)
    reply = await bot.say(private, user, "/time 10:00")
    assert "نشر الرسائل" in reply.text
    answer = await bot.press(private, user, linked, f"{topic_handlers.TOGGLE}|{news.id}|sport|0")
    assert answer["show_alert"] and "نشر الرسائل" in answer["text"]
    stored = await _stored(bot, news.id)
    assert stored is not None and stored.delivery_minute == 7 * 60 and "sport" in stored.topics

    bot.emu.set_bot_member(news, "administrator", by=user, can_post_messages=True)
    bot.emu.set_member(news, user, "member")
    reply = await bot.say(private, user, "/timezone Africa/Cairo")
    assert "يجب أن تكون أنت مشرفًا" in reply.text
    assert (await _stored(bot, news.id)).timezone == "Asia/Riyadh"  # type: ignore[union-attr]

    bot.emu.set_member(news, user, "administrator", can_post_messages=True)
    bot.emu.remove_bot(news, by=user)
    reply = await bot.say(private, user, "/stop")
    assert "أضفني مشرفًا" in reply.text


async def test_the_chosen_chat_survives_a_restart(emulator: BotAPIEmulator, db_url: str) -> None:
    """An admin links a channel, the bot restarts: /time still changes the channel, not the admin's chat;
    choosing the private chat again is remembered across the next restart too."""
    async with running_bot(emulator, db_url) as bot:
        user, private, news = _admin_with_channel(bot, username="nashra_news")
        await bot.say(private, user, "/channel @nashra_news")
    async with running_bot(emulator, db_url) as bot:
        reply = await bot.say(private, user, "/time 10:30")
        assert "قناة <نشرة>" in reply.text
        assert (await _stored(bot, news.id)).delivery_minute == 10 * 60 + 30  # type: ignore[union-attr]
        assert await _stored(bot, private.id) is None
        chooser = await bot.say(private, user, "/channel")
        await bot.press(private, user, chooser, f"{channel_handlers.CHOOSE}|{private.id}")
    async with running_bot(emulator, db_url) as bot:
        await bot.say(private, user, "/start")
        reply = await bot.say(private, user, "/time 06:45")
        assert "قناة <نشرة>" not in reply.text
        assert (await _stored(bot, private.id)).delivery_minute == 6 * 60 + 45  # type: ignore[union-attr]
        assert (await _stored(bot, news.id)).delivery_minute == 10 * 60 + 30  # type: ignore[union-attr]
