"""``bot.runtime.Services``: the ingestion settings reach the ingestor an operator runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.runtime import Services
from bot.settings import SettingsError, load_settings
from storage.db import Database


@pytest.mark.parametrize(
    ("value", "long_running", "fork"),
    [
        ("auto", False, None),  # a one-shot command decides per pass
        ("auto", True, False),  # the bot and the worker roles never fork by default
        ("on", True, True),
        ("on", False, True),
        ("off", False, False),
    ],
)
async def test_ingest_worker_process_setting_reaches_the_ingestor(
    value: str, long_running: bool, fork: bool | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INGEST_WORKER_PROCESS", value)
    settings = load_settings(env_file=None)
    services = Services(settings, Database(f"sqlite:///{tmp_path / 'n.db'}"), long_running=long_running)
    try:
        assert services.ingestor.fork is fork
    finally:
        await services.aclose()


def test_an_unknown_ingest_worker_process_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_WORKER_PROCESS", "sometimes")
    with pytest.raises(SettingsError, match=r"INGEST_WORKER_PROCESS: .*'auto'"):
        load_settings(env_file=None)
