"""What users and Telegram do: write, press buttons, post, forward, block the bot, migrate groups.

Each action changes the world and queues the update the bot would receive, only if the bot would
receive it (membership, privacy mode in groups, ``allowed_updates``).
"""

from __future__ import annotations

from typing import Any

from tests.emulator.entities import finalize, validate_explicit
from tests.emulator.errors import GROUP_ANONYMOUS_BOT_ID
from tests.emulator.models import Chat, Member
from tests.emulator.world import ChatRef, UserRef, World


class ActingWorld(World):
    """The world plus the actions tests use to play users and Telegram."""

    def block_bot(self, user: UserRef) -> None:
        """The user blocks the bot: sends fail with 403 and ``my_chat_member`` says "kicked"."""
        self._set_blocked(user, True)

    def unblock_bot(self, user: UserRef) -> None:
        self._set_blocked(user, False)

    def _set_blocked(self, user: UserRef, blocked: bool) -> None:
        with self.lock:
            chat = self.create_private_chat(user, started=False)
            if chat.blocked == blocked:
                return
            chat.blocked = blocked
            old, new = (Member(self.bot.id, "member"), Member(self.bot.id, "kicked"))
            if not blocked:
                old, new = new, old
            self.changed()
            person = self.users[chat.id]
            self.push_update("my_chat_member", self._member_update(chat, person, old, new, self.bot))

    def deactivate_user(self, user: UserRef) -> None:
        with self.lock:
            self.user(user).deactivated = True
            self.changed()

    # ------------------------------------------------------------------ users and Telegram acting

    def _text_fields(self, text: str, entities: list[dict[str, Any]] | None) -> dict[str, Any]:
        plain, found = finalize(text, validate_explicit(text, entities or []))
        if not plain:
            raise ValueError("Telegram does not deliver empty text messages")
        return {"text": plain, "entities": found} if found else {"text": plain}

    def send_text(
        self,
        chat: ChatRef,
        user: UserRef | None,
        text: str,
        *,
        anonymous: bool = False,
        reply_to: int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A user (or, with ``anonymous=True``, an anonymous group admin) writes ``text`` in ``chat``.

        Entities (``bot_command``, URLs...) are detected as Telegram does. The update is queued only if
        the bot would see it: it is in the chat, and in groups with privacy mode on the message is a
        command for this bot, a reply to the bot, or mentions it. Returns the Message either way.
        """
        with self.lock:
            target = self.chat(chat)
            if target.type == "channel":
                raise ValueError("users do not write in channels; use post_to_channel()")
            message: dict[str, Any] = {"message_id": target.take_message_id()}
            if anonymous:
                if target.type == "private":
                    raise ValueError("anonymous admins exist only in groups")
                message["from"] = self.users[GROUP_ANONYMOUS_BOT_ID].to_dict()
                message["sender_chat"] = target.to_dict()
            else:
                if user is None:
                    raise ValueError("give the user who writes, or anonymous=True")
                message["from"] = self.user(user).to_dict()
            message.update(chat=target.to_dict(), date=self.now())
            if reply_to is not None:
                replied = target.messages.get(reply_to)
                if replied is None:
                    raise LookupError(f"no message {reply_to} in chat {target.id}")
                message["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
            message.update(self._text_fields(text, entities))
            target.messages[message["message_id"]] = message
            if target.type == "private":
                self._user_writes_privately(target, message)
            elif self.bot_in(target) and self._bot_sees(target, message):
                self.push_update("message", message)
            else:
                self.counters["messages_hidden_from_bot"] += 1
            self.changed()
            return message

    def _user_writes_privately(self, chat: Chat, message: dict[str, Any]) -> None:
        if chat.blocked and message["text"].split("@")[0].split()[0] == "/start":
            self._set_blocked(chat.id, False)  # /start from a user who blocked the bot unblocks it
        if chat.blocked:
            self.counters["messages_hidden_from_bot"] += 1
            return
        chat.started = True
        self.push_update("message", message)

    def _bot_sees(self, chat: Chat, message: dict[str, Any]) -> bool:
        """Privacy mode: in groups a bot sees commands, replies to it and mentions (admins see all)."""
        bot_member = chat.members.get(self.bot.id)
        if not self.privacy_mode or (bot_member and bot_member.status in ("administrator", "creator")):
            return True
        replied = message.get("reply_to_message", {})
        if replied.get("from", {}).get("id") == self.bot.id:
            return True
        name = (self.bot.username or "").lower()
        for entity in message.get("entities", []):
            part = _utf16_slice(message["text"], entity["offset"], entity["length"])
            if entity["type"] == "bot_command":
                target = part.partition("@")[2].lower()
                if not target or target == name:
                    return True
            if entity["type"] == "mention" and part[1:].lower() == name:
                return True
        return False

    def send_command(
        self,
        chat: ChatRef,
        user: UserRef | None,
        command: str,
        args: str = "",
        *,
        mention_bot: bool = False,
        anonymous: bool = False,
    ) -> dict[str, Any]:
        """``/command[@BotName] args`` from ``user``; in groups use ``mention_bot`` like real clients."""
        text = "/" + command.lstrip("/")
        if mention_bot:
            text += f"@{self.bot.username}"
        if args:
            text += f" {args}"
        return self.send_text(chat, user, text, anonymous=anonymous)

    def send_commands(self, users: list[UserRef], command: str, args: str = "") -> int:
        """Every one of ``users`` sends ``/command`` in their private chat at once (a burst of readers)."""
        with self.lock:
            for user in users:
                self.send_command(user, user, command, args)
        return len(users)

    def press_button(
        self,
        chat: ChatRef,
        user: UserRef,
        message_id: int,
        *,
        data: str | None = None,
        text: str | None = None,
        force: bool = False,
    ) -> str:
        """``user`` presses an inline button (found by ``data`` or by its ``text``) under a bot message.

        Queues a ``callback_query`` and returns its id. ``force=True`` sends ``data`` even if no such
        button exists (a stale keyboard).
        """
        with self.lock:
            target, person = self.chat(chat), self.user(user)
            sent = target.sent.get(message_id)
            if sent is None or sent.deleted:
                raise LookupError(f"the bot has no message {message_id} in chat {target.id}")
            buttons = [b for row in sent.inline_keyboard for b in row]
            chosen = next(
                (b for b in buttons if (data is None or b.get("callback_data") == data)
                 and (text is None or b.get("text") == text)),
                None,
            )  # fmt: skip
            if chosen is None and not force:
                raise ValueError(f"no inline button data={data!r} text={text!r} on message {message_id}")
            callback_data = data if chosen is None else chosen.get("callback_data")
            if callback_data is None:
                raise ValueError("that button does not send a callback query")
            query_id = str((self.bot.id << 24) + next(self._callback_ids))
            query = {
                "id": query_id, "from": person.to_dict(), "message": sent.message,
                "chat_instance": self.chat_instance(target), "data": callback_data,
            }  # fmt: skip
            self.callback_queries[query_id] = {"query": query, "answered": False, "at": self.clock()}
            self.push_update("callback_query", query)
            return query_id

    def post_to_channel(
        self,
        channel: ChatRef,
        text: str,
        *,
        author_signature: str | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """An admin posts in a channel; the bot gets ``channel_post`` if it is in the channel."""
        with self.lock:
            target = self.chat(channel)
            if target.type != "channel":
                raise ValueError(f"chat {target.id} is a {target.type}, not a channel")
            message: dict[str, Any] = {
                "message_id": target.take_message_id(), "sender_chat": target.to_dict(),
                "chat": target.to_dict(), "date": self.now(),
            }  # fmt: skip
            if author_signature:
                message["author_signature"] = author_signature
            message.update(self._text_fields(text, entities))
            target.messages[message["message_id"]] = message
            if self.bot_in(target):
                self.push_update("channel_post", message)
            self.changed()
            return message

    def forward_channel_post(self, channel: ChatRef, message_id: int, user: UserRef) -> dict[str, Any]:
        """``user`` forwards a channel post into their private chat with the bot (``forward_origin``
        of type ``channel``), e.g. to subscribe the channel."""
        with self.lock:
            source = self.chat(channel)
            post = source.messages.get(message_id)
            if post is None:
                raise LookupError(f"no post {message_id} in channel {source.id}")
            person = self.user(user)
            chat = self.create_private_chat(person)
            origin: dict[str, Any] = {
                "type": "channel", "chat": source.to_dict(), "message_id": message_id, "date": post["date"],
            }  # fmt: skip
            if "author_signature" in post:
                origin["author_signature"] = post["author_signature"]
            message: dict[str, Any] = {
                "message_id": chat.take_message_id(), "from": person.to_dict(), "chat": chat.to_dict(),
                "date": self.now(), "forward_origin": origin,
            }  # fmt: skip
            message.update({k: post[k] for k in ("text", "entities") if k in post})
            chat.messages[message["message_id"]] = message
            self._user_writes_privately(chat, message)
            self.changed()
            return message

    def migrate_to_supergroup(
        self, group: ChatRef, *, by: UserRef | None = None, new_id: int | None = None
    ) -> Chat:
        """Upgrade a basic group: members move, the old id answers "group chat was upgraded" with
        ``migrate_to_chat_id``, and both service messages are queued as Telegram does."""
        with self.lock:
            old = self.chat(group)
            if old.type != "group":
                raise ValueError("only basic groups migrate to supergroups")
            actor = self.user(by) if by is not None else self._some_admin(old)
            new = self._create_chat(
                "supergroup", old.title or "", id=new_id, username=None, members=(), creator=None,
                bot_status="left", bot_rights=None,
            )  # fmt: skip
            new.members = {uid: Member(m.user_id, m.status, dict(m.rights)) for uid, m in old.members.items()}
            new.migrated_from = old.id
            self._service_message(old, actor, {"migrate_to_chat_id": new.id})
            self._service_message(new, actor, {"migrate_from_chat_id": old.id})
            old.migrated_to = new.id
            self.changed()
            return new


def _utf16_slice(text: str, offset: int, length: int) -> str:
    encoded = text.encode("utf-16-le")
    return encoded[offset * 2 : (offset + length) * 2].decode("utf-16-le")
