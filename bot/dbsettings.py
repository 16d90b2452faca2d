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


def database_url_problem(url: str) -> str | None:
    """What makes ``url`` unusable as ``DATABASE_URL`` (None: nothing seen), told before any driver is
    loaded. The message names the scheme only: the rest of the URL may hold a password."""
    scheme, sep, _ = url.strip().partition("://")
    backend = scheme.split("+", 1)[0].lower()
    if sep and backend in ("sqlite", "postgresql"):
        return None
    seen = f"{backend!r}" if sep else "no scheme"
    return f"unsupported database ({seen}): use sqlite:///path/to/nashra.db or postgresql://user@host/db"


def load_database_settings(env_file: str | Path | None = ".env") -> DatabaseSettings:
    """``DATABASE_URL`` and ``LOG_LEVEL`` from the environment, else ``env_file``, else the defaults."""
    values = {k: v for k, v in setting_values(env_file).items() if v is not None}
    url = values.get("database_url", DEFAULT_DATABASE_URL)
    if problem := database_url_problem(url):
        raise SettingsError(f"DATABASE_URL: {problem}")
    return DatabaseSettings(database_url=url, log_level=values.get("log_level", DEFAULT_LOG_LEVEL))
