"""Fixtures for the emulator's own tests: a running emulator and a real PTB Application polling it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from telegram.ext import Application, BaseHandler

from tests.emulator import BotAPIEmulator


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns (an error under our filterwarnings) when reading RetryAfter.retry_after as an int;
    opting into timedelta values is what the project's own code should do as well."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
def emulator() -> Iterator[BotAPIEmulator]:
    with BotAPIEmulator() as emu:
        yield emu


@asynccontextmanager
async def running_bot_at(
    root: str, token: str, *handlers: BaseHandler[Any, Any, Any]
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """A real python-telegram-bot Application polling the emulator at ``root`` through its own httpx."""
    app = Application.builder().token(token).base_url(f"{root}/bot").base_file_url(f"{root}/file/bot").build()
    for handler in handlers:
        app.add_handler(handler)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def running_bot(emu: BotAPIEmulator, *handlers: BaseHandler[Any, Any, Any]) -> Any:
    """``running_bot_at`` for an in-process emulator."""
    return running_bot_at(emu.url, emu.token, *handlers)
