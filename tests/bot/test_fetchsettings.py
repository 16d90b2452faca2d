"""``bot.fetchsettings``: read without pydantic only when ``Settings`` would read the same values."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from annotated_types import Ge, Gt, Le

from bot.dbsettings import SettingsError
from bot.fetchsettings import FLOATS, INTS, SETTINGS_FIELDS, FetchSettings, load_fetch_settings
from bot.settings import Settings, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.lower() in SETTINGS_FIELDS:
            monkeypatch.delenv(name)


def test_names_defaults_and_bounds_are_those_of_settings() -> None:
    assert set(Settings.model_fields) == SETTINGS_FIELDS
    for name, (default, low, high, *excluded) in {**INTS, **FLOATS}.items():
        field = Settings.model_fields[name]
        assert field.default == default == getattr(FetchSettings(), name), name
        bounds = {type(m): m for m in field.metadata}
        if excluded and excluded[0]:
            assert bounds[Gt].gt == low and Ge not in bounds, name
        else:
            assert bounds[Ge].ge == low, name
        assert (bounds[Le].le if Le in bounds else None) == high, name
    for name in FetchSettings.__dataclass_fields__:
        assert getattr(FetchSettings(), name) == Settings.model_fields[name].default, name


VALUES = {
    "fetch_interval_minutes": ["1", "15", "1440", "0", "1441", "soon", " 5", "5.0", "+5", "-1", ""],
    "fetch_concurrency": ["1", "256", "257", "0x10"],
    "fetch_max_bytes": ["1024", "1023", "99999999"],
    "fetch_max_redirects": ["0", "20", "21"],
    "fetch_timeout_seconds": ["0", "0.5", "600", "600.0", "600.1", "1e2", "nan", "5"],
    "ingest_lease_seconds": ["10", "9.99", "3600"],
    "fetch_allow_private_networks": ["true", "FALSE", "1", "0", "yes", "maybe", ""],
    "log_level": ["debug", ""],
    "telegram_bot_token": ["1:x", ""],
    "ingest_worker_process": ["auto", "on", "off", "OFF", "no", ""],
    "database_url": ["sqlite:///x.db", "postgresql://u@h/db", "mysql://h/db", "x.db"],
}


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, vs in VALUES.items() for v in vs])
def test_every_answer_is_what_settings_reads(name: str, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(name.upper(), value)
    light = load_fetch_settings(None)
    try:
        full = load_settings(None)
    except SettingsError:
        assert light is None  # a value Settings refuses: the full path reports it
        return
    if light is not None:
        for field in FetchSettings.__dataclass_fields__:
            assert getattr(light, field) == getattr(full, field), field
            assert type(getattr(light, field)) is type(getattr(full, field)), field


def test_plain_values_are_read_from_the_file_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "FETCH_INTERVAL_MINUTES=30\nfetch_allow_private_networks=true\nDATABASE_URL=sqlite:///x.db\n"
    )
    monkeypatch.setenv("fetch_interval_minutes", "45")
    light = load_fetch_settings(env)
    assert light == FetchSettings(
        database_url="sqlite:///x.db", fetch_allow_private_networks=True, fetch_interval_minutes=45
    )
    assert load_settings(env).fetch_interval_minutes == 45


@pytest.mark.parametrize("name", ["DEFAULT_TIMEZONE", "SEND_RATE_PER_SECOND", "ROLE", "OPERATOR_IDS"])
def test_any_other_setting_set_leaves_it_to_settings(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(name, "whatever")
    assert load_fetch_settings(None) is None


def test_a_line_without_a_value_leaves_it_to_settings(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("FETCH_PER_HOST\n")
    assert load_fetch_settings(env) is None
    env.write_text("UNRELATED\n")
    assert load_fetch_settings(env) == FetchSettings()


@pytest.mark.parametrize("mode", ["auto", "on", "off"])
def test_the_worker_process_mode_is_read_without_pydantic(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """INGEST_WORKER_PROCESS set (an operator turning the worker processes off) keeps `nashra fetch` on
    the light path: it used to send every fetch through pydantic (~0.1 s and ~10 MB more)."""
    monkeypatch.setenv("INGEST_WORKER_PROCESS", mode)
    assert load_fetch_settings(None) == FetchSettings(ingest_worker_process=mode)
