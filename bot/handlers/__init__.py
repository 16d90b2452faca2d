"""Telegram handlers, one module per command family."""

from __future__ import annotations

from telegram.ext import Application, ContextTypes

from bot.settings import Settings


def register(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """Add every handler to ``application``."""


async def on_startup(application: Application) -> None:  # type: ignore[type-arg]
    """Run once the bot is connected (e.g. register command descriptions)."""


async def reply_internal_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the user something went wrong, without details."""
