"""The bot exactly as in production (``build_application``, PTB's HTTP stack, long polling) pointed at the
Bot API emulator on 127.0.0.1, with a real database on every backend.

``Bot`` drives conversations as users would: write a message, wait for the bot's answer; press a button,
wait for the callback answer. Every wait has a timeout, so a missing reply fails the test quickly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr
from telegram.ext import Application

from bot.app import build_application, polling, services_of
from bot.settings import Settings
from storage.db import Database
from tests.emulator import DEFAULT_TOKEN, BotAPIEmulator, Chat, SentMessage, User

OPERATOR_ID = 777_000_001
TIMEOUT = 5.0


@dataclass
class Bot:
    emu: BotAPIEmulator
    app: Application  # type: ignore[type-arg]
    settings: Settings

    @property
    def db(self) -> Database:
        return services_of(self.app).db

    async def say(
        self, chat: Chat, user: User | None, text: str, *, anonymous: bool = False, replies: int = 1
    ) -> SentMessage:
        """``user`` writes ``text`` in ``chat``; returns the bot's (last) reply once ``replies`` arrived."""
        before = len(self.emu.sent(chat))
        self.emu.send_text(chat, user, text, anonymous=anonymous)
        return await self.emu.wait_for_sent_async(chat, count=before + replies, timeout=TIMEOUT)

    async def silent(self, chat: Chat, user: User | None, text: str, *, probe: User) -> None:
        """``text`` gets no answer: a following /help from ``probe`` is the only reply."""
        before = len(self.emu.sent(chat))
        self.emu.send_text(chat, user, text)
        await self.emu.wait_until_idle_async(timeout=TIMEOUT)
        reply = await self.say(chat, probe, f"/help@{self.emu.bot.username}")
        assert len(self.emu.sent(chat)) == before + 1, [m.text for m in self.emu.sent(chat)[before:]]
        assert "/latest" in reply.text

    async def press(self, chat: Chat, user: User, message: SentMessage, data: str) -> dict[str, Any]:
        """``user`` presses the button with ``data`` under ``message``; returns the callback answer."""
        query_id = self.emu.press_button(chat, user, message.message_id, data=data)

        def answered() -> dict[str, Any] | None:
            return next((a for a in self.emu.callback_answers if a["callback_query_id"] == query_id), None)

        answer = await self.emu.wait_for_async(answered, TIMEOUT, "the callback answer")
        await self.emu.wait_until_idle_async(timeout=TIMEOUT)
        return answer

    def current(self, chat: Chat, message: SentMessage) -> SentMessage:
        """``message`` as it is now, after the bot's edits."""
        return next(m for m in self.emu.sent(chat) if m.message_id == message.message_id)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = TIMEOUT) -> None:
    """Poll ``check`` (e.g. a database state a handler writes without replying) until it holds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator() as emu:
        yield emu


def bot_settings(emu: BotAPIEmulator, db_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=SecretStr(DEFAULT_TOKEN),
        telegram_api_url=emu.url,
        database_url=db_url,
        operator_ids=frozenset({OPERATOR_ID}),
        fetch_allow_private_networks=True,
        default_delivery_time="07:00",
        default_timezone="Asia/Riyadh",
        # Conversations, not load: the emulator enforces no limits here, so the bot's are shrunk too
        # (the load tests in test_burst.py keep Telegram's own, with the emulator enforcing them).
        send_speedup=20.0,
        poll_timeout_seconds=1,
    )


@asynccontextmanager
async def running_bot(emulator: BotAPIEmulator, db_url: str) -> AsyncIterator[Bot]:
    """The bot from start to shutdown. ``post_init``/``post_shutdown`` are called as ``run_polling`` would."""
    settings = bot_settings(emulator, db_url)
    async with polling(build_application(settings, migrate=False, run_ticks=False)) as app:
        yield Bot(emulator, app, settings)


@pytest.fixture
async def bot(emulator: BotAPIEmulator, db_url: str) -> AsyncIterator[Bot]:
    """The running bot."""
    async with running_bot(emulator, db_url) as running:
        yield running


@pytest.fixture
def operator(emulator: BotAPIEmulator) -> User:
    return emulator.create_user("Operator", id=OPERATOR_ID, language_code="ar")
