"""Command menus are registered at start-up, per audience, in Arabic and English."""

from __future__ import annotations

from bot.handlers import menu
from bot.texts import COMMANDS_AR, COMMANDS_EN
from tests.bot.conftest import Bot


async def test_menus_per_scope_and_language(bot: Bot) -> None:
    private_ar = bot.emu.commands("all_private_chats", "ar")
    assert [c["command"] for c in private_ar] == list(menu.PRIVATE)
    assert private_ar[0]["description"] == COMMANDS_AR["start"]
    private_en = bot.emu.commands("all_private_chats", "")
    assert private_en[0]["description"] == COMMANDS_EN["start"]
    members = [c["command"] for c in bot.emu.commands("all_group_chats", "ar")]
    assert members == list(menu.GROUP_MEMBERS) and "time" not in members
    admins = [c["command"] for c in bot.emu.commands("all_chat_administrators", "ar")]
    assert "time" in admins and "addtopic" in admins and "channel" not in admins
    for scope in ("all_private_chats", "all_group_chats", "all_chat_administrators"):
        listed = {c["command"] for c in bot.emu.commands(scope, "ar")}
        assert "digest" in listed and not listed & {"addfeed", "delfeed", "feeds", "stats"}
