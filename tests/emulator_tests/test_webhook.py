"""The emulator delivers updates to a set webhook as Telegram does: secret header, retried until 200."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from telegram import Bot

from tests.emulator import BotAPIEmulator


async def test_updates_go_to_the_webhook_with_its_secret_and_are_retried_until_accepted() -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    answers = [500, 200, 200]

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(status=answers[min(len(received), len(answers)) - 1])

    app = web.Application()
    app.router.add_post("/tg/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with BotAPIEmulator() as emu:
            emu.webhook_proxy = f"http://127.0.0.1:{port}"
            async with Bot(emu.token, base_url=emu.base_url) as bot:
                assert await bot.set_webhook("https://bot.example/tg/hook", secret_token="s3cret")
                user = emu.create_user("ليلى")
                emu.create_private_chat(user)
                emu.send_command(user, user, "start")
                emu.send_command(user, user, "help")
                await emu.wait_for_async(lambda: not emu.updates, 5, "both updates delivered")
                assert (await bot.get_webhook_info()).pending_update_count == 0
                assert await bot.delete_webhook()
            assert emu.webhook_url == ""
    finally:
        await runner.cleanup()
    secrets = {secret for secret, _ in received}
    assert secrets == {"s3cret"}
    texts = [body["message"]["text"] for _, body in received]
    assert texts == ["/start", "/start", "/help"]  # the refused first delivery came again
    assert emu.counters["webhook_failures"] == 1 and emu.counters["webhook_deliveries"] == 2
