"""Use cases behind the chat commands, on every database backend (the Telegram side is tested end to end
in tests/bot)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from jobs import subscriptions as subs
from jobs.subscriptions import ChatRef, Defaults, SubscriptionError
from news.models import Article
from news.schedule import ScheduleInputError, next_digest_at
from news.topics import BUILTIN_KEYS, TopicSpecError
from storage import articles as article_store
from storage import chats as chat_store
from storage.db import Database
from storage.schema import Delivery

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
DEFAULTS = Defaults.of("07:00", "Asia/Riyadh")
PRIVATE = ChatRef(1001, "private", "Salma", "salma", "ar")


async def _subscribed(db: Database, ref: ChatRef = PRIVATE) -> None:
    await subs.subscribe(db, ref, DEFAULTS, NOW)


def _article(
    n: int, title: str, *, summary: str = "", topics: tuple[str, ...] = (), hours_ago: float = 1
) -> Article:
    return Article(
        url=f"https://news.example/{n}",
        canonical_url=f"https://news.example/{n}",
        title=title,
        summary=summary,
        source="المصدر",
        published_at=NOW - timedelta(hours=hours_ago),
        fingerprint=f"fp{n}",
        topics=topics,
    )


async def _store(db: Database, *articles: Article) -> None:
    async with db.session() as s, s.begin():
        await article_store.insert_articles(s, None, list(articles), fetched_at=NOW - timedelta(minutes=30))


# --- subscribing ------------------------------------------------------------------------------------


async def test_subscribe_follows_every_builtin_topic_at_the_default_time(db: Database) -> None:
    chat, state = await subs.subscribe(db, PRIVATE, DEFAULTS, NOW)
    assert state == "new"
    assert chat.topics == BUILTIN_KEYS
    assert (chat.delivery_minute, chat.timezone, chat.language) == (7 * 60, "Asia/Riyadh", "ar")
    assert chat.next_digest_at == datetime(2025, 3, 11, 4, 0, tzinfo=UTC)  # 07:00 in Riyadh, tomorrow
    again, state = await subs.subscribe(db, PRIVATE, DEFAULTS, NOW)
    assert state == "already" and again.id == chat.id


async def test_stop_keeps_settings_and_start_resumes_them(db: Database) -> None:
    await _subscribed(db)
    await subs.set_time(db, PRIVATE.telegram_id, "21:15", NOW)
    paused = await subs.pause(db, PRIVATE.telegram_id)
    assert not paused.active and paused.delivery_minute == 21 * 60 + 15
    later = NOW + timedelta(days=3)
    resumed, state = await subs.subscribe(db, PRIVATE, DEFAULTS, later)
    assert state == "resumed" and resumed.active
    assert resumed.delivery_minute == 21 * 60 + 15
    assert resumed.next_digest_at == next_digest_at(21 * 60 + 15, ZoneInfo("Asia/Riyadh"), later)


async def test_unknown_registered_and_removed_chats_are_refused(db: Database) -> None:
    with pytest.raises(SubscriptionError) as err:
        await subs.require_chat(db, 42)
    assert err.value.code == "not_subscribed"
    group = ChatRef(-500, "group", "أصدقاء")
    await subs.register_chat(db, group, DEFAULTS, NOW)
    with pytest.raises(SubscriptionError) as err:
        await subs.set_time(db, -500, "08:00", NOW)
    assert err.value.code == "not_subscribed"
    _, state = await subs.subscribe(db, group, DEFAULTS, NOW)
    assert state == "new"
    await subs.deactivate(db, -500, "bot kicked the chat")
    with pytest.raises(SubscriptionError) as err:
        await subs.pause(db, -500)
    assert err.value.code == "chat_removed"
    chat, state = await subs.subscribe(db, group, DEFAULTS, NOW)
    assert state == "resumed" and chat.deactivated_reason is None


# --- topics and schedule ---------------------------------------------------------------------------


async def test_toggle_topic_turns_one_topic_off_and_on(db: Database) -> None:
    await _subscribed(db)
    chat, topics = await subs.toggle_topic(db, PRIVATE.telegram_id, "sport")
    assert "sport" not in chat.topics and len(topics) == len(BUILTIN_KEYS)
    chat, _ = await subs.toggle_topic(db, PRIVATE.telegram_id, "sport")
    assert chat.topics == BUILTIN_KEYS  # back in display order
    with pytest.raises(SubscriptionError) as err:
        await subs.toggle_topic(db, PRIVATE.telegram_id, "astrology")
    assert err.value.code == "no_such_topic"


@pytest.mark.parametrize("text", ["25:99", "7:75", "غدا", ""])
async def test_bad_times_change_nothing(db: Database, text: str) -> None:
    await _subscribed(db)
    with pytest.raises(ScheduleInputError):
        await subs.set_time(db, PRIVATE.telegram_id, text, NOW)
    chat = await subs.require_chat(db, PRIVATE.telegram_id)
    assert chat.delivery_minute == 7 * 60


async def test_time_and_timezone_recompute_the_next_digest(db: Database) -> None:
    await _subscribed(db)
    chat = await subs.set_time(db, PRIVATE.telegram_id, "٧:٣٠", NOW)
    assert chat.delivery_minute == 450
    chat = await subs.set_timezone(db, PRIVATE.telegram_id, "Africa/Cairo", NOW)
    assert chat.timezone == "Africa/Cairo"
    assert chat.next_digest_at == next_digest_at(450, ZoneInfo("Africa/Cairo"), NOW)
    with pytest.raises(ScheduleInputError):
        await subs.set_timezone(db, PRIVATE.telegram_id, "Mars/Base", NOW)
    assert (await subs.require_chat(db, PRIVATE.telegram_id)).timezone == "Africa/Cairo"


async def test_keyword_topics_are_prefixed_followed_redefined_and_deleted(db: Database) -> None:
    await _subscribed(db)
    topic, created = await subs.add_keyword_topic(
        db, PRIVATE.telegram_id, "طاقة: نفط، غاز، -غاز الضحك", user_id=7, now=NOW
    )
    assert created and topic.key.startswith("kw_") and topic.key not in BUILTIN_KEYS
    assert topic.keywords == ("نفط", "غاز") and topic.excluded == ("غاز الضحك",)
    chat = await subs.require_chat(db, PRIVATE.telegram_id)
    assert chat.topics[-1] == topic.key
    again, created = await subs.add_keyword_topic(db, PRIVATE.telegram_id, "طاقه: شمس", user_id=7, now=NOW)
    assert not created and again.key == topic.key and again.keywords == ("شمس",)
    picked = await subs.chat_topics(db, chat)
    assert [t.key for t in picked] == [*BUILTIN_KEYS, topic.key]
    deleted = await subs.delete_keyword_topic(db, PRIVATE.telegram_id, "طاقة")
    assert deleted.key == topic.key
    chat = await subs.require_chat(db, PRIVATE.telegram_id)
    assert topic.key not in chat.topics
    assert len(await subs.chat_topics(db, chat)) == len(BUILTIN_KEYS)


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("طاقة:", TopicSpecError),
        (": نفط", TopicSpecError),
        ("بلا نقطتين", TopicSpecError),
        ("<b>x</b>: نفط", TopicSpecError),
        ("كثير: " + "، ".join(f"كلمة{n}" for n in range(500)), TopicSpecError),
        ("رياضة: كرة", SubscriptionError),
    ],
)
async def test_bad_keyword_topics_are_refused(db: Database, spec: str, error: type[Exception]) -> None:
    await _subscribed(db)
    with pytest.raises(error):
        await subs.add_keyword_topic(db, PRIVATE.telegram_id, spec, user_id=7, now=NOW)
    chat = await subs.require_chat(db, PRIVATE.telegram_id)
    assert chat.topics == BUILTIN_KEYS
    async with db.session() as s:
        assert await chat_store.keyword_topics(s, chat.id) == []


async def test_keyword_topics_per_chat_are_limited(db: Database) -> None:
    await _subscribed(db)
    for n in range(subs.MAX_KEYWORD_TOPICS):
        await subs.add_keyword_topic(db, PRIVATE.telegram_id, f"موضوع {n}: كلمة{n}", user_id=7, now=NOW)
    with pytest.raises(SubscriptionError) as err:
        await subs.add_keyword_topic(db, PRIVATE.telegram_id, "واحد زيادة: شيء", user_id=7, now=NOW)
    assert err.value.code == "too_many_topics"


async def test_deleting_builtin_or_unknown_topics_is_refused(db: Database) -> None:
    await _subscribed(db)
    for name, code in [("رياضة", "builtin_topic"), ("فلك", "no_such_topic"), ("  ", "deltopic_usage")]:
        with pytest.raises(SubscriptionError) as err:
            await subs.delete_keyword_topic(db, PRIVATE.telegram_id, name)
        assert err.value.code == code


# --- reading ------------------------------------------------------------------------------------------


async def test_search_is_arabic_aware_requires_every_word_and_lists_newest_first(db: Database) -> None:
    await _store(
        db,
        _article(1, "ارتفاع أسعار النفط في الأسواق العالمية", hours_ago=5),
        _article(2, "وزير الطاقة: النفطية تتراجع", summary="أسعار جديدة للوقود", hours_ago=1),
        _article(3, "مباراة كرة القدم الليلة", hours_ago=2),
        _article(4, "أخبار ولبنان والأسعار", hours_ago=3),
    )
    found = await subs.search(db, "أسعار النفط")
    assert [h.url for h in found] == ["https://news.example/2", "https://news.example/1"]
    assert [h.url for h in await subs.search(db, "لبنان")] == ["https://news.example/4"]
    assert await subs.search(db, "النفط مباراة") == []
    assert await subs.search(db, "50%_") == []  # LIKE wildcards are matched literally
    with pytest.raises(SubscriptionError) as err:
        await subs.search(db, "!!! ...")
    assert err.value.code == "search_usage"


async def test_latest_filters_by_builtin_and_keyword_topics(db: Database) -> None:
    await _store(
        db,
        _article(1, "فوز الفريق في الدوري", topics=("sport",), hours_ago=1),
        _article(2, "البنك المركزي يرفع الفائدة", topics=("economy",), hours_ago=2),
        _article(3, "أسعار النفط ترتفع", topics=("economy",), hours_ago=3),
        _article(4, "خبر قديم جدًا عن النفط", topics=("economy",), hours_ago=72),
    )
    builtin = {t.key: t for t in subs.builtin_topics()}
    sport = await subs.latest(db, [builtin["sport"]], NOW)
    assert [h.url for h in sport] == ["https://news.example/1"]
    economy = await subs.latest(db, [builtin["economy"]], NOW)
    assert [h.url for h in economy] == ["https://news.example/2", "https://news.example/3"]
    await _subscribed(db)
    energy, _ = await subs.add_keyword_topic(db, PRIVATE.telegram_id, "طاقة: نفط", user_id=1, now=NOW)
    assert [h.url for h in await subs.latest(db, [energy], NOW)] == ["https://news.example/3"]
    assert await subs.latest(db, [builtin["culture"]], NOW) == []


# --- operators ------------------------------------------------------------------------------------------


async def test_feeds_are_checked_stored_and_removed(db: Database) -> None:
    with pytest.raises(SubscriptionError) as err:
        await subs.add_feed(db, "http://127.0.0.1/rss", allow_private=False, now=NOW)
    assert err.value.code == "feed_refused" and "loopback" in err.value.details["reason"]
    feed = await subs.add_feed(db, "HTTPS://News.Example/rss", allow_private=False, now=NOW)
    assert feed.url == "https://news.example/rss"
    with pytest.raises(SubscriptionError) as err:
        await subs.add_feed(db, "https://news.example/rss", allow_private=False, now=NOW)
    assert err.value.code == "feed_exists"
    assert [f.id for f in await subs.list_feeds(db)] == [feed.id]
    await subs.remove_feed(db, feed.id)
    with pytest.raises(SubscriptionError) as err:
        await subs.remove_feed(db, feed.id)
    assert err.value.code == "no_such_feed"


async def test_stats_count_today_per_topic_subscribers_and_outbox(db: Database) -> None:
    await subs.add_feed(db, "https://news.example/rss", allow_private=False, now=NOW)
    await _store(
        db,
        _article(1, "أ", topics=("sport",)),
        _article(2, "ب", topics=("sport", "economy")),
    )
    await _subscribed(db)
    await subs.subscribe(db, ChatRef(-9, "group", "g"), DEFAULTS, NOW)
    await subs.pause(db, -9)
    chat = await subs.require_chat(db, PRIVATE.telegram_id)
    async with db.session() as s, s.begin():
        s.add_all(
            [
                Delivery(chat_id=chat.id, digest_key="d1", page=0, text="x", status="pending"),
                Delivery(chat_id=chat.id, digest_key="d1", page=1, text="x", status="failed"),
                Delivery(chat_id=chat.id, digest_key="d0", page=0, text="x", status="sent", sent_at=NOW),
            ]
        )
    stats = await subs.stats(db, "Asia/Riyadh", NOW)
    assert stats.feeds == {"total": 1, "new": 1}
    assert stats.articles_today == 2
    assert stats.articles_by_topic == {"sport": 2, "economy": 1}
    assert stats.chats["delivering"] == 1 and stats.chats["paused"] == 1
    assert stats.deliveries == {"pending": 1, "failed": 1, "sent_today": 1}


def test_channel_references() -> None:
    assert subs.parse_channel_ref("@news_ar") == "@news_ar"
    assert subs.parse_channel_ref("https://t.me/news_ar") == "@news_ar"
    assert subs.parse_channel_ref("-1001234567890") == -1001234567890
    for bad in ["@", "<b>x</b>", "news ar", "@ab"]:
        with pytest.raises(SubscriptionError):
            subs.parse_channel_ref(bad)
