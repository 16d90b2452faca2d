"""Webhook mode, as an operator runs it: ``nashra run --webhook-url … --listen …`` behind a proxy.

The emulator plays Telegram: ``setWebhook`` records the URL and secret, and it POSTs each update to the
bot's listener (``webhook_proxy`` stands in for the TLS-terminating proxy). Each update is stored before
the 200, so the same update posted to two replicas is handled once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
import pytest

from bot.webhook import SECRET_HEADER, derived_secret
from tests.bot.processes import ROOT, nashra_env, no_default_feeds
from tests.emulator import BotAPIEmulator

HOOK = "https://bot.example/telegram/hook"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def nashra_run(
    emu: BotAPIEmulator, db_url: str, *args: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "run", "--role", "updates", *args,
        cwd=ROOT, env=nashra_env(emu, db_url), stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()[-2000:]
        assert "Traceback" not in err.decode()


async def _listening(port: int) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                await client.get(f"http://127.0.0.1:{port}/healthz")
                return
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


async def test_webhook_mode_answers_readers_and_refuses_a_wrong_secret(db_url: str) -> None:
    await no_default_feeds(db_url)
    port = free_port()
    async with BotAPIEmulator() as emu:
        emu.webhook_proxy = f"http://127.0.0.1:{port}"
        async with nashra_run(emu, db_url, "--webhook-url", HOOK, "--listen", f"127.0.0.1:{port}"):
            await _listening(port)
            await emu.wait_for_async(lambda: emu.webhook_url == HOOK, 20, "setWebhook")
            assert emu.webhook_secret == derived_secret(emu.token)
            reader = emu.create_user("هند")
            emu.create_private_chat(reader)
            emu.send_command(reader, reader, "start")
            answer = await emu.wait_for_sent_async(reader, timeout=20)
            assert answer.inline_keyboard  # the topic picker: the handlers ran
            assert emu.counters["webhook_deliveries"] >= 1

            async with httpx.AsyncClient() as client:
                url = f"http://127.0.0.1:{port}/telegram/hook"
                forged = await client.post(url, json={"update_id": 1}, headers={SECRET_HEADER: "guess"})
                assert forged.status_code == 403
                missing = await client.post(url, json={"update_id": 1})
                assert missing.status_code == 403
                garbage = await client.post(
                    url, content=b"{not json", headers={SECRET_HEADER: emu.webhook_secret}
                )
                assert garbage.status_code == 400
            assert len(emu.sent(reader)) == 1

        # Back to polling: the webhook is deleted and getUpdates works again.
        async with nashra_run(emu, db_url):
            await emu.wait_for_async(lambda: emu.webhook_url == "", 20, "deleteWebhook")
            emu.send_command(reader, reader, "help")
            await emu.wait_for_sent_async(reader, count=2, timeout=20)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_the_same_update_posted_to_two_replicas_is_handled_once(db_url: str) -> None:
    await no_default_feeds(db_url)
    ports = [free_port(), free_port()]
    async with BotAPIEmulator() as emu:
        emu.webhook_proxy = f"http://127.0.0.1:{ports[0]}"
        reader = emu.create_user("سامي")
        emu.create_private_chat(reader)
        async with (
            nashra_run(emu, db_url, "--webhook-url", HOOK, "--listen", f"127.0.0.1:{ports[0]}"),
            nashra_run(emu, db_url, "--webhook-url", HOOK, "--listen", f"127.0.0.1:{ports[1]}"),
        ):
            for port in ports:
                await _listening(port)
            await emu.wait_for_async(lambda: emu.webhook_url == HOOK, 20, "setWebhook")
            emu.webhook_url = ""  # Telegram's own deliveries off: this test posts as Telegram would
            update = {
                "update_id": 900_000_001,
                "message": {
                    "message_id": 1,
                    "date": int(datetime.now(UTC).timestamp()),
                    "chat": {"id": reader.id, "type": "private", "first_name": reader.first_name},
                    "from": {"id": reader.id, "is_bot": False, "first_name": reader.first_name},
                    "text": "/help",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
                },
            }
            headers = {SECRET_HEADER: derived_secret(emu.token)}
            async with httpx.AsyncClient() as client:
                answers = await asyncio.gather(
                    *(
                        client.post(f"http://127.0.0.1:{p}/telegram/hook", json=update, headers=headers)
                        for p in ports
                    )
                )
            assert [a.status_code for a in answers] == [200, 200]
            await emu.wait_for_sent_async(reader, timeout=20)
            await asyncio.sleep(2.0)  # time enough for a second answer, were there one
            assert len(emu.sent(reader)) == 1
