"""Webhook mode: Telegram POSTs each update; it is stored before the 200 goes back.

The request handler only checks and stores: the update goes into the same ``updates`` table that polling
fills (``update_id`` is the key), and the inbox loop (``bot.inbox``) handles it from there. So

* an update Telegram delivers twice, or to two replicas behind a load balancer, is stored once and
  handled once (the inbox claims each stored update for one process);
* a replica that dies after answering 200 loses nothing: the update is in the database, and another
  replica's inbox takes it when the dead one's lease runs out;
* a database that does not answer gets a 500, so Telegram delivers the update again later.

A request without the right ``X-Telegram-Bot-Api-Secret-Token`` gets 403 and is not read. The secret is
``WEBHOOK_SECRET`` or, when unset, derived from the bot token, so every replica of one bot agrees on it
without another setting to share.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Sequence

from aiohttp import web
from telegram import Bot, Update

from jobs.updates import store_updates
from storage.db import Database

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def derived_secret(token: str) -> str:
    """A webhook secret every replica of the bot computes alike (Telegram allows ``[A-Za-z0-9_-]{1,256}``)."""
    return hashlib.sha256(f"nashra-webhook:{token}".encode()).hexdigest()[:48]


class WebhookReceiver:
    """The update route: check the secret, store the update, answer."""

    def __init__(self, db: Database, bot: Bot, secret: str, *, stored: Callable[[], None]) -> None:
        self.db = db
        self.bot = bot
        self.secret = secret
        self.stored = stored
        self.received = 0

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return web.Response(status=403, text="wrong secret token")
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, self.bot) if isinstance(data, dict) else None
        except (ValueError, TypeError, KeyError):
            update = None
        if update is None:
            return web.Response(status=400, text="not a Telegram update")
        try:
            new = await store_updates(self.db, [update])
        except Exception:
            log.exception("webhook: could not store update %d; Telegram will send it again", update.update_id)
            return web.Response(status=500, text="try again")
        self.received += len(new)
        if new:
            self.stored()
        return web.Response(status=200)

    async def register(self, url: str, *, allowed_updates: Sequence[str] | None) -> None:
        """Point Telegram at ``url`` with this secret (idempotent: every replica may call it at start)."""
        await self.bot.set_webhook(
            url=url,
            secret_token=self.secret,
            allowed_updates=list(allowed_updates) if allowed_updates is not None else None,
        )
        log.info("webhook set: Telegram delivers updates to %s", url)
