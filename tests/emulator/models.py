"""The emulator's world: users, chats, memberships, the bot's messages and the call log.

Plain mutable dataclasses guarded by the emulator's lock; each knows how to render itself in the Bot
API's JSON shape so that the shape lives in one place. Tests read them directly (``emu.sent(chat)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
    "can_delete_stories",
)  # fmt: skip
CHANNEL_ADMIN_RIGHTS = ("can_post_messages", "can_edit_messages")
GROUP_ADMIN_RIGHTS = ("can_pin_messages", "can_manage_topics")
RESTRICTED_PERMISSIONS = (
    "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos",
    "can_send_video_notes", "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
    "can_add_web_page_previews", "can_change_info", "can_invite_users", "can_pin_messages",
    "can_manage_topics", "can_edit_tag", "can_react_to_messages",
)  # fmt: skip
MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})
CHAT_TYPES = frozenset({"private", "group", "supergroup", "channel"})


@dataclass
class User:
    id: int
    first_name: str
    is_bot: bool = False
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool | None = None
    deactivated: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code", "is_premium"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass
class Member:
    """A user's membership in a chat; ``rights`` holds admin rights or restricted permissions."""

    user_id: int
    status: str
    rights: dict[str, bool] = field(default_factory=dict)
    is_anonymous: bool = False
    custom_title: str | None = None
    until_date: int = 0

    @property
    def is_member(self) -> bool:
        return self.status in ("creator", "administrator", "member") or (
            self.status == "restricted" and self.rights.get("is_member", True)
        )

    def right(self, name: str) -> bool:
        if self.status == "creator":
            return True
        return self.status == "administrator" and bool(self.rights.get(name, name == "can_manage_chat"))

    def to_dict(self, user: dict[str, Any], chat_type: str) -> dict[str, Any]:
        """The ChatMember object for this status, with the fields Telegram sends for this chat type."""
        data: dict[str, Any] = {"user": user, "status": self.status}
        if self.status == "creator":
            data["is_anonymous"] = self.is_anonymous
            if self.custom_title:
                data["custom_title"] = self.custom_title
        elif self.status == "administrator":
            data["can_be_edited"] = bool(self.rights.get("can_be_edited", False))
            data["is_anonymous"] = self.is_anonymous
            for name in ADMIN_RIGHTS:
                data[name] = self.right(name)
            extra = CHANNEL_ADMIN_RIGHTS if chat_type == "channel" else GROUP_ADMIN_RIGHTS
            for name in extra:
                if name != "can_manage_topics" or chat_type == "supergroup":
                    data[name] = self.right(name)
            if self.custom_title:
                data["custom_title"] = self.custom_title
        elif self.status == "restricted":
            data["is_member"] = bool(self.rights.get("is_member", True))
            for name in RESTRICTED_PERMISSIONS:
                data[name] = bool(self.rights.get(name, False))
            data["until_date"] = self.until_date
        elif (self.status == "member" and self.until_date) or self.status == "kicked":
            data["until_date"] = self.until_date
        return data


@dataclass
class SentMessage:
    """A message the bot sent, as it is now (edits update it in place; ``history`` keeps old versions)."""

    chat_id: int
    message_id: int
    date: int
    text: str
    entities: list[dict[str, Any]]
    source_text: str
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    link_preview_options: dict[str, Any] | None = None
    disable_web_page_preview: bool | None = None
    disable_notification: bool | None = None
    protect_content: bool | None = None
    reply_to_message_id: int | None = None
    message_thread_id: int | None = None
    edit_date: int | None = None
    deleted: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    message: dict[str, Any] = field(default_factory=dict)
    photo: dict[str, Any] | None = None
    """sendPhoto: the upload as received (``file_name``, ``content_type``, ``size``, ``head`` = first bytes
    in hex, ``width``/``height`` read from a PNG header); ``text`` then holds the caption."""

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        """Rows of inline buttons, or [] without an inline keyboard."""
        return list((self.reply_markup or {}).get("inline_keyboard", []))

    @property
    def button_data(self) -> list[str]:
        return [b["callback_data"] for row in self.inline_keyboard for b in row if "callback_data" in b]

    def to_dict(self) -> dict[str, Any]:
        return {
            key: getattr(self, key)
            for key in (
                "chat_id", "message_id", "date", "text", "entities", "source_text", "parse_mode",
                "reply_markup", "link_preview_options", "disable_web_page_preview", "disable_notification",
                "protect_content", "reply_to_message_id", "message_thread_id", "edit_date", "deleted",
                "history",
            )
        }  # fmt: skip


@dataclass
class Chat:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    description: str | None = None
    is_forum: bool = False
    members: dict[int, Member] = field(default_factory=dict)
    blocked: bool = False  # private chats: the user blocked the bot
    started: bool = False  # private chats: the user has started the bot
    migrated_to: int | None = None
    migrated_from: int | None = None
    next_message_id: int = 1
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    sent: dict[int, SentMessage] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The short Chat object embedded in messages and updates."""
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.is_forum:
            data["is_forum"] = True
        return data

    def full_info(self) -> dict[str, Any]:
        """ChatFullInfo for getChat, with the fields python-telegram-bot requires."""
        data = self.to_dict()
        data.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                "premium_subscription": False, "gifts_from_channels": False,
            },
        )  # fmt: skip
        if self.description:
            data["description"] = self.description
        if self.type in ("group", "supergroup"):
            data["permissions"] = {"can_send_messages": True}
        return data

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class CallRecord:
    """One Bot API call as the emulator saw it, in arrival order."""

    seq: int
    at: float
    method: str
    params: dict[str, Any]
    chat_id: int | str | None
    ok: bool
    error_code: int | None = None
    description: str | None = None
    result: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "at": self.at, "method": self.method, "params": self.params,
            "chat_id": self.chat_id, "ok": self.ok, "error_code": self.error_code,
            "description": self.description, "result": self.result,
        }  # fmt: skip
