"""``bot.dbsettings``: the database-only commands read DATABASE_URL and LOG_LEVEL as ``Settings`` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.dbsettings import load_database_settings
from bot.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "database_url", "LOG_LEVEL", "log_level"):
        monkeypatch.delenv(name, raising=False)


def test_env_file_then_environment_then_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / ".env"
    env.write_text(
        '# a comment\nTELEGRAM_BOT_TOKEN=1:x\nDATABASE_URL="sqlite:///from/file.db"\nlog_level=debug\n',
        encoding="utf-8",
    )
    for loaded in (load_database_settings(env), load_settings(env)):
        assert (loaded.database_url, loaded.log_level) == ("sqlite:///from/file.db", "debug")

    monkeypatch.setenv("database_url", "postgresql://u@h/db")  # any letter case, as pydantic-settings
    for loaded in (load_database_settings(env), load_settings(env)):
        assert loaded.database_url == "postgresql://u@h/db"

    absent = tmp_path / "absent.env"
    monkeypatch.delenv("database_url")
    for loaded in (load_database_settings(absent), load_settings(absent)):
        assert (loaded.database_url, loaded.log_level) == ("sqlite:///data/nashra.db", "INFO")
