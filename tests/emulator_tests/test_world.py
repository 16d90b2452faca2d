"""The Python control API: building the world, playing users, waiting without sleeping."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tests.emulator import BotAPIEmulator


def test_misuse_fails_loudly(emulator: BotAPIEmulator) -> None:
    user = emulator.create_user()
    chat = emulator.create_private_chat(user)
    with pytest.raises(LookupError, match="no chat"):
        emulator.send_text(-42, user, "x")
    with pytest.raises(LookupError, match="no message"):
        emulator.press_button(chat, user, 1, data="x")
    with pytest.raises(ValueError, match="already exists"):
        emulator.create_user(id=user.id)
    with pytest.raises(ValueError, match="unknown member status"):
        emulator.set_member(emulator.create_group(), user, "boss")
    with pytest.raises(ValueError, match="taken"):
        emulator.create_channel(username="same")
        emulator.create_channel(username="SAME")


def test_buttons_must_exist_unless_forced(emulator: BotAPIEmulator) -> None:
    user = emulator.create_user()
    chat = emulator.create_private_chat(user)
    markup = {
        "inline_keyboard": [
            [{"text": "نعم", "callback_data": "yes"}, {"text": "موقع", "url": "https://x.org"}]
        ]
    }
    status, body = emulator.process("sendMessage", {"chat_id": chat.id, "text": "?", "reply_markup": markup})
    assert status == 200
    message_id = body["result"]["message_id"]
    with pytest.raises(ValueError, match="no inline button"):
        emulator.press_button(chat, user, message_id, data="no")
    with pytest.raises(ValueError, match="does not send a callback"):
        emulator.press_button(chat, user, message_id, text="موقع")
    by_text = emulator.press_button(chat, user, message_id, text="نعم")
    stale = emulator.press_button(chat, user, message_id, data="old", force=True)
    queries = [u["callback_query"] for u in emulator.pending_updates()]
    assert [(q["id"], q["data"]) for q in queries] == [(by_text, "yes"), (stale, "old")]
    assert queries[0]["message"]["message_id"] == message_id and queries[0]["chat_instance"]


def test_blocking_and_start_again(emulator: BotAPIEmulator) -> None:
    user = emulator.create_user()
    chat = emulator.create_private_chat(user)
    emulator.block_bot(user)
    emulator.send_text(chat, user, "hidden")
    emulator.send_command(chat, user, "start")
    kinds = [next(k for k in u if k != "update_id") for u in emulator.pending_updates()]
    assert kinds == ["my_chat_member", "my_chat_member", "message"]
    statuses = [u["my_chat_member"]["new_chat_member"]["status"] for u in emulator.pending_updates()[:2]]
    assert statuses == ["kicked", "member"] and not chat.blocked
    status, body = emulator.process("getUpdates", {"offset": -1})  # also callable without HTTP
    assert status == 200 and [u["message"]["text"] for u in body["result"]] == ["/start"]
    assert len(emulator.pending_updates()) == 1  # a negative offset forgets all earlier updates


def test_bot_added_and_removed_sends_membership_and_service_messages(emulator: BotAPIEmulator) -> None:
    admin = emulator.create_user("A")
    group = emulator.create_group(creator=admin, bot_status="left")
    emulator.add_bot(group, by=admin)
    emulator.remove_bot(group, by=admin)
    updates = emulator.pending_updates()
    assert [next(k for k in u if k != "update_id") for u in updates] == [
        "my_chat_member",
        "message",
        "my_chat_member",
    ]
    assert updates[1]["message"]["new_chat_members"][0]["id"] == emulator.bot.id
    assert updates[2]["my_chat_member"]["new_chat_member"] == {
        "user": emulator.bot.to_dict(), "status": "kicked", "until_date": 0
    }  # fmt: skip


def test_sync_wait_for_wakes_on_change_and_times_out(emulator: BotAPIEmulator) -> None:
    user = emulator.create_user()
    chat = emulator.create_private_chat(user)
    threading.Timer(0.1, emulator.process, args=("sendMessage", {"chat_id": chat.id, "text": "late"})).start()
    assert emulator.wait_for_sent(chat, contains="late", timeout=5).text == "late"
    assert emulator.wait_for_call("sendMessage").ok
    with pytest.raises(TimeoutError, match="2 bot message"):
        emulator.wait_for_sent(chat, count=2, timeout=0.2)


async def test_async_wait_for_does_not_block_the_loop(emulator: BotAPIEmulator) -> None:
    user = emulator.create_user()
    chat = emulator.create_private_chat(user)

    async def later() -> None:
        await asyncio.sleep(0.05)
        emulator.process("sendMessage", {"chat_id": chat.id, "text": "من الحلقة نفسها"})

    task = asyncio.create_task(later())
    sent = await emulator.wait_for_sent_async(chat, timeout=5)
    await task
    assert sent.text == "من الحلقة نفسها"
    with pytest.raises(TimeoutError):
        await emulator.wait_for_async(lambda: False, timeout=0.1)
