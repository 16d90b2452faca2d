"""``python -m tests.emulator`` as its own process, driven over the HTTP control API."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import httpx
import pytest
from telegram import Update
from telegram.error import RetryAfter
from telegram.ext import CommandHandler, ContextTypes

from tests.emulator import AsyncRemoteEmulator, EmulatorControlError, RemoteEmulator
from tests.emulator_tests.conftest import running_bot_at

ROOT = Path(__file__).resolve().parents[2]


async def test_standalone_emulator_serves_a_bot_in_another_process() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.emulator", "--port", "0", "--bot-username", "RemoteNashraBot",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 20)
        ready, url, token = line.decode().split()
        assert ready == "EMULATOR_READY" and url.startswith("http://127.0.0.1:")

        async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            assert update.message is not None
            try:
                await update.message.reply_html(f"<b>مرحبا</b> {context.args[0] if context.args else ''}")
            except RetryAfter as exc:
                await update.message.reply_text(f"retry {exc.retry_after}")

        async with (
            AsyncRemoteEmulator(url) as remote,
            running_bot_at(url, token, CommandHandler("start", start)),
        ):
            user = await remote.create_user(first_name="سارة", username="sara")
            chat = await remote.create_private_chat(user=user["id"])
            await remote.send_command(chat=chat["id"], user=user["id"], command="start", args="1")
            sent = await remote.wait_for_sent(chat=chat["id"], timeout=5)
            assert sent["text"] == "مرحبا 1" and sent["entities"] == [
                {"type": "bold", "offset": 0, "length": 5}
            ]

            await remote.fail_with_retry_after(method="sendMessage", seconds=3, chat_id=chat["id"])
            await remote.send_command(chat=chat["id"], user=user["id"], command="start", args="2")
            retried = await remote.wait_for_sent(chat=chat["id"], count=2, timeout=5)
            assert retried["text"] == "retry 0:00:03"

            state = await remote.state()
            assert state["bot"]["username"] == "RemoteNashraBot"
            assert state["counters"]["errors.429"] == 1 and state["faults"] == []
            calls = await remote.calls()
            assert [c["method"] for c in calls if c["method"] == "sendMessage"] == ["sendMessage"] * 3
            with pytest.raises(EmulatorControlError, match="LookupError"):
                await remote.send_text(chat=424242, user=user["id"], text="x")

        assert await asyncio.to_thread(_sync_client_sees_two_messages, url, chat["id"])
    finally:
        process.send_signal(signal.SIGTERM)
        output = await asyncio.wait_for(process.stdout.read(), 10)
        await process.wait()
    assert process.returncode == 0 and b"EMULATOR_STOPPED" in output


def _sync_client_sees_two_messages(url: str, chat_id: int) -> bool:
    """The sync client and plain HTTP work too (from a thread: they block)."""
    with RemoteEmulator(url) as remote:
        sent = remote.sent(chat=chat_id)
    unknown = httpx.post(f"{url}/_control/nonsense")
    return len(sent) == 2 and unknown.status_code == 404
