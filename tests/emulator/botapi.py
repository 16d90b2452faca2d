"""The Bot API methods the bot calls, with Telegram's validation, access rules and error texts.

Each handler takes :class:`~tests.emulator.params.Params` and returns the ``result`` value, or raises
:class:`~tests.emulator.errors.ApiError`. Handlers run with the world lock held and never block;
``getUpdates`` long-polling lives in the server because it has to wait. What is *not* here: faults and
flood limits (applied before a handler runs, see :mod:`tests.emulator.faults`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.emulator.entities import finalize, validate_explicit
from tests.emulator.errors import ApiError, bad_request, forbidden, migrated
from tests.emulator.html import EntityParseError, check_link, parse_html, utf16_len
from tests.emulator.models import Chat, Member, SentMessage
from tests.emulator.params import Params
from tests.emulator.world import ALL_UPDATE_TYPES, DEFAULT_UPDATE_TYPES, World

MAX_TEXT_UTF16 = 4096
MAX_CAPTION_UTF16 = 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
Handler = Callable[["BotApi", Params], Any]
METHODS: dict[str, tuple[str, Handler]] = {}  # lower-case name -> (canonical name, handler)

CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
    }
)  # fmt: skip
_BUTTON_ACTIONS = frozenset(
    {
        "url", "callback_data", "web_app", "login_url", "switch_inline_query",
        "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text", "callback_game",
        "pay",
    }
)  # fmt: skip
_SCOPES_WITH_CHAT = frozenset({"chat", "chat_administrators", "chat_member"})
_SCOPES = (
    frozenset({"default", "all_private_chats", "all_group_chats", "all_chat_administrators"})
    | _SCOPES_WITH_CHAT
)
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_KIND = {"group": "group chat", "supergroup": "supergroup chat", "channel": "channel chat"}
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)


def api_method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name.lower()] = (name, handler)
        return handler

    return register


def scope_key(world: World, scope: Any) -> str:
    """A BotCommandScope as a storage key, e.g. ``"default"`` or ``"chat_member:-100123:42"``."""
    if scope is None:
        return "default"
    if not isinstance(scope, dict) or scope.get("type") not in _SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = str(scope["type"])
    if kind not in _SCOPES_WITH_CHAT:
        return kind
    chat = resolve_chat(world, Params(scope).chat_id())
    if kind != "chat_member":
        return f"{kind}:{chat.id}"
    user_id = Params(scope).require_int("user_id", "invalid user_id specified")
    return f"{kind}:{chat.id}:{user_id}"


def resolve_chat(world: World, ref: int | str) -> Chat:
    """The chat behind ``chat_id`` as the bot names it, with Telegram's errors for unknown chats."""
    if isinstance(ref, str):
        chat_id = world.usernames.get(ref.lstrip("@").lower())
        if chat_id is None:
            raise bad_request("chat not found")
        ref = chat_id
    chat = world.chats.get(ref)
    if chat is None:
        user = world.users.get(ref)
        if user is not None and not user.is_bot:
            raise forbidden("bot can't initiate conversation with a user")
        raise bad_request("chat not found")
    return chat


def check_access(world: World, chat: Chat, *, send: bool) -> None:
    """Raise what Telegram answers when the bot may not use (``send``: post in) this chat."""
    if chat.migrated_to is not None:
        raise migrated(chat.migrated_to)
    if chat.type == "private":
        user = world.users[chat.id]
        if user.deactivated:
            raise forbidden("user is deactivated")
        if send and chat.blocked:
            raise forbidden("bot was blocked by the user")
        if send and not chat.started:
            raise forbidden("bot can't initiate conversation with a user")
        return
    member = chat.members.get(world.bot.id, Member(world.bot.id, "left"))
    kind = _KIND[chat.type]
    if member.status == "kicked":
        raise forbidden(f"bot was kicked from the {kind}")
    if not member.is_member:
        if chat.type == "channel" and not chat.username:
            raise bad_request("chat not found")
        raise forbidden(f"bot is not a member of the {kind}")
    if not send:
        return
    if chat.type == "channel" and not member.right("can_post_messages"):
        raise bad_request("need administrator rights in the channel chat")
    if member.status == "restricted" and not member.rights.get("can_send_messages", False):
        raise bad_request("not enough rights to send text messages to the chat")


def _normalize_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """The part of a reply markup Telegram keeps on the message: a non-empty inline keyboard."""
    if markup and markup.get("inline_keyboard"):
        return markup
    return None


class BotApi:
    """Bot API method handlers bound to one :class:`World`."""

    def __init__(self, world: World) -> None:
        self.world = world

    def call(self, method: str, params: Params) -> Any:
        entry = METHODS.get(method.lower())
        if entry is None:
            raise ApiError(404, "Not Found")
        return entry[1](self, params)

    # ---------------------------------------------------------------- shared pieces

    def chat_for(self, params: Params, *, send: bool) -> Chat:
        chat = resolve_chat(self.world, params.chat_id())
        check_access(self.world, chat, send=send)
        return chat

    def format_text(
        self, params: Params, *, field: str = "text", limit: int = MAX_TEXT_UTF16
    ) -> tuple[str, list[dict[str, Any]]]:
        """``text`` + ``parse_mode``/``entities`` → stored text and entities, or Telegram's 400s.

        ``field="caption"`` reads a media caption (its entities come in ``caption_entities``)."""
        raw = params.text(field)
        if not raw:
            raise bad_request("message text is empty")
        entities_field = "entities" if field == "text" else f"{field}_entities"
        given = params.json(entities_field, "can't parse entities JSON object")
        mode = (params.text("parse_mode") or "").strip()
        if given:
            if not isinstance(given, list):
                raise bad_request("can't parse entities JSON object")
            text, entities = raw, validate_explicit(raw, given)
        elif mode.lower() == "html":
            try:
                text, entities = parse_html(raw, self.world.user_dict)
            except EntityParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        elif mode.lower() in ("markdown", "markdownv2"):
            raise bad_request(f"unsupported parse_mode {mode} (the emulator implements HTML only)")
        elif mode:
            raise bad_request("unsupported parse_mode")
        else:
            text, entities = raw, []
        text, entities = finalize(text, entities)
        if not text:
            raise bad_request("message text is empty")
        if utf16_len(text) > limit:
            raise bad_request("message is too long" if field == "text" else "message caption is too long")
        return text, entities

    def reply_markup(self, params: Params) -> dict[str, Any] | None:
        markup = params.json("reply_markup", "can't parse reply keyboard markup JSON object")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        for button in (b for row in rows for b in row):
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request("can't parse inline keyboard button: Text must be a string")
            if not _BUTTON_ACTIONS & button.keys():
                raise bad_request("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and check_link(str(url)) is None:
                raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
        return markup

    def preview_options(self, params: Params) -> tuple[dict[str, Any] | None, bool | None]:
        options = params.json("link_preview_options", "can't parse link preview options JSON object")
        if options is not None and not isinstance(options, dict):
            raise bad_request("can't parse link preview options JSON object")
        return options, params.optional_bool("disable_web_page_preview")

    def message_json(self, chat: Chat, sent: SentMessage) -> dict[str, Any]:
        """The Message object Telegram returns for a bot text message."""
        message: dict[str, Any] = {"message_id": sent.message_id}
        if chat.type == "channel":
            message["sender_chat"] = chat.to_dict()
        else:
            message["from"] = self.world.bot.to_dict()
        message.update(chat=chat.to_dict(), date=sent.date)
        if sent.edit_date is not None:
            message["edit_date"] = sent.edit_date
        if sent.reply_to_message_id is not None and sent.reply_to_message_id in chat.messages:
            replied = chat.messages[sent.reply_to_message_id]
            message["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        if sent.photo is not None:
            size = {k: sent.photo.get(k, 0) for k in ("width", "height")}
            message["photo"] = [
                {
                    "file_id": f"photo-{chat.id}-{sent.message_id}",
                    "file_unique_id": f"p{chat.id}x{sent.message_id}",
                    "file_size": sent.photo["size"],
                    **size,
                }
            ]
            if sent.text:
                message["caption"] = sent.text
            if sent.entities:
                message["caption_entities"] = sent.entities
        else:
            message["text"] = sent.text
            if sent.entities:
                message["entities"] = sent.entities
        if sent.link_preview_options is not None:
            message["link_preview_options"] = sent.link_preview_options
        elif sent.disable_web_page_preview:
            message["link_preview_options"] = {"is_disabled": True}
        markup = _normalize_markup(sent.reply_markup)
        if markup is not None:
            message["reply_markup"] = markup
        return message

    def editable(self, params: Params) -> tuple[Chat, SentMessage]:
        if params.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID (inline messages are not emulated)")
        chat = self.chat_for(params, send=True)
        message_id = params.require_int("message_id", "message identifier is not specified")
        if message_id not in chat.messages:
            raise bad_request("message to edit not found")
        sent = chat.sent.get(message_id)
        if sent is None:
            raise bad_request("message can't be edited")
        return chat, sent

    def store_edit(self, chat: Chat, sent: SentMessage, **changes: Any) -> dict[str, Any]:
        keys = ("text", "entities", "reply_markup", "link_preview_options", "edit_date")
        sent.history.append({key: getattr(sent, key) for key in keys})
        for key, value in changes.items():
            setattr(sent, key, value)
        sent.edit_date = self.world.now()
        sent.message = self.message_json(chat, sent)
        chat.messages[sent.message_id] = sent.message
        self.world.counters["edits"] += 1
        return sent.message

    # ---------------------------------------------------------------- methods

    @api_method("getMe")
    def get_me(self, params: Params) -> dict[str, Any]:
        return {**self.world.bot.to_dict(), **self.world.bot_capabilities}

    @api_method("logOut")
    def log_out(self, params: Params) -> bool:
        return True

    @api_method("close")
    def close(self, params: Params) -> bool:
        return True

    @api_method("getUpdates")
    def get_updates(self, params: Params) -> list[dict[str, Any]]:
        """Without waiting; the HTTP server adds the long poll (``timeout``) on top of this."""
        offset, limit, _ = self.updates_request(params)
        return self.take_updates(offset, limit)

    @api_method("setWebhook")
    def set_webhook(self, params: Params) -> bool:
        url = params.text("url") or ""
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        allowed = params.json("allowed_updates", "can't parse allowed updates JSON object")
        if isinstance(allowed, list):
            chosen = frozenset(str(kind) for kind in allowed) & frozenset(ALL_UPDATE_TYPES)
            self.world.allowed_updates = chosen or DEFAULT_UPDATE_TYPES
        self.world.webhook_url = url
        self.world.webhook_secret = params.text("secret_token")
        self.world.changed(update=True)  # the delivery loop starts on what is queued
        return True

    @api_method("deleteWebhook")
    def delete_webhook(self, params: Params) -> bool:
        self.world.webhook_url = ""
        if params.boolean("drop_pending_updates"):
            self.world.updates.clear()
        return True

    @api_method("getWebhookInfo")
    def get_webhook_info(self, params: Params) -> dict[str, Any]:
        return {
            "url": self.world.webhook_url, "has_custom_certificate": False,
            "pending_update_count": len(self.world.updates),
        }  # fmt: skip

    def _commands_key(self, params: Params) -> tuple[str, str]:
        scope = params.json("scope", "can't parse BotCommandScope JSON object")
        language = params.text("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        return scope_key(self.world, scope), language

    @api_method("setMyCommands")
    def set_my_commands(self, params: Params) -> bool:
        commands = params.json("commands", "can't parse commands JSON object")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        cleaned = []
        for item in commands:
            if not isinstance(item, dict) or not _COMMAND.match(str(item.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            description = str(item.get("description", "")).strip()
            if not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": str(item["command"]), "description": description})
        key = self._commands_key(params)
        if cleaned:
            self.world.commands_store[key] = cleaned
        else:
            self.world.commands_store.pop(key, None)
        return True

    @api_method("getMyCommands")
    def get_my_commands(self, params: Params) -> list[dict[str, str]]:
        return list(self.world.commands_store.get(self._commands_key(params), []))

    @api_method("deleteMyCommands")
    def delete_my_commands(self, params: Params) -> bool:
        self.world.commands_store.pop(self._commands_key(params), None)
        return True

    def _set_bot_text(self, kind: str, params: Params, limit: int) -> bool:
        value = params.text(kind) or ""
        if len(value) > limit:
            raise bad_request(f"{kind} is too long")
        key = (kind, params.text("language_code") or "")
        if value:
            self.world.bot_texts[key] = value
        else:
            self.world.bot_texts.pop(key, None)
        return True

    def _get_bot_text(self, kind: str, params: Params) -> dict[str, str]:
        key = (kind, params.text("language_code") or "")
        return {kind: self.world.bot_texts.get(key, "")}

    @api_method("setMyDescription")
    def set_my_description(self, params: Params) -> bool:
        return self._set_bot_text("description", params, 512)

    @api_method("getMyDescription")
    def get_my_description(self, params: Params) -> dict[str, str]:
        return self._get_bot_text("description", params)

    @api_method("setMyShortDescription")
    def set_my_short_description(self, params: Params) -> bool:
        return self._set_bot_text("short_description", params, 120)

    @api_method("getMyShortDescription")
    def get_my_short_description(self, params: Params) -> dict[str, str]:
        return self._get_bot_text("short_description", params)

    @api_method("setMyName")
    def set_my_name(self, params: Params) -> bool:
        return self._set_bot_text("name", params, 64)

    @api_method("getMyName")
    def get_my_name(self, params: Params) -> dict[str, str]:
        return (
            self._get_bot_text("name", params)
            if params.has("language_code")
            else {"name": self.world.bot.first_name}
        )

    @api_method("sendMessage")
    def send_message(self, params: Params) -> dict[str, Any]:
        chat = self.chat_for(params, send=True)
        text, entities = self.format_text(params)
        markup = self.reply_markup(params)
        preview, no_preview = self.preview_options(params)
        reply = params.json("reply_parameters", "can't parse reply parameters JSON object") or {}
        reply_to = Params(reply).integer("message_id", "message to be replied not found")
        if reply_to is None:
            reply_to = params.integer("reply_to_message_id", "message to be replied not found")
        allow_missing = bool(reply.get("allow_sending_without_reply")) or params.boolean(
            "allow_sending_without_reply"
        )
        if reply_to is not None and reply_to not in chat.messages:
            if not allow_missing:
                raise bad_request("message to be replied not found")
            reply_to = None
        sent = SentMessage(
            chat_id=chat.id, message_id=chat.take_message_id(), date=self.world.now(), text=text,
            entities=entities, source_text=params.text("text") or "", parse_mode=params.text("parse_mode"),
            reply_markup=markup, link_preview_options=preview, disable_web_page_preview=no_preview,
            disable_notification=params.optional_bool("disable_notification"),
            protect_content=params.optional_bool("protect_content"), reply_to_message_id=reply_to,
            message_thread_id=params.integer("message_thread_id", "message thread not found"),
        )  # fmt: skip
        sent.message = self.message_json(chat, sent)
        chat.sent[sent.message_id] = sent
        chat.messages[sent.message_id] = sent.message
        self.world.sent_log.append(sent)
        self.world.counters["messages_sent"] += 1
        return sent.message

    def _reply_to(self, chat: Chat, params: Params) -> int | None:
        reply = params.json("reply_parameters", "can't parse reply parameters JSON object") or {}
        reply_to = Params(reply).integer("message_id", "message to be replied not found")
        if reply_to is not None and reply_to not in chat.messages:
            if not reply.get("allow_sending_without_reply"):
                raise bad_request("message to be replied not found")
            return None
        return reply_to

    @api_method("sendPhoto")
    def send_photo(self, params: Params) -> dict[str, Any]:
        """An uploaded photo (multipart); file ids and URLs of earlier uploads are not emulated."""
        chat = self.chat_for(params, send=True)
        upload = params.raw.get("photo")
        if not isinstance(upload, dict):
            raise bad_request("wrong file identifier/HTTP URL specified (the emulator takes uploads only)")
        if not upload.get("size"):
            raise bad_request("file must be non-empty")
        photo = dict(upload)
        head = bytes.fromhex(str(upload.get("head", "")))
        if head[:8] == PNG_SIGNATURE and head[12:16] == b"IHDR":
            photo["width"] = int.from_bytes(head[16:20], "big")
            photo["height"] = int.from_bytes(head[20:24], "big")
        else:
            raise bad_request("IMAGE_PROCESS_FAILED (the emulator accepts PNG photos only)")
        caption, entities = ("", [])
        if params.text("caption"):
            caption, entities = self.format_text(params, field="caption", limit=MAX_CAPTION_UTF16)
        sent = SentMessage(
            chat_id=chat.id, message_id=chat.take_message_id(), date=self.world.now(), text=caption,
            entities=entities, source_text=params.text("caption") or "", parse_mode=params.text("parse_mode"),
            reply_markup=self.reply_markup(params), photo=photo,
            reply_to_message_id=self._reply_to(chat, params),
            disable_notification=params.optional_bool("disable_notification"),
        )  # fmt: skip
        sent.message = self.message_json(chat, sent)
        chat.sent[sent.message_id] = sent
        chat.messages[sent.message_id] = sent.message
        self.world.sent_log.append(sent)
        self.world.counters["messages_sent"] += 1
        self.world.counters["photos_sent"] += 1
        return sent.message

    @api_method("editMessageText")
    def edit_message_text(self, params: Params) -> dict[str, Any]:
        chat, sent = self.editable(params)
        text, entities = self.format_text(params)
        markup = _normalize_markup(self.reply_markup(params))
        preview, no_preview = self.preview_options(params)
        if no_preview and preview is None:
            preview = {"is_disabled": True}
        same_preview = preview is None or preview == sent.link_preview_options
        if (text, entities, markup) == (
            sent.text,
            sent.entities,
            _normalize_markup(sent.reply_markup),
        ) and same_preview:
            raise bad_request(NOT_MODIFIED)
        changes: dict[str, Any] = {"text": text, "entities": entities, "reply_markup": markup}
        changes["source_text"] = params.text("text") or ""
        changes["parse_mode"] = params.text("parse_mode")
        if preview is not None:
            changes["link_preview_options"] = preview
        return self.store_edit(chat, sent, **changes)

    @api_method("editMessageReplyMarkup")
    def edit_message_reply_markup(self, params: Params) -> dict[str, Any]:
        chat, sent = self.editable(params)
        markup = _normalize_markup(self.reply_markup(params))
        if markup == _normalize_markup(sent.reply_markup):
            raise bad_request(NOT_MODIFIED)
        return self.store_edit(chat, sent, reply_markup=markup)

    @api_method("deleteMessage")
    def delete_message(self, params: Params) -> bool:
        chat = self.chat_for(params, send=False)
        message_id = params.require_int("message_id", "message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None:
            raise bad_request("message to delete not found")
        own = message_id in chat.sent
        bot_member = chat.members.get(self.world.bot.id)
        may_delete = (
            own or chat.type == "private" or bool(bot_member and bot_member.right("can_delete_messages"))
        )
        if not may_delete:
            raise bad_request("message can't be deleted")
        del chat.messages[message_id]
        if own:
            chat.sent[message_id].deleted = True
        self.world.counters["deletions"] += 1
        return True

    @api_method("answerCallbackQuery")
    def answer_callback_query(self, params: Params) -> bool:
        query_id = params.text("callback_query_id") or ""
        record = self.world.callback_queries.get(query_id)
        window = self.world.callback_answer_window
        if (
            record is None
            or record["answered"]
            or (window is not None and self.world.clock() - record["at"] > window)
        ):
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = params.text("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        record["answered"] = True
        answer = {
            "callback_query_id": query_id, "text": text, "show_alert": params.boolean("show_alert"),
            "url": params.text("url"), "cache_time": params.integer("cache_time", "invalid cache_time", 0),
        }  # fmt: skip
        record["answer"] = answer
        self.world.callback_answers.append(answer)
        return True

    @api_method("sendChatAction")
    def send_chat_action(self, params: Params) -> bool:
        chat = self.chat_for(params, send=True)
        action = params.text("action") or ""
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.world.chat_actions.append({"chat_id": chat.id, "action": action, "at": self.world.clock()})
        return True

    @api_method("getChat")
    def get_chat(self, params: Params) -> dict[str, Any]:
        return self.chat_for(params, send=False).full_info()

    def _member_json(self, chat: Chat, user_id: int) -> dict[str, Any]:
        user = self.world.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        member = chat.members.get(user_id, Member(user_id, "left"))
        return member.to_dict(user.to_dict(), chat.type)

    @api_method("getChatMember")
    def get_chat_member(self, params: Params) -> dict[str, Any]:
        chat = self.chat_for(params, send=False)
        user_id = params.require_int("user_id", "invalid user_id specified")
        return self._member_json(chat, user_id)

    @api_method("getChatAdministrators")
    def get_chat_administrators(self, params: Params) -> list[dict[str, Any]]:
        chat = self.chat_for(params, send=False)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        admins = [m for m in chat.members.values() if m.status in ("creator", "administrator")]
        admins.sort(key=lambda m: m.status != "creator")
        return [self._member_json(chat, m.user_id) for m in admins]

    @api_method("getChatMemberCount")
    def get_chat_member_count(self, params: Params) -> int:
        chat = self.chat_for(params, send=False)
        return sum(1 for m in chat.members.values() if m.is_member)

    @api_method("leaveChat")
    def leave_chat(self, params: Params) -> bool:
        chat = self.chat_for(params, send=False)
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        self.world.set_bot_member(chat, "left", by=self.world.bot.id)
        return True

    # ---------------------------------------------------------------- getUpdates pieces (no waiting)

    def updates_request(self, params: Params) -> tuple[int | None, int, float]:
        """Validate getUpdates, confirm by ``offset``, apply ``allowed_updates``: (offset, limit, timeout)."""
        world = self.world
        if world.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")  # fmt: skip
        offset = params.integer("offset", "invalid offset specified")
        limit = params.integer("limit", "invalid limit specified", 100) or 100
        limit = min(max(limit, 1), 100)
        timeout = max(0.0, params.number("timeout", 0.0))
        allowed = params.json("allowed_updates", "can't parse allowed updates JSON object")
        if allowed is not None:
            if not isinstance(allowed, list):
                raise bad_request("can't parse allowed updates JSON object")
            chosen = frozenset(str(kind) for kind in allowed) & frozenset(ALL_UPDATE_TYPES)
            world.allowed_updates = chosen or DEFAULT_UPDATE_TYPES
        self.confirm(offset)
        return offset, limit, timeout

    def confirm(self, offset: int | None) -> None:
        updates = self.world.updates
        if offset is None:
            return
        if offset < 0:
            while len(updates) > -offset:
                updates.popleft()
            return
        while updates and updates[0]["update_id"] < offset:
            updates.popleft()
        self.world.changed()

    def take_updates(self, offset: int | None, limit: int) -> list[dict[str, Any]]:
        updates = self.world.updates
        result = []
        for update in updates:
            if offset is not None and offset >= 0 and update["update_id"] < offset:
                continue
            result.append(update)
            if len(result) >= limit:
                break
        return result
