"""The world the bot lives in: users, chats, memberships, the update queue, and how tests build it.

Layers, one concern each: :class:`World` here (state, lookups, building chats and memberships) →
:class:`~tests.emulator.actions.ActingWorld` (what users and Telegram do) →
:class:`~tests.emulator.observe.ObservedWorld` (inspection and waiting) → ``BotAPIEmulator``. What the
*bot* does arrives over HTTP and is handled by :mod:`tests.emulator.botapi`. Both sides share one
re-entrant lock, and every change wakes the sync and async ``wait_for`` helpers.

Chats and users can be given as objects, ids or ``"@username"``. Misuse by a test (unknown chat, button
that does not exist) raises ``LookupError``/``ValueError`` at once instead of producing a silent no-op.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import Any

from tests.emulator.errors import GROUP_ANONYMOUS_BOT_ID
from tests.emulator.models import MEMBER_STATUSES, CallRecord, Chat, Member, SentMessage, User

ChatRef = Chat | User | int | str  # a User means their private chat
UserRef = User | int

ALL_UPDATE_TYPES = (
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages", "message_reaction",
    "message_reaction_count", "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
    "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer", "my_chat_member", "chat_member",
    "chat_join_request", "chat_boost", "removed_chat_boost",
)  # fmt: skip
DEFAULT_UPDATE_TYPES = frozenset(ALL_UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}


def ref_id(ref: Chat | User | int | str) -> int | str:
    return ref.id if isinstance(ref, Chat | User) else ref


class World:
    """State of the emulated Telegram and the methods that build it (no updates unless documented)."""

    def __init__(
        self,
        token: str,
        *,
        bot_username: str = "NashraTestBot",
        bot_first_name: str = "Nashra",
        privacy_mode: bool = True,
        clock: Callable[[], float] = time.time,
        first_update_id: int = 1,
    ) -> None:
        bot_id, sep, secret = token.partition(":")
        if not (sep and bot_id.isdigit() and secret):
            raise ValueError("a bot token looks like '<bot id>:<secret>'")
        self.token = token
        self.clock = clock
        self.privacy_mode = privacy_mode
        self.lock = threading.RLock()
        self._changes = threading.Condition(self.lock)
        self.bot = User(int(bot_id), bot_first_name, is_bot=True, username=bot_username)
        self.bot_capabilities: dict[str, bool] = {
            "can_join_groups": True, "can_read_all_group_messages": not privacy_mode,
            "supports_inline_queries": False, "can_connect_to_business": False, "has_main_web_app": False,
        }  # fmt: skip
        anonymous = User(GROUP_ANONYMOUS_BOT_ID, "Group", is_bot=True, username="GroupAnonymousBot")
        self.users: dict[int, User] = {self.bot.id: self.bot, anonymous.id: anonymous}
        self.chats: dict[int, Chat] = {}
        self.usernames: dict[str, int] = {}
        self.updates: deque[dict[str, Any]] = deque()
        self.next_update_id = first_update_id
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_proxy: str | None = None
        """Where webhook deliveries really go: ``http://127.0.0.1:PORT`` in front of the registered URL's
        path, as a TLS-terminating reverse proxy would forward them (``None``: the URL itself)."""
        self.commands_store: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.bot_texts: dict[tuple[str, str], str] = {}
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self.callback_answer_window: float | None = None
        """Seconds after a press within which Telegram takes its answer (``None``: for ever); later
        answers get 400 "query is too old", as from a bot that fell behind."""
        self.callback_answers: list[dict[str, Any]] = []
        self.chat_actions: list[dict[str, Any]] = []
        self.sent_log: list[SentMessage] = []
        self.calls: list[CallRecord] = []
        self.counters: Counter[str] = Counter()
        self.version = 0
        self.waiting_polls = 0  # getUpdates requests currently long-polling (set by the server)
        self._update_listeners: list[Callable[[], object]] = []
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()
        self._user_ids = itertools.count(700_000_001)
        self._group_ids = itertools.count(4_000_000_001)
        self._channel_ids = itertools.count(1_000_000_001)
        self._callback_ids = itertools.count(1)

    # ------------------------------------------------------------------ plumbing

    def now(self) -> int:
        """Telegram dates are whole seconds since the epoch."""
        return int(self.clock())

    def changed(self, *, update: bool = False) -> None:
        """Wake everyone waiting on the world; call with the lock held."""
        self.version += 1
        self._changes.notify_all()
        if update:
            for listener in self._update_listeners:
                listener()
        for loop, future in list(self._async_waiters):
            try:
                loop.call_soon_threadsafe(_resolve, future)
            except RuntimeError:  # that loop is closed; its waiter is gone
                self._async_waiters.discard((loop, future))

    def add_update_listener(self, listener: Callable[[], object]) -> None:
        with self.lock:
            self._update_listeners.append(listener)

    def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update unless the bot's ``allowed_updates`` excludes its type (then it is lost)."""
        with self.lock:
            if kind not in self.allowed_updates:
                self.counters["updates_filtered"] += 1
                return None
            update = {"update_id": self.next_update_id, kind: payload}
            self.next_update_id += 1
            self.updates.append(update)
            self.counters["updates_queued"] += 1
            self.changed(update=True)
            return update

    def chat(self, ref: ChatRef) -> Chat:
        """The chat for an object, id or ``@username``; LookupError if a test names an unknown chat."""
        with self.lock:
            key = ref_id(ref)
            if isinstance(key, str):
                found = self.usernames.get(key.lstrip("@").lower())
                if found is None:
                    raise LookupError(f"no chat with username {key!r}")
                key = found
            chat = self.chats.get(key)
            if chat is None:
                raise LookupError(f"no chat {key!r} in the emulator")
            return chat

    def user(self, ref: UserRef) -> User:
        with self.lock:
            user = self.users.get(int(ref_id(ref)))
            if user is None:
                raise LookupError(f"no user {ref!r} in the emulator")
            return user

    def user_dict(self, user_id: int) -> dict[str, Any] | None:
        user = self.users.get(user_id)
        return user.to_dict() if user else None

    def chat_instance(self, chat: Chat) -> str:
        """Stable per chat, like Telegram's global chat identifier in callback queries."""
        return str((chat.id * 6364136223846793005 + self.bot.id) % (1 << 63) - (1 << 62))

    # ------------------------------------------------------------------ building the world

    def _register(self, chat: Chat) -> Chat:
        if chat.id in self.chats:
            raise ValueError(f"chat {chat.id} already exists")
        if chat.username and chat.type != "private":  # bots cannot address users by @username
            key = chat.username.lower()
            if key in self.usernames:
                raise ValueError(f"username @{chat.username} is taken")
            self.usernames[key] = chat.id
        self.chats[chat.id] = chat
        self.changed()
        return chat

    def create_user(
        self,
        first_name: str = "Test",
        *,
        id: int | None = None,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "ar",
        is_premium: bool | None = None,
        is_bot: bool = False,
    ) -> User:
        with self.lock:
            user_id = id if id is not None else next(self._user_ids)
            if user_id in self.users:
                raise ValueError(f"user {user_id} already exists")
            user = User(user_id, first_name, is_bot, last_name, username, language_code, is_premium)
            self.users[user_id] = user
            self.changed()
            return user

    def create_private_chat(self, user: UserRef, *, started: bool = True) -> Chat:
        """The user's private chat with the bot; ``started`` means the user pressed Start."""
        with self.lock:
            person = self.user(user)
            chat = self.chats.get(person.id)
            if chat is None:
                chat = Chat(
                    person.id, "private", username=person.username, first_name=person.first_name,
                    last_name=person.last_name,
                )  # fmt: skip
                chat.members = {
                    person.id: Member(person.id, "member"),
                    self.bot.id: Member(self.bot.id, "member"),
                }
                self._register(chat)
            chat.started = chat.started or started
            self.changed()
            return chat

    def create_users(
        self, count: int, *, first_name: str = "Reader", language_code: str = "ar"
    ) -> list[User]:
        """Many users, each with a started private chat: for fan-out benchmarks and demos."""
        with self.lock:
            users = [self.create_user(f"{first_name} {n}", language_code=language_code) for n in range(count)]
            for user in users:
                self.create_private_chat(user)
            return users

    def _create_chat(
        self,
        chat_type: str,
        title: str,
        *,
        id: int | None,
        username: str | None,
        members: Iterable[UserRef],
        creator: UserRef | None,
        bot_status: str,
        bot_rights: dict[str, bool] | None,
        is_forum: bool = False,
        description: str | None = None,
    ) -> Chat:
        if chat_type == "group":
            chat_id = id if id is not None else -next(self._group_ids)
        else:
            chat_id = id if id is not None else -(1_000_000_000_000 + next(self._channel_ids))
        chat = Chat(
            chat_id, chat_type, title=title, username=username, is_forum=is_forum, description=description
        )
        for member in members:
            chat.members[self.user(member).id] = Member(self.user(member).id, "member")
        if creator is not None:
            chat.members[self.user(creator).id] = Member(self.user(creator).id, "creator")
        if bot_status != "left":
            chat.members[self.bot.id] = self._member(self.bot.id, bot_status, bot_rights or {})
        return self._register(chat)

    def create_group(
        self,
        title: str = "مجموعة الاختبار",
        *,
        members: Iterable[UserRef] = (),
        creator: UserRef | None = None,
        bot_status: str = "member",
        bot_rights: dict[str, bool] | None = None,
        id: int | None = None,
    ) -> Chat:
        """A basic group; the bot is in it unless ``bot_status="left"``. No updates are queued."""
        with self.lock:
            return self._create_chat(
                "group", title, id=id, username=None, members=members, creator=creator,
                bot_status=bot_status, bot_rights=bot_rights,
            )  # fmt: skip

    def create_supergroup(
        self,
        title: str = "مجموعة كبرى",
        *,
        username: str | None = None,
        members: Iterable[UserRef] = (),
        creator: UserRef | None = None,
        bot_status: str = "member",
        bot_rights: dict[str, bool] | None = None,
        id: int | None = None,
        is_forum: bool = False,
    ) -> Chat:
        with self.lock:
            return self._create_chat(
                "supergroup", title, id=id, username=username, members=members, creator=creator,
                bot_status=bot_status, bot_rights=bot_rights, is_forum=is_forum,
            )  # fmt: skip

    def create_channel(
        self,
        title: str = "قناة الأخبار",
        *,
        username: str | None = None,
        creator: UserRef | None = None,
        bot_status: str = "administrator",
        bot_rights: dict[str, bool] | None = None,
        id: int | None = None,
        description: str | None = None,
    ) -> Chat:
        """A channel; by default the bot is an administrator allowed to post."""
        rights = {"can_post_messages": True} if bot_rights is None else bot_rights
        with self.lock:
            return self._create_chat(
                "channel", title, id=id, username=username, members=(), creator=creator,
                bot_status=bot_status, bot_rights=rights, description=description,
            )  # fmt: skip

    @staticmethod
    def _member(user_id: int, status: str, rights: dict[str, Any], **extra: Any) -> Member:
        if status not in MEMBER_STATUSES:
            raise ValueError(f"unknown member status {status!r}; use one of {sorted(MEMBER_STATUSES)}")
        return Member(user_id, status, {k: bool(v) for k, v in rights.items()}, **extra)

    def _member_update(self, chat: Chat, by: User, old: Member, new: Member, user: User) -> dict[str, Any]:
        return {
            "chat": chat.to_dict(), "from": by.to_dict(), "date": self.now(),
            "old_chat_member": old.to_dict(user.to_dict(), chat.type),
            "new_chat_member": new.to_dict(user.to_dict(), chat.type),
        }  # fmt: skip

    def set_member(
        self,
        chat: ChatRef,
        user: UserRef,
        status: str = "member",
        *,
        is_anonymous: bool = False,
        custom_title: str | None = None,
        until_date: int = 0,
        by: UserRef | None = None,
        emit: bool = False,
        **rights: bool,
    ) -> Member:
        """Set a user's status and rights (``can_change_info=True``...). ``emit`` queues ``chat_member``.

        For the bot itself use :meth:`set_bot_member`, which queues ``my_chat_member`` like Telegram.
        """
        with self.lock:
            target, person = self.chat(chat), self.user(user)
            if person.id == self.bot.id:
                return self.set_bot_member(target, status, by=by, emit=emit, **rights)
            old = target.members.get(person.id, Member(person.id, "left"))
            new = self._member(
                person.id, status, rights, is_anonymous=is_anonymous, custom_title=custom_title,
                until_date=until_date,
            )  # fmt: skip
            target.members[person.id] = new
            self.changed()
            if emit:
                actor = self.user(by) if by is not None else person
                self.push_update("chat_member", self._member_update(target, actor, old, new, person))
            return new

    def set_bot_member(
        self,
        chat: ChatRef,
        status: str,
        *,
        by: UserRef | None = None,
        emit: bool = True,
        **rights: bool,
    ) -> Member:
        """Change the bot's own status in a chat, queueing ``my_chat_member`` (and, in groups, the
        ``new_chat_members``/``left_chat_member`` service message Telegram also sends)."""
        with self.lock:
            target = self.chat(chat)
            actor = self.user(by) if by is not None else self._some_admin(target)
            old = target.members.get(self.bot.id, Member(self.bot.id, "left"))
            new = self._member(self.bot.id, status, rights)
            target.members[self.bot.id] = new
            self.changed()
            if emit:
                self.push_update("my_chat_member", self._member_update(target, actor, old, new, self.bot))
                if target.type in ("group", "supergroup") and old.is_member != new.is_member:
                    key = "new_chat_members" if new.is_member else "left_chat_member"
                    value: Any = [self.bot.to_dict()] if new.is_member else self.bot.to_dict()
                    self._service_message(target, actor, {key: value})
            return new

    def add_bot(
        self, chat: ChatRef, *, by: UserRef | None = None, status: str = "member", **rights: bool
    ) -> Member:
        return self.set_bot_member(chat, status, by=by, **rights)

    def remove_bot(self, chat: ChatRef, *, by: UserRef | None = None, kicked: bool = True) -> Member:
        return self.set_bot_member(chat, "kicked" if kicked else "left", by=by)

    def _some_admin(self, chat: Chat) -> User:
        for member in chat.members.values():
            if member.status in ("creator", "administrator") and member.user_id != self.bot.id:
                return self.users[member.user_id]
        if chat.type == "private":
            return self.users[chat.id]
        return self.users[GROUP_ANONYMOUS_BOT_ID]

    def _service_message(self, chat: Chat, actor: User | None, fields: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"message_id": chat.take_message_id()}
        if actor is not None:
            message["from"] = actor.to_dict()
        message.update(chat=chat.to_dict(), date=self.now(), **fields)
        chat.messages[message["message_id"]] = message
        if self.bot_in(chat):
            self.push_update("message", message)
        return message

    def bot_in(self, chat: Chat) -> bool:
        if chat.type == "private":
            return not chat.blocked
        member = chat.members.get(self.bot.id)
        return member is not None and member.is_member


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
