"""The Bot API over plain HTTP: shapes, encodings, errors, access rules, updates, faults and limits."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.emulator import BotAPIEmulator, RateLimits


@pytest.fixture
def http(emulator: BotAPIEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{emulator.base_url}{emulator.token}", timeout=10) as client:
        yield client


def call(http: httpx.Client, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    response = http.post(f"/{method}", json=params)
    return response.status_code, response.json()


def ok(http: httpx.Client, method: str, **params: Any) -> Any:
    status, body = call(http, method, **params)
    assert (status, body["ok"]) == (200, True), body
    return body["result"]


def error(http: httpx.Client, method: str, **params: Any) -> tuple[int, str, dict[str, Any] | None]:
    status, body = call(http, method, **params)
    assert body["ok"] is False and body["error_code"] == status
    return status, body["description"], body.get("parameters")


def test_wrong_token_unknown_method_and_method_case(emulator: BotAPIEmulator, http: httpx.Client) -> None:
    wrong = httpx.post(f"{emulator.base_url}1:wrong/getMe")
    assert (wrong.status_code, wrong.json()) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert call(http, "fooBar") == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    me = ok(http, "GETME")
    assert me == {
        "id": 123456789, "is_bot": True, "first_name": "Nashra", "username": "NashraTestBot",
        "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False,
        "can_connect_to_business": False, "has_main_web_app": False,
    }  # fmt: skip
    assert httpx.get(f"{emulator.url}/file/bot{emulator.token}/photos/x.jpg").status_code == 404


def test_params_as_json_form_multipart_and_query(emulator: BotAPIEmulator, http: httpx.Client) -> None:
    user = emulator.create_user("Amal")
    emulator.create_private_chat(user)
    markup = {"inline_keyboard": [[{"text": "زر", "callback_data": "d"}]]}
    as_form = http.post(
        "/sendMessage", data={"chat_id": str(user.id), "text": "نموذج", "reply_markup": json.dumps(markup)}
    )
    as_multipart = http.post(
        "/sendMessage", data={"chat_id": str(user.id), "text": "ملف"}, files={"doc": ("a.txt", b"abc")}
    )
    as_query = http.get("/sendMessage", params={"chat_id": user.id, "text": "استعلام"})
    as_json = http.post("/sendMessage", json={"chat_id": user.id, "text": "جيسون", "reply_markup": markup})
    results = [r.json()["result"] for r in (as_form, as_multipart, as_query, as_json)]
    assert [r["text"] for r in results] == ["نموذج", "ملف", "استعلام", "جيسون"]
    assert results[0]["reply_markup"] == markup == results[3]["reply_markup"]
    assert [m.message_id for m in emulator.sent(user)] == [1, 2, 3, 4]
    assert isinstance(results[0]["date"], int) and abs(results[0]["date"] - time.time()) < 5


def test_send_message_validation(emulator: BotAPIEmulator, http: httpx.Client) -> None:
    user = emulator.create_user()
    emulator.create_private_chat(user)
    assert error(http, "sendMessage", chat_id=user.id, text="") == (
        400,
        "Bad Request: message text is empty",
        None,
    )
    assert error(http, "sendMessage", chat_id=user.id, text="<b> </b>", parse_mode="HTML")[1] == (
        "Bad Request: message text is empty"
    )
    assert error(http, "sendMessage", text="x")[1] == "Bad Request: chat_id is empty"
    assert error(http, "sendMessage", chat_id=42, text="x")[1] == "Bad Request: chat not found"
    assert error(http, "sendMessage", chat_id=user.id, text="<p>x</p>", parse_mode="HTML")[1] == (
        'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 0'
    )
    bad_button = {"inline_keyboard": [[{"text": "x", "callback_data": "d" * 65}]]}
    assert error(http, "sendMessage", chat_id=user.id, text="x", reply_markup=bad_button)[1] == (
        "Bad Request: BUTTON_DATA_INVALID"
    )
    plain_button = {"inline_keyboard": [[{"text": "x"}]]}
    assert error(http, "sendMessage", chat_id=user.id, text="x", reply_markup=plain_button)[1] == (
        "Bad Request: text buttons are unallowed in the inline keyboard"
    )
    assert emulator.sent(user) == []


def test_message_shape_entities_and_preview_options(emulator: BotAPIEmulator, http: httpx.Client) -> None:
    user = emulator.create_user()
    emulator.create_private_chat(user)
    result = ok(
        http, "sendMessage", chat_id=user.id, text="<b>عاجل</b>: https://example.com", parse_mode="HTML",
        link_preview_options={"is_disabled": True},
    )  # fmt: skip
    assert result["entities"] == [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "url", "offset": 6, "length": 19},
    ]
    assert result["link_preview_options"] == {"is_disabled": True}
    assert result["from"]["id"] == emulator.bot.id and result["chat"] == {
        "id": user.id,
        "type": "private",
        "first_name": "Test",
    }
    sent = emulator.last_sent(user)
    assert sent is not None
    assert (sent.parse_mode, sent.source_text) == ("HTML", "<b>عاجل</b>: https://example.com")
    legacy = ok(http, "sendMessage", chat_id=user.id, text="x", disable_web_page_preview=True)
    assert legacy["link_preview_options"] == {"is_disabled": True}
    assert emulator.last_sent(user).disable_web_page_preview is True  # type: ignore[union-attr]


def test_edit_delete_and_not_modified(emulator: BotAPIEmulator, http: httpx.Client) -> None:
    user = emulator.create_user()
    emulator.create_private_chat(user)
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]}
    sent = ok(http, "sendMessage", chat_id=user.id, text="<b>x</b>", parse_mode="HTML", reply_markup=markup)
    mid = sent["message_id"]
    not_modified = (
        "Bad Request: message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message"
    )
    same = {
        "chat_id": user.id,
        "message_id": mid,
        "text": "<b>x</b>",
        "parse_mode": "HTML",
        "reply_markup": markup,
    }
    assert error(http, "editMessageText", **same)[1] == not_modified
    assert error(http, "editMessageReplyMarkup", chat_id=user.id, message_id=mid, reply_markup=markup)[1] == (
        not_modified
    )
    edited = ok(http, "editMessageText", chat_id=user.id, message_id=mid, text="y")  # drops the keyboard
    assert edited["text"] == "y" and "reply_markup" not in edited and isinstance(edited["edit_date"], int)
    again = ok(http, "editMessageReplyMarkup", chat_id=user.id, message_id=mid, reply_markup=markup)
    assert again["reply_markup"] == markup
    record = emulator.sent(user)[0]
    assert [h["text"] for h in record.history] == ["x", "y"] and record.text == "y"
    assert error(http, "editMessageText", chat_id=user.id, message_id=99, text="z")[1] == (
        "Bad Request: message to edit not found"
    )
    assert ok(http, "deleteMessage", chat_id=user.id, message_id=mid) is True
    assert (
        error(http, "deleteMessage", chat_id=user.id, message_id=mid)[1]
        == "Bad Request: message to delete not found"
    )
    assert emulator.sent(user) == [] and emulator.sent(user, include_deleted=True)[0].deleted


def test_access_rules(emulator: BotAPIEmulator, http: httpx.Client) -> None:
    blocked, stranger = emulator.create_user("B"), emulator.create_user("S")
    emulator.create_private_chat(blocked)
    emulator.block_bot(blocked)
    left_group = emulator.create_group("g", bot_status="left")
    kicked_group = emulator.create_supergroup("sg", bot_status="kicked")
    private_channel = emulator.create_channel("c", bot_status="left")
    public_channel = emulator.create_channel("pc", username="news_pc", bot_status="left")
    member_channel = emulator.create_channel("mc", bot_status="administrator", bot_rights={})
    cases = {
        blocked.id: (403, "Forbidden: bot was blocked by the user"),
        stranger.id: (403, "Forbidden: bot can't initiate conversation with a user"),
        left_group.id: (403, "Forbidden: bot is not a member of the group chat"),
        kicked_group.id: (403, "Forbidden: bot was kicked from the supergroup chat"),
        private_channel.id: (400, "Bad Request: chat not found"),
        "@news_pc": (403, "Forbidden: bot is not a member of the channel chat"),
        member_channel.id: (400, "Bad Request: need administrator rights in the channel chat"),
    }
    for chat_id, expected in cases.items():
        assert error(http, "sendMessage", chat_id=chat_id, text="x")[:2] == expected, chat_id
    assert public_channel.username == "news_pc"
    assert ok(http, "getChat", chat_id=blocked.id)["type"] == "private"  # reading works when blocked


def test_channel_posts_have_sender_chat(emulator: BotAPIEmulator, http: httpx.Client) -> None:
    channel = emulator.create_channel("أخبار", username="akhbar")
    post = ok(http, "sendMessage", chat_id="@akhbar", text="خبر")
    assert "from" not in post and post["sender_chat"]["id"] == channel.id == post["chat"]["id"]


def test_chat_member_queries(emulator: BotAPIEmulator, http: httpx.Client) -> None:
    owner, admin, member = (emulator.create_user(n) for n in ("O", "A", "M"))
    group = emulator.create_supergroup("sg", members=[member], creator=owner)
    emulator.set_member(group, admin, "administrator", can_change_info=True, custom_title="محرر")
    got = ok(http, "getChatMember", chat_id=group.id, user_id=admin.id)
    assert (
        got["status"] == "administrator"
        and got["can_change_info"] is True
        and got["can_delete_messages"] is False
    )
    assert got["custom_title"] == "محرر" and got["can_manage_chat"] is True
    assert ok(http, "getChatMember", chat_id=group.id, user_id=owner.id)["status"] == "creator"
    outsider = emulator.create_user("X")
    assert ok(http, "getChatMember", chat_id=group.id, user_id=outsider.id)["status"] == "left"
    admins = ok(http, "getChatAdministrators", chat_id=group.id)
    assert [a["user"]["id"] for a in admins] == [owner.id, admin.id]
    assert ok(http, "getChatMemberCount", chat_id=group.id) == 4  # owner, admin, member, bot
    full = ok(http, "getChat", chat_id=group.id)
    assert full["type"] == "supergroup" and full["title"] == "sg" and "accent_color_id" in full
    assert ok(http, "sendChatAction", chat_id=group.id, action="typing") is True
    assert emulator.chat_actions[-1]["action"] == "typing"
    assert error(http, "sendChatAction", chat_id=group.id, action="dancing")[1] == (
        "Bad Request: wrong parameter action in request"
    )
    assert ok(http, "leaveChat", chat_id=group.id) is True
    update = emulator.pending_updates()[-1]["my_chat_member"]
    assert update["new_chat_member"]["status"] == "left" and update["from"]["id"] == emulator.bot.id
    assert (
        error(http, "getChat", chat_id=group.id)[1] == "Forbidden: bot is not a member of the supergroup chat"
    )


def test_commands_are_stored_per_scope_and_language(emulator: BotAPIEmulator, http: httpx.Client) -> None:
    group = emulator.create_group()
    ar = [{"command": "start", "description": "ابدأ"}]
    admins = [{"command": "settings", "description": "الإعدادات"}]
    assert ok(http, "setMyCommands", commands=ar, language_code="ar")
    assert ok(
        http, "setMyCommands", commands=admins, scope={"type": "chat_administrators", "chat_id": group.id}
    )
    assert emulator.commands(language_code="ar") == ar and emulator.commands() == []
    assert emulator.commands({"type": "chat_administrators", "chat_id": group.id}) == admins
    assert ok(http, "getMyCommands", language_code="ar") == ar
    assert ok(http, "deleteMyCommands", language_code="ar") and emulator.commands(language_code="ar") == []
    bad = [{"command": "Start", "description": "x"}]
    assert error(http, "setMyCommands", commands=bad)[1] == "Bad Request: BOT_COMMAND_INVALID"


def test_get_updates_offset_limit_and_allowed_updates(emulator: BotAPIEmulator, http: httpx.Client) -> None:
    user = emulator.create_user()
    chat = emulator.create_private_chat(user)
    for n in range(3):
        emulator.send_text(chat, user, f"m{n}")
    first = ok(http, "getUpdates", limit=2)
    assert [u["message"]["text"] for u in first] == ["m0", "m1"]
    rest = ok(http, "getUpdates", offset=first[-1]["update_id"] + 1)
    assert [u["message"]["text"] for u in rest] == ["m2"]
    assert len(emulator.pending_updates()) == 1  # m0 and m1 confirmed
    assert ok(http, "getUpdates", offset=rest[-1]["update_id"] + 1, allowed_updates=["callback_query"]) == []
    emulator.send_text(chat, user, "lost")  # not allowed any more: dropped as Telegram does
    assert emulator.pending_updates() == [] and emulator.counters["updates_filtered"] == 1


def test_long_poll_wakes_on_update_and_times_out(emulator: BotAPIEmulator, http: httpx.Client) -> None:
    user = emulator.create_user()
    chat = emulator.create_private_chat(user)
    started = time.monotonic()
    assert ok(http, "getUpdates", timeout=0.3) == []
    assert 0.25 < time.monotonic() - started < 2
    threading.Timer(0.2, emulator.send_command, args=(chat, user, "start")).start()
    started = time.monotonic()
    updates = ok(http, "getUpdates", timeout=5)
    assert time.monotonic() - started < 2
    assert updates[0]["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]


def test_second_poller_terminates_the_first(emulator: BotAPIEmulator) -> None:
    url = f"{emulator.base_url}{emulator.token}/getUpdates"
    results: list[httpx.Response] = []
    first = threading.Thread(target=lambda: results.append(httpx.post(url, json={"timeout": 5}, timeout=10)))
    first.start()
    emulator.wait_until_polling()
    assert httpx.post(url, json={"timeout": 0}).json()["ok"] is True
    first.join(5)
    assert results[0].status_code == 409
    assert results[0].json()["description"].startswith("Conflict: terminated by other getUpdates request")


def test_webhook_blocks_polling(emulator: BotAPIEmulator, http: httpx.Client) -> None:
    assert ok(http, "setWebhook", url="https://example.com/hook")
    assert error(http, "getUpdates")[0] == 409
    assert ok(http, "deleteWebhook") and ok(http, "getUpdates") == []
    assert ok(http, "getWebhookInfo")["url"] == ""


def test_scripted_faults(emulator: BotAPIEmulator, http: httpx.Client) -> None:
    user, other = emulator.create_user(), emulator.create_user()
    emulator.create_private_chat(user)
    emulator.create_private_chat(other)
    emulator.fail_with_retry_after("sendMessage", 7, times=2, chat_id=user.id)
    emulator.fail_with_migration("SENDMESSAGE", -100123, chat_id=other.id)
    assert ok(http, "getMe")  # other methods are untouched
    assert error(http, "sendMessage", chat_id=user.id, text="x") == (
        429, "Too Many Requests: retry after 7", {"retry_after": 7}
    )  # fmt: skip
    assert error(http, "sendMessage", chat_id=other.id, text="x")[2] == {"migrate_to_chat_id": -100123}
    assert error(http, "sendMessage", chat_id=user.id, text="x")[0] == 429
    assert ok(http, "sendMessage", chat_id=user.id, text="x")["text"] == "x"
    emulator.fail_with_server_error("*")
    assert error(http, "getMe")[0] == 500
    emulator.drop_connection("sendMessage", apply=True)
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/sendMessage", json={"chat_id": user.id, "text": "lost reply"})
    assert emulator.last_sent(user).text == "lost reply"  # type: ignore[union-attr]
    emulator.stall("getMe", 5)
    with pytest.raises(httpx.ReadTimeout):
        http.post("/getMe", timeout=0.3)
    assert ok(http, "getMe")["is_bot"] is True
    assert emulator.counters["faults_fired"] == 6 and emulator.faults.pending == []
    assert emulator.counters["connections_dropped"] == 2


def test_rate_limiter_answers_429_and_counts(emulator: BotAPIEmulator, http: httpx.Client) -> None:
    user = emulator.create_user()
    emulator.create_private_chat(user)
    group = emulator.create_group()
    now = [1000.0]
    emulator.enable_rate_limits(RateLimits(group_per_minute=3), clock=lambda: now[0])
    assert ok(http, "sendMessage", chat_id=user.id, text="1")
    assert error(http, "sendMessage", chat_id=user.id, text="2") == (
        429, "Too Many Requests: retry after 1", {"retry_after": 1}
    )  # fmt: skip
    for n in range(3):
        assert ok(http, "sendMessage", chat_id=group.id, text=str(n))
    now[0] += 20
    assert error(http, "sendMessage", chat_id=group.id, text="4")[2] == {"retry_after": 40}
    assert emulator.rate_limit_hits == 2 and emulator.counters["errors.429"] == 2
    now[0] += 40
    assert ok(http, "sendMessage", chat_id=group.id, text="5")
    assert ok(http, "getMe")  # not a send: never limited
    assert emulator.rate_limit_hits == 2


def test_rate_limits_scale_with_speedup(emulator: BotAPIEmulator, http: httpx.Client) -> None:
    group = emulator.create_group()
    now = [0.0]
    limits = RateLimits(group_per_minute=2, speedup=10, integer_retry_after=False)
    emulator.enable_rate_limits(limits, clock=lambda: now[0])
    ok(http, "sendMessage", chat_id=group.id, text="1")
    ok(http, "sendMessage", chat_id=group.id, text="2")
    assert error(http, "sendMessage", chat_id=group.id, text="3")[2] == {"retry_after": 6}
    now[0] += 5.5
    assert error(http, "sendMessage", chat_id=group.id, text="3")[2] == {"retry_after": 0.5}
    now[0] += 0.5
    assert ok(http, "sendMessage", chat_id=group.id, text="3")


def test_call_log_and_counters(emulator: BotAPIEmulator, http: httpx.Client) -> None:
    ok(http, "getMe")
    error(http, "sendMessage", chat_id=1, text="x")
    calls = emulator.calls
    assert [(c.method, c.ok, c.error_code) for c in calls] == [
        ("getMe", True, None),
        ("sendMessage", False, 400),
    ]
    assert emulator.calls_to("sendmessage")[0].params == {"chat_id": 1, "text": "x"}
    assert emulator.counters["calls.getMe"] == 1 and emulator.counters["errors.400"] == 1
