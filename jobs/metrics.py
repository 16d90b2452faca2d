"""The process's Prometheus metrics: one registry, incremented where the work happens (jobs code).

A module-level registry, not ``prometheus_client.REGISTRY``: ``/metrics`` then shows Nashra's series
and the process collectors we choose, and tests can read values by name without other libraries'
series in the way. Counters only ever go up within a process; Prometheus handles restarts. Gauges that
describe the database (outbox depth) are not kept here by the code that changes them, since several
processes change them: the web server refreshes them from the database at scrape time
(``refresh_from_db``).

Nothing here talks to Telegram or decides anything; ``news/`` stays free of it.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

ARTICLES_INGESTED = Counter(
    "nashra_articles_ingested", "New articles stored by ingestion passes.", registry=REGISTRY
)
FEEDS_FETCHED = Counter(
    "nashra_feeds_fetched",
    "Feeds fetched, by outcome (ok, not_modified, failed).",
    ["outcome"],
    registry=REGISTRY,
)
FEED_FAILURES = Counter(
    "nashra_feed_failures",
    "Feed fetches or parses that failed (the feed is retried later).",
    registry=REGISTRY,
)
MESSAGES_SENT = Counter("nashra_messages_sent", "Outbox pages Telegram accepted.", registry=REGISTRY)
MESSAGES_FAILED = Counter(
    "nashra_messages_failed",
    "Outbox pages given up on (rejected, chat gone, too many attempts).",
    registry=REGISTRY,
)
MESSAGES_RATE_LIMITED = Counter(
    "nashra_messages_rate_limited", "Sends Telegram answered with 429 (flood wait).", registry=REGISTRY
)
OUTBOX_DEPTH = Gauge(
    "nashra_outbox_depth",
    "Outbox pages not yet settled, by status (pending, sending).",
    ["status"],
    registry=REGISTRY,
)
DIGEST_LAG = Histogram(
    "nashra_digest_lag_seconds",
    "From a digest's due time to Telegram accepting its first page.",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600),
    registry=REGISTRY,
)
UPDATE_LATENCY = Histogram(
    "nashra_update_handling_seconds",
    "Time to handle one Telegram update, from its dispatch to the handler's return.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
LEADER = Gauge(
    "nashra_lock_held",
    "1 while this process holds the named singleton lock (poller, ticks).",
    ["lock"],
    registry=REGISTRY,
)
CLAIMS_RECOVERED = Counter(
    "nashra_claims_recovered",
    "Claims of dead workers taken back after their lease expired, by kind (feed, outbox).",
    ["kind"],
    registry=REGISTRY,
)


def render() -> bytes:
    """The registry in Prometheus text exposition format (version 0.0.4)."""
    return generate_latest(REGISTRY)


def value(name: str, labels: dict[str, str] | None = None) -> float:
    """A sample's current value by its exposed name (``nashra_messages_sent_total``); 0 when absent."""
    found = REGISTRY.get_sample_value(name, labels or {})
    return float(found) if found is not None else 0.0
