"""The chat a user configures from their private chat, as stored (``user_targets``), on both backends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from jobs import subscriptions as subs
from storage import chats as chat_store
from storage.db import Database

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
USER = 5001


async def _channel(db: Database, telegram_id: int) -> None:
    async with db.session() as s, s.begin():
        await chat_store.create_chat(
            s, telegram_id, type="channel", delivery_minute=420, timezone="Asia/Riyadh", topics=(), now=NOW
        )


async def test_choose_switch_clear_and_unknown_chats(db: Database) -> None:
    await _channel(db, -1001)
    await _channel(db, -1002)
    assert await subs.chosen_target(db, USER) is None
    await subs.choose_target(db, USER, -1001, NOW)
    assert await subs.chosen_target(db, USER) == -1001
    await subs.choose_target(db, USER, -1002, NOW)
    assert await subs.chosen_target(db, USER) == -1002
    await subs.choose_target(db, USER, None, NOW)
    assert await subs.chosen_target(db, USER) is None
    await subs.choose_target(db, USER, -1001, NOW)
    await subs.choose_target(db, USER, -999, NOW)  # a chat never registered: back to the user's own
    assert await subs.chosen_target(db, USER) is None


async def test_concurrent_choices_do_not_collide(db: Database) -> None:
    await _channel(db, -1001)
    await _channel(db, -1002)
    for _ in range(5):
        await asyncio.gather(*(subs.choose_target(db, USER, c, NOW) for c in (-1001, -1002, -1001, -1002)))
        assert await subs.chosen_target(db, USER) in (-1001, -1002)


async def test_a_deleted_chat_takes_the_choice_with_it(db: Database) -> None:
    await _channel(db, -1001)
    await _channel(db, -1002)
    await subs.choose_target(db, USER, -1001, NOW)
    async with db.session() as s, s.begin():
        assert not await chat_store.migrate_chat(s, -1001, -1002)  # the old row is dropped
    assert await subs.chosen_target(db, USER) is None
