"""``nashra run`` and the emulator as their own processes, for the crash, webhook and worker tests."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from storage import feeds as feed_store
from storage.db import Database
from tests.emulator import BotAPIEmulator

ROOT = Path(__file__).resolve().parents[2]


def nashra_env(emu: BotAPIEmulator, db_url: str, **extra: str) -> dict[str, str]:
    """The environment of a ``python -m bot.cli run`` talking to ``emu``: short leases and polls."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PTB_TIMEDELTA": "1",
        "TELEGRAM_BOT_TOKEN": emu.token,
        "TELEGRAM_API_URL": emu.url,
        "DATABASE_URL": db_url,
        "UPDATE_LEASE_SECONDS": "3",
        "POLL_TIMEOUT_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


async def no_default_feeds(db_url: str) -> None:
    """One feed, so that a first start does not load the bundled outlets (there is no network here)."""
    db = Database(db_url)
    try:
        async with db.session() as s, s.begin():
            await feed_store.add_feed(s, "http://127.0.0.1:9/rss", now=datetime.now(UTC))
    finally:
        await db.dispose()


@asynccontextmanager
async def emulator_process(speedup: float) -> AsyncIterator[tuple[str, str]]:
    """The emulator in its own process with Telegram's flood limits on (``speedup`` times faster), so
    its clock is not slowed by the processes under test; yields (its URL, a bot token)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.emulator", "--port", "0", "--rate-limits", "--speedup", str(speedup),
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().split()
    assert line[:1] == ["EMULATOR_READY"], line
    try:
        yield line[1], line[2]
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
