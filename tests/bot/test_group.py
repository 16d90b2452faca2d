"""Groups: everyone reads, only administrators (including anonymous ones) change settings; membership
changes register and deactivate the chat; reading commands have a per-chat cooldown."""

from __future__ import annotations

import logging

import pytest

from bot.handlers import reading
from bot.handlers import topics as topic_handlers
from news.topics import BUILTIN_KEYS
from storage import chats as chat_store
from tests.bot.conftest import Bot, eventually, running_bot
from tests.emulator import DEFAULT_TOKEN, BotAPIEmulator, Chat, User

BOT = "NashraTestBot"


async def _stored(bot: Bot, chat_id: int) -> chat_store.ChatSettings | None:
    async with bot.db.session() as s:
        return await chat_store.get_chat(s, chat_id)


async def _group(bot: Bot) -> tuple[Chat, User, User]:
    admin = bot.emu.create_user("مشرف")
    member = bot.emu.create_user("عضو")
    group = bot.emu.create_group("أصدقاء الأخبار", creator=admin, members=[member], bot_status="left")
    bot.emu.add_bot(group, by=admin)
    await bot.emu.wait_for_sent_async(group, contains="/start")  # the greeting
    return group, admin, member


async def test_added_group_waits_for_an_admin_and_only_admins_change_settings(bot: Bot) -> None:
    group, admin, member = await _group(bot)
    registered = await _stored(bot, group.id)
    assert registered is not None and not registered.active and registered.next_digest_at is None

    refused = await bot.say(group, member, f"/start@{BOT}")
    assert "للمشرفين فقط" in refused.text
    assert (await _stored(bot, group.id)).next_digest_at is None  # type: ignore[union-attr]

    picker = await bot.say(group, admin, f"/start@{BOT}")
    assert picker.reply_to_message_id is not None
    assert "أهلًا" in picker.text and "أصدقاء الأخبار" in picker.text and "07:00" in picker.text
    subscribed = await _stored(bot, group.id)
    assert subscribed is not None and subscribed.delivering and subscribed.topics == BUILTIN_KEYS

    toggle = f"{topic_handlers.TOGGLE}|{group.id}|economy|0"
    answer = await bot.press(group, member, picker, toggle)
    assert answer["show_alert"] and "للمشرفين" in answer["text"]
    assert (await _stored(bot, group.id)).topics == BUILTIN_KEYS  # type: ignore[union-attr]
    await bot.press(group, admin, picker, toggle)
    assert "economy" not in (await _stored(bot, group.id)).topics  # type: ignore[union-attr]

    for command in ["/time 08:00", "/timezone Africa/Cairo", "/stop", "/addtopic طاقة: نفط", "/topics"]:
        reply = await bot.say(group, member, command)
        assert "للمشرفين فقط" in reply.text, command
    unchanged = await _stored(bot, group.id)
    assert unchanged is not None and unchanged.delivery_minute == 7 * 60 and unchanged.active

    reply = await bot.say(group, admin, f"/time@{BOT} 08:00")
    assert "08:00" in reply.text
    reply = await bot.say(group, None, "/timezone Africa/Cairo", anonymous=True)
    assert "Africa/Cairo" in reply.text
    settings = await bot.say(group, member, "/settings")
    assert "08:00" in settings.text and "Africa/Cairo" in settings.text and "أصدقاء الأخبار" in settings.text
    changed = await _stored(bot, group.id)
    assert changed is not None and (changed.delivery_minute, changed.timezone) == (480, "Africa/Cairo")


async def test_anonymous_admin_can_subscribe_and_add_topics(bot: Bot) -> None:
    group, _, _ = await _group(bot)
    await bot.say(group, None, "/start", anonymous=True)
    picker = await bot.say(group, None, "/addtopic انتخابات: انتخابات، اقتراع", anonymous=True)
    assert "انتخابات" in picker.text
    stored = await _stored(bot, group.id)
    assert stored is not None and len(stored.topics) == len(BUILTIN_KEYS) + 1


async def test_members_read_with_a_cooldown_and_other_bots_commands_are_ignored(bot: Bot) -> None:
    group, admin, member = await _group(bot)
    first = await bot.say(group, member, "/latest")
    assert "لا أخبار" in first.text
    wait = await bot.say(group, member, f"/search@{BOT} نفط")
    assert "مهلًا" in wait.text
    await bot.silent(group, member, "/search نفط", probe=admin)  # warned once, then quiet
    await bot.silent(group, member, "/frobnicate", probe=admin)  # maybe another bot's command
    reply = await bot.say(group, member, f"/frobnicate@{BOT}")
    assert "لا أعرف هذا الأمر" in reply.text
    # The cooldown is per chat: another group reads at once.
    other, _, other_member = await _group(bot)
    assert "لا أخبار" in (await bot.say(other, other_member, "/latest")).text
    assert reading.READ_COOLDOWN >= 10


async def test_the_cooldown_holds_across_processes(emulator: BotAPIEmulator, db_url: str) -> None:
    """Another process (here, the bot started again on the same database) handles the group's next
    reading command: the cooldown is the group's, not a process's."""
    async with running_bot(emulator, db_url) as first:
        group, admin, member = await _group(first)
        assert "لا أخبار" in (await first.say(group, member, "/latest")).text
    async with running_bot(emulator, db_url) as second:
        assert "مهلًا" in (await second.say(group, member, "/search نفط")).text
        await second.silent(group, member, "/latest", probe=admin)


async def test_removal_deactivates_and_readding_keeps_settings_paused(bot: Bot) -> None:
    group, admin, _ = await _group(bot)
    await bot.say(group, admin, "/start")
    await bot.say(group, admin, "/time 21:00")
    bot.emu.remove_bot(group, by=admin)

    async def deactivated() -> bool:
        stored = await _stored(bot, group.id)
        return stored is not None and stored.deactivated_reason is not None

    await eventually(deactivated, "the group to be deactivated")
    stored = await _stored(bot, group.id)
    assert stored is not None and stored.deactivated_reason == "bot kicked the chat" and not stored.delivering

    bot.emu.add_bot(group, by=admin)
    await bot.emu.wait_for_sent_async(group, count=2, contains="/start")
    back = await _stored(bot, group.id)
    assert back is not None and back.deactivated_reason is None and not back.active
    assert back.delivery_minute == 21 * 60
    settings = await bot.say(group, admin, "/settings")
    assert "موقوفة" in settings.text and "21:00" in settings.text
    await bot.say(group, admin, "/start")
    assert (await _stored(bot, group.id)).delivering  # type: ignore[union-attr]


async def test_group_upgraded_to_supergroup_keeps_its_settings(bot: Bot) -> None:
    group, admin, _ = await _group(bot)
    await bot.say(group, admin, "/start")
    await bot.say(group, admin, "/time 06:45")
    supergroup = bot.emu.migrate_to_supergroup(group, by=admin)
    await bot.emu.wait_until_idle_async()
    settings = await bot.say(supergroup, admin, "/settings")
    assert "06:45" in settings.text
    moved = await _stored(bot, supergroup.id)
    assert moved is not None and moved.type == "supergroup"
    assert await _stored(bot, group.id) is None


async def test_an_internal_error_gets_a_short_apology_without_details(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    caplog.set_level(logging.DEBUG, logger="jobs")
    group, admin, _ = await _group(bot)
    bot.emu.fail_with_server_error("getChatMember", error_code=500)
    reply = await bot.say(group, admin, "/time 08:00")
    assert reply.text == "عذرًا، حدث خطأ عندنا. حاول مرة أخرى بعد قليل."
    assert "unhandled error" in caplog.text
    assert DEFAULT_TOKEN.split(":")[1] not in caplog.text
    stored = await _stored(bot, group.id)
    assert stored is not None and stored.delivery_minute == 7 * 60
