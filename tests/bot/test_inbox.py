"""Updates handled from the database: a repeat is handled once, late answers are still answers."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from telegram import Update

from bot.app import RECEIVER_KEY, Receiving, budget_of
from bot.handlers import topics as topic_handlers
from jobs.deliver import Deliverer, make_bot
from jobs.updates import store_updates
from storage.schema import StoredUpdate
from tests.bot.conftest import Bot, running_bot
from tests.emulator import BotAPIEmulator
from tests.fixtures.delivery.seed import add_story


async def test_an_update_stored_twice_is_handled_once(bot: Bot) -> None:
    user = bot.emu.create_user("مها")
    chat = bot.emu.create_private_chat(user)
    await bot.say(chat, user, "/help")
    receiving: Receiving = bot.app.bot_data[RECEIVER_KEY]
    await receiving.inbox.settled()
    async with bot.db.session() as s:
        row = (await s.execute(select(StoredUpdate))).scalar_one()
    assert row.done_at is not None and row.chat_id == chat.id

    # The same update again, as Telegram resends one whose confirmation was lost, or a webhook retries.
    again = Update.de_json(json.loads(row.payload), bot.app.bot)
    assert await store_updates(bot.db, [again]) == []
    receiving.inbox.wake()
    await asyncio.sleep(0.3)
    await receiving.inbox.settled()
    assert len(bot.emu.sent(chat)) == 1


async def test_a_button_answered_too_late_still_takes_effect(bot: Bot) -> None:
    user = bot.emu.create_user("سلمى")
    chat = bot.emu.create_private_chat(user)
    welcome = await bot.say(chat, user, "/start")
    bot.emu.callback_answer_window = 0.0  # every answer now comes "too late"
    toggle = f"{topic_handlers.TOGGLE}|{chat.id}|sport|0"
    bot.emu.press_button(chat, user, welcome.message_id, data=toggle)
    await bot.emu.wait_for_async(
        lambda: bot.current(chat, welcome).edit_date is not None, 5, "the picker to be edited"
    )
    buttons = [b for row in bot.current(chat, welcome).inline_keyboard for b in row]
    sport = next(b for b in buttons if b["callback_data"] == toggle[:-1] + "1")  # now: press to follow
    assert sport["text"].startswith("▫️")  # the press took effect and shows in the picker
    # A press whose answer was an alert (a stale, unreadable button) says so in a message instead.
    bot.emu.press_button(chat, user, welcome.message_id, data=f"{topic_handlers.TOGGLE}|x|y", force=True)
    said = await bot.emu.wait_for_sent_async(chat, count=2, timeout=5)
    assert said.text and "عذرًا" not in said.text  # not the internal-error apology
    assert bot.emu.callback_answers == []


async def test_a_digest_asked_for_while_the_bot_was_down_arrives_when_it_is_back(
    emulator: BotAPIEmulator, db_url: str
) -> None:
    user = emulator.create_user("ريم")
    chat = emulator.create_private_chat(user)
    async with running_bot(emulator, db_url) as running:
        await running.say(chat, user, "/start")
        await add_story(running.db, "قمة عربية في الرياض", at=datetime.now(UTC) - timedelta(minutes=5))
    # The bot is down: the reader asks anyway, and Telegram keeps the update.
    emulator.send_command(chat, user, "digest")
    await asyncio.sleep(0.2)
    async with running_bot(emulator, db_url) as running:
        deliverer = Deliverer(
            running.db, make_bot(emulator.token, emulator.base_url), budget=budget_of(running.app)
        )
        stop = asyncio.Event()
        async with deliverer.bot:
            task = asyncio.create_task(deliverer.run(should_stop=stop.is_set, poll=0.2))
            digest = await emulator.wait_for_sent_async(chat, count=2, timeout=10)
            stop.set()
            await asyncio.wait_for(task, 10)
    assert "قمة عربية في الرياض" in digest.text
