"""The settings ``nashra fetch`` needs, read without pydantic when that is sure to agree.

Validating every setting through pydantic-settings costs ~0.1–0.2 s of imports and ~12 MB: more than a
third of a pass in which every feed answers 304 (``jobs.unchanged``), and time on the critical path of
a full pass (the process that stores and matches stories). ``load_fetch_settings`` reads the fetch
settings by the rules of ``bot.settings.Settings`` (``bot.dbsettings``: the environment in any
letter case over the ``.env`` file, the same defaults), but answers only when pydantic could not
answer otherwise: every setting that is set is one of these, written plainly (digits, ``true`` /
``false``) and within the same bounds. Anything else (an unknown form, a value out of range, any other
setting of ``Settings`` being set at all) gives ``None``, and the caller reads the full ``Settings``,
which accepts or reports it exactly as before. A test holds the names, defaults and bounds here to
those of ``Settings``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.dbsettings import DEFAULT_DATABASE_URL, DEFAULT_LOG_LEVEL, database_url_problem, setting_values

# Every field of ``bot.settings.Settings`` (a test checks the list): any of them set, other than the
# ones read here, sends the command to the full settings.
SETTINGS_FIELDS = frozenset(
    {
        "telegram_bot_token", "telegram_api_url", "database_url", "fetch_allow_private_networks",
        "operator_ids", "fetch_interval_minutes", "fetch_concurrency", "fetch_per_host",
        "fetch_timeout_seconds", "fetch_max_bytes", "fetch_max_redirects", "default_timezone",
        "default_delivery_time", "digest_catch_up_hours", "send_rate_per_second", "send_paid_broadcast",
        "update_lease_seconds", "poll_timeout_seconds", "send_speedup", "alert_min_outlets",
        "alert_window_minutes", "alert_urgent_window_minutes", "log_level", "role", "webhook_url",
        "webhook_secret", "listen", "ingest_tick_seconds", "ingest_lease_seconds",
        "delivery_lease_seconds", "ingest_worker_process",
    }
)  # fmt: skip
# name → (default, lowest, highest, lowest excluded): the bounds of ``Settings``' fields.
INTS: dict[str, tuple[int, int, int | None]] = {
    "fetch_interval_minutes": (15, 1, 24 * 60),
    "fetch_concurrency": (16, 1, 256),
    "fetch_per_host": (2, 1, 32),
    "fetch_max_bytes": (5 * 1024 * 1024, 1024, None),
    "fetch_max_redirects": (5, 0, 20),
    "alert_min_outlets": (3, 2, 20),
    "alert_window_minutes": (60, 1, 24 * 60),
    "alert_urgent_window_minutes": (30, 1, 24 * 60),
}
FLOATS: dict[str, tuple[float, float, float, bool]] = {
    "fetch_timeout_seconds": (30.0, 0.0, 600.0, True),
    "ingest_lease_seconds": (300.0, 10.0, 3600.0, False),
}
# Set or not, these never make a value pydantic would refuse (a token is any string): allowed.
ANY_TEXT = frozenset({"telegram_bot_token", "database_url", "log_level"})
_PLAIN_INT = re.compile(r"[0-9]{1,18}")
_PLAIN_FLOAT = re.compile(r"[0-9]{1,9}(\.[0-9]{1,9})?")
_BOOLS = {"true": True, "false": False, "1": True, "0": False}
_WORKER_MODES = frozenset({"auto", "on", "off"})  # ``Settings``' Literal: exactly these spellings


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """The fields of ``Settings`` that a fetch pass reads, under the same names."""

    database_url: str = DEFAULT_DATABASE_URL
    log_level: str = DEFAULT_LOG_LEVEL
    fetch_allow_private_networks: bool = False
    fetch_interval_minutes: int = INTS["fetch_interval_minutes"][0]
    fetch_concurrency: int = INTS["fetch_concurrency"][0]
    fetch_per_host: int = INTS["fetch_per_host"][0]
    fetch_max_bytes: int = INTS["fetch_max_bytes"][0]
    fetch_max_redirects: int = INTS["fetch_max_redirects"][0]
    fetch_timeout_seconds: float = FLOATS["fetch_timeout_seconds"][0]
    ingest_lease_seconds: float = FLOATS["ingest_lease_seconds"][0]
    alert_min_outlets: int = INTS["alert_min_outlets"][0]
    alert_window_minutes: int = INTS["alert_window_minutes"][0]
    alert_urgent_window_minutes: int = INTS["alert_urgent_window_minutes"][0]
    ingest_worker_process: str = "auto"


def load_fetch_settings(env_file: str | Path | None = ".env") -> FetchSettings | None:
    """The fetch settings, or None when only the full ``Settings`` may answer (see the docstring)."""
    values = {k: v for k, v in setting_values(env_file).items() if k in SETTINGS_FIELDS}
    read: dict[str, object] = {}
    for name, value in values.items():
        if value is None:
            return None
        if name in ANY_TEXT:
            if name == "database_url" and database_url_problem(value):
                return None  # ``Settings`` reports it
            if name != "telegram_bot_token":
                read[name] = value
        elif name == "ingest_worker_process" and value in _WORKER_MODES:
            read[name] = value
        elif name == "fetch_allow_private_networks" and value.lower() in _BOOLS:
            read[name] = _BOOLS[value.lower()]
        elif name in INTS and _PLAIN_INT.fullmatch(value):
            _, low, high = INTS[name]
            number = int(value)
            if number < low or (high is not None and number > high):
                return None
            read[name] = number
        elif name in FLOATS and _PLAIN_FLOAT.fullmatch(value):
            _, low_f, high_f, excluded = FLOATS[name]
            real = float(value)
            if real < low_f or (excluded and real == low_f) or real > high_f:
                return None
            read[name] = real
        else:
            return None
    return FetchSettings(**read)  # type: ignore[arg-type]
