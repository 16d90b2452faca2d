"""sendPhoto in the emulator: multipart PNG uploads through PTB, stored for inspection, flood-limited."""

from __future__ import annotations

import struct
import zlib

import pytest
from telegram import Bot
from telegram.error import BadRequest, RetryAfter

from tests.emulator import BotAPIEmulator, RateLimits


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    """A valid PNG (white pixels) written by hand: the emulator reads its signature and IHDR."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def test_a_png_upload_arrives_with_its_caption_and_size(emulator: BotAPIEmulator) -> None:
    user = emulator.create_user("ريم")
    emulator.create_private_chat(user)
    async with Bot(emulator.token, base_url=emulator.base_url) as bot:
        message = await bot.send_photo(user.id, tiny_png(5, 4), caption="<b>مخطط</b>", parse_mode="HTML")
        assert message.photo and message.photo[-1].width == 5 and message.caption == "مخطط"
        with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
            await bot.send_photo(user.id, b"GIF89a not a png")
        with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
            await bot.send_photo(user.id, "AgACAgQAAxkBAAI")
    sent = emulator.last_sent(user)
    assert sent is not None and sent.photo is not None
    assert bytes.fromhex(sent.photo["head"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert (sent.photo["width"], sent.photo["height"], sent.photo["size"]) == (5, 4, len(tiny_png(5, 4)))
    assert sent.text == "مخطط" and sent.entities[0]["type"] == "bold"
    assert emulator.counters["photos_sent"] == 1


async def test_photos_count_against_the_flood_limits(emulator: BotAPIEmulator) -> None:
    user = emulator.create_user()
    emulator.create_private_chat(user)
    now = [1000.0]
    emulator.enable_rate_limits(RateLimits(), clock=lambda: now[0])
    async with Bot(emulator.token, base_url=emulator.base_url) as bot:
        await bot.send_message(user.id, "نص")
        with pytest.raises(RetryAfter):
            await bot.send_photo(user.id, tiny_png())
        now[0] += 2
        await bot.send_photo(user.id, tiny_png())
    assert emulator.rate_limit_hits == 1
