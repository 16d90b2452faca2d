"""A real python-telegram-bot 22 Application, polling the emulator through its own httpx stack."""

from __future__ import annotations

import asyncio
import datetime as dtm
from typing import Any

import pytest
from telegram import (
    Bot,
    BotCommandScopeAllPrivateChats,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberOwner,
    ChatMemberRestricted,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageOriginChannel,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.emulator import GROUP_ANONYMOUS_BOT_ID, BotAPIEmulator
from tests.emulator_tests.conftest import running_bot

KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("الرياضة ✅", callback_data="topic:sport")]])


async def test_start_round_trip_and_button_press_edits_the_message(emulator: BotAPIEmulator) -> None:
    seen: list[Update] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_html("<b>أهلاً</b> بك في نشرة 📰", reply_markup=KEYBOARD)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        seen.append(update)
        await query.answer("تم")
        await query.edit_message_text(f"اخترت: <i>{query.data}</i>", parse_mode=ParseMode.HTML)

    user = emulator.create_user("أمل", username="amal")
    chat = emulator.create_private_chat(user)
    async with running_bot(emulator, CommandHandler("start", start), CallbackQueryHandler(pressed)):
        emulator.send_command(chat, user, "start")
        sent = await emulator.wait_for_sent_async(chat)
        assert sent.text == "أهلاً بك في نشرة 📰"
        assert sent.entities == [{"type": "bold", "offset": 0, "length": 5}]
        assert sent.parse_mode == "HTML" and sent.button_data == ["topic:sport"]

        query_id = emulator.press_button(chat, user, sent.message_id, data="topic:sport")
        edited = await emulator.wait_for_sent_async(chat, edited=True)
        assert edited.text == "اخترت: topic:sport"
        assert edited.entities == [{"type": "italic", "offset": 7, "length": 11}]
        assert edited.inline_keyboard == []  # editMessageText without reply_markup removes it
        assert emulator.callback_answers == [
            {"callback_query_id": query_id, "text": "تم", "show_alert": False, "url": None, "cache_time": 0}
        ]
    query = seen[0].callback_query
    assert query is not None and query.chat_instance == emulator.chat_instance(chat)
    assert query.message is not None and query.message.message_id == sent.message_id
    assert isinstance(query.message.date, dtm.datetime)


async def test_errors_surface_as_ptb_exceptions(emulator: BotAPIEmulator) -> None:
    outcomes: asyncio.Queue[Any] = asyncio.Queue()

    async def send(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        try:
            await update.message.reply_html(" ".join(context.args or ["<b>ok</b>"]))
        except TelegramError as exc:
            await outcomes.put(exc)
        else:
            await outcomes.put(None)

    user = emulator.create_user()
    chat = emulator.create_private_chat(user)
    async with running_bot(emulator, CommandHandler("send", send)) as app:

        async def outcome(*args: str) -> Any:
            emulator.send_command(chat, user, "send", " ".join(args))
            return await asyncio.wait_for(outcomes.get(), 5)

        bad_html = await outcome("<div>خبر</div>")
        assert isinstance(bad_html, BadRequest)
        assert bad_html.message == 'Can\'t parse entities: unsupported start tag "div" at byte offset 0'
        unbalanced = await outcome("<b>خبر</i>")
        assert isinstance(unbalanced, BadRequest) and "can't parse entities" in unbalanced.message.lower()

        emulator.fail_with_retry_after("sendMessage", 5, chat_id=chat.id)
        retry = await outcome()
        assert isinstance(retry, RetryAfter) and retry.retry_after == dtm.timedelta(seconds=5)

        emulator.fail_with_forbidden("sendMessage")
        assert isinstance(await outcome(), Forbidden)

        emulator.fail_with_migration("sendMessage", -1001234567890)
        migrated = await outcome()
        assert isinstance(migrated, ChatMigrated) and migrated.new_chat_id == -1001234567890

        emulator.fail_with_server_error("sendMessage", error_code=502)
        assert isinstance(await outcome(), NetworkError)

        emulator.block_bot(user)
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await app.bot.send_message(chat.id, "x")
        emulator.send_command(chat, user, "start")  # /start unblocks the bot
        assert await outcome() is None


async def test_text_limit_counts_utf16_after_entity_parsing(emulator: BotAPIEmulator) -> None:
    user = emulator.create_user()
    chat = emulator.create_private_chat(user)
    async with running_bot(emulator) as app:
        bot = app.bot
        arabic = "خ" * 4096
        accepted = await bot.send_message(chat.id, f"<b>{arabic}</b>", parse_mode=ParseMode.HTML)
        assert accepted.text == arabic and accepted.entities[0].length == 4096
        entities_only = await bot.send_message(chat.id, "&amp;" * 4096, parse_mode=ParseMode.HTML)
        assert entities_only.text == "&" * 4096
        emoji = "😀" * 2048  # 2048 code points, 4096 UTF-16 units
        assert (await bot.send_message(chat.id, emoji)).text == emoji
        for too_long in (arabic + "خ", emoji + "x", f"<i>{arabic}</i>!"):
            with pytest.raises(BadRequest, match="Message is too long"):
                await bot.send_message(chat.id, too_long, parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match="Message text is empty"):
            await bot.send_message(chat.id, "<b>  </b>", parse_mode=ParseMode.HTML)
    assert len(emulator.sent(chat)) == 3


async def test_group_commands_anonymous_admins_and_privacy_mode(emulator: BotAPIEmulator) -> None:
    senders: list[tuple[int, int | None]] = []
    texts: list[str] = []

    async def settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_user is not None and update.effective_message is not None
        sender_chat = update.effective_message.sender_chat
        senders.append((update.effective_user.id, sender_chat.id if sender_chat else None))
        await update.effective_message.reply_text("⚙️")

    async def any_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text is not None
        texts.append(update.effective_message.text)

    admin = emulator.create_user("مشرف")
    group = emulator.create_supergroup("نقاش", creator=admin)
    handlers = (
        CommandHandler("settings", settings),
        MessageHandler(filters.TEXT & ~filters.COMMAND, any_text),
    )
    async with running_bot(emulator, *handlers):
        emulator.send_text(group, admin, "كلام عادي")  # privacy mode: the bot never sees this
        emulator.send_command(group, admin, "settings", mention_bot=True)
        emulator.send_command(group, None, "settings", anonymous=True)
        emulator.send_text(group, admin, "/settings@SomeOtherBot")  # for another bot: not delivered
        await emulator.wait_for_sent_async(group, count=2)
        emulator.send_text(group, admin, f"@{emulator.bot.username} مرحبا")  # a mention is delivered
        await emulator.wait_for_async(lambda: texts)
    assert senders == [(admin.id, None), (GROUP_ANONYMOUS_BOT_ID, group.id)]
    assert texts == ["@NashraTestBot مرحبا"]
    assert emulator.counters["messages_hidden_from_bot"] == 2


async def test_channel_posts_forwards_membership_and_migration(emulator: BotAPIEmulator) -> None:
    channel_posts: list[str] = []
    origins: list[MessageOriginChannel] = []
    memberships: list[tuple[int, str]] = []
    migrations: list[int] = []

    async def on_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.channel_post is not None and update.channel_post.text is not None
        channel_posts.append(update.channel_post.text)

    async def on_forward(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and isinstance(update.message.forward_origin, MessageOriginChannel)
        origins.append(update.message.forward_origin)

    async def on_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.my_chat_member is not None
        memberships.append((update.my_chat_member.chat.id, update.my_chat_member.new_chat_member.status))

    async def on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.migrate_to_chat_id is not None
        migrations.append(update.message.migrate_to_chat_id)

    user = emulator.create_user()
    emulator.create_private_chat(user)
    channel = emulator.create_channel("الجزيرة", username="aljazeera_test")
    group = emulator.create_group("أسرة", creator=user, bot_status="left")
    handlers = (
        MessageHandler(filters.UpdateType.CHANNEL_POST, on_post),
        MessageHandler(filters.FORWARDED & filters.ChatType.PRIVATE, on_forward),
        ChatMemberHandler(on_member, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate),
    )
    async with running_bot(emulator, *handlers) as app:
        post = emulator.post_to_channel(channel, "عاجل: خبر")
        emulator.forward_channel_post(channel, post["message_id"], user)
        emulator.add_bot(group, by=user)
        supergroup = emulator.migrate_to_supergroup(group)
        await emulator.wait_for_async(lambda: channel_posts and origins and memberships and migrations)
        with pytest.raises(ChatMigrated) as caught:
            await app.bot.send_message(group.id, "x")
        assert caught.value.new_chat_id == supergroup.id
        assert (await app.bot.send_message(supergroup.id, "مرحبا")).chat.type == "supergroup"
    assert channel_posts == ["عاجل: خبر"]
    assert origins[0].chat.id == channel.id and origins[0].message_id == post["message_id"]
    assert memberships == [(group.id, "member")]
    assert migrations == [supergroup.id]


async def test_ptb_parses_every_member_status_and_chat_shape(emulator: BotAPIEmulator) -> None:
    owner, admin, restricted, kicked = (emulator.create_user(n) for n in ("O", "A", "R", "K"))
    channel = emulator.create_channel("قناة", username="qanat", creator=owner)
    group = emulator.create_supergroup("مجموعة", creator=owner, bot_status="administrator", bot_rights={})
    emulator.set_member(channel, admin, "administrator", can_post_messages=True, can_edit_messages=True)
    emulator.set_member(group, restricted, "restricted", can_send_messages=False, until_date=2_000_000_000)
    emulator.set_member(group, kicked, "kicked")
    async with Bot(emulator.token, base_url=emulator.base_url) as bot:
        channel_admin = await bot.get_chat_member(channel.id, admin.id)
        assert isinstance(channel_admin, ChatMemberAdministrator) and channel_admin.can_post_messages
        limited = await bot.get_chat_member(group.id, restricted.id)
        assert isinstance(limited, ChatMemberRestricted) and not limited.can_send_messages
        assert isinstance(await bot.get_chat_member(group.id, kicked.id), ChatMemberBanned)
        assert isinstance(await bot.get_chat_member(group.id, owner.id), ChatMemberOwner)
        bot_member = await bot.get_chat_member(group.id, emulator.bot.id)
        assert isinstance(bot_member, ChatMemberAdministrator) and bot_member.can_manage_chat
        full = await bot.get_chat("@qanat")
        assert (full.id, full.type, full.title, full.username) == (channel.id, "channel", "قناة", "qanat")
        admins = [a.user.id for a in await bot.get_chat_administrators(channel.id)]
        assert admins[0] == owner.id and sorted(admins[1:]) == sorted([admin.id, bot.id])
        assert await bot.get_chat_member_count(group.id) == 3  # owner, bot, restricted (still a member)
        assert await bot.set_my_commands([("start", "ابدأ")], scope=BotCommandScopeAllPrivateChats())
        assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())] == [
            "start"
        ]
    assert emulator.commands("all_private_chats") == [{"command": "start", "description": "ابدأ"}]
