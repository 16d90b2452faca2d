"""The two settings a database-only command needs, read without pydantic.

``nashra feeds list`` needs ``DATABASE_URL`` (and ``LOG_LEVEL``); validating every setting through
pydantic-settings costs ~0.2 s of imports, most of such a command's time. The rules are those of
``bot.settings.Settings``: a variable of the environment (any letter case) overrides the ``.env``
file, and a missing one takes the same default. Other settings are not read, so a malformed unrelated
setting does not stop a listing; every command that uses them still reads ``Settings``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///data/nashra.db"
DEFAULT_LOG_LEVEL = "INFO"


class SettingsError(Exception):
    """A missing or malformed setting, phrased as one line naming the setting."""


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    database_url: str = DEFAULT_DATABASE_URL
    log_level: str = DEFAULT_LOG_LEVEL


def setting_values(env_file: str | Path | None = ".env") -> dict[str, str | None]:
    """Every variable as ``Settings`` sees it: names in lower case, the environment over ``env_file``.

    A line of the file without ``=`` gives None (pydantic-settings would not read it as a value).
    """
    values: dict[str, str | None] = {}
    if env_file is not None and Path(env_file).expanduser().is_file():
        from dotenv import dotenv_values  # what pydantic-settings itself reads .env files with

        values = {k.lower(): v for k, v in dotenv_values(env_file, encoding="utf-8").items()}
    values.update((k.lower(), v) for k, v in os.environ.items())
    return values


def load_database_settings(env_file: str | Path | None = ".env") -> DatabaseSettings:
    """``DATABASE_URL`` and ``LOG_LEVEL`` from the environment, else ``env_file``, else the defaults."""
    values = {k: v for k, v in setting_values(env_file).items() if v is not None}
    return DatabaseSettings(
        database_url=values.get("database_url", DEFAULT_DATABASE_URL),
        log_level=values.get("log_level", DEFAULT_LOG_LEVEL),
    )
