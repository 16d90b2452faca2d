"""A crash loses no reader's command: ``nashra run`` is SIGKILLed 0.3 s after 100 readers wrote, and
restarted; every reader is answered.

The bot runs as its own process (``python -m bot.cli run``), exactly as an operator starts it; the
emulator keeps every update until a later ``getUpdates`` offset confirms it, as Telegram does, and
enforces Telegram's flood limits. On PostgreSQL the restarted process takes the dead one's claims when
their lease (3 s here) runs out; on SQLite, the lone process's restart takes them at once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from storage.db import Database
from tests.bot.processes import ROOT, nashra_env, no_default_feeds
from tests.conftest import count_rows
from tests.emulator import BotAPIEmulator, RateLimits

READERS = 100


@pytest.fixture
async def flood_limited() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator(rate_limits=RateLimits()) as emu:
        yield emu


async def _start_bot(emu: BotAPIEmulator, db_url: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "run",
        cwd=ROOT, env=nashra_env(emu, db_url), stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_sigkill_right_after_readers_wrote_loses_no_command(
    flood_limited: BotAPIEmulator, db_url: str
) -> None:
    emu = flood_limited
    await no_default_feeds(db_url)
    first = await _start_bot(emu, db_url)
    try:
        await emu.wait_until_polling_async(timeout=30)
        readers = emu.create_users(READERS)
        for user in readers:
            emu.send_command(user, user, "start")
        await asyncio.sleep(0.3)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    answered_at_kill = sum(1 for u in readers if emu.sent(u))
    assert answered_at_kill < READERS  # the kill interrupted the burst

    db = Database(db_url)
    try:
        stored_at_kill = await count_rows(db, "updates")
    finally:
        await db.dispose()

    second = await _start_bot(emu, db_url)
    try:
        await emu.wait_for_async(
            lambda: all(emu.sent(u) for u in readers), 45, "every reader answered after the restart"
        )
        await emu.wait_until_idle_async(timeout=10)
    finally:
        second.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(second.communicate(), 30)
    assert second.returncode == 0, err.decode()[-2000:]
    assert "Traceback" not in err.decode()

    # Every answer is a /start reply; a reader whose reply was in flight at the kill may have two.
    assert all(1 <= len(emu.sent(u)) <= 2 for u in readers)
    assert stored_at_kill > 0  # the updates were in the database before Telegram was told
    db = Database(db_url)
    try:
        async with db.session() as s:
            open_left = (await s.execute(text("SELECT COUNT(*) FROM updates WHERE done_at IS NULL"))).scalar()
            total = (await s.execute(text("SELECT COUNT(*) FROM updates"))).scalar()
    finally:
        await db.dispose()
    assert open_left == 0
    assert total == READERS
