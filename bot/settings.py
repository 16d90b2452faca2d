"""Settings: with ``bot.dbsettings``, the only reader of the environment and ``.env``.

Read once at start-up by the composition root and passed down as plain values; nothing else in the
project looks at ``os.environ``. ``bot.dbsettings`` reads two of these same settings, by the same rules,
for the commands that need nothing else (``nashra feeds list``) and must not pay for pydantic.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.dbsettings import DEFAULT_DATABASE_URL, DEFAULT_LOG_LEVEL, database_url_problem
from bot.dbsettings import SettingsError as SettingsError  # defined without pydantic, for the CLI

if TYPE_CHECKING:
    from jobs.sendbudget import SendLimits


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9100`` for IPv6) → (host, port); raises ``ValueError`` with the reason."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError("must be HOST:PORT, e.g. 127.0.0.1:9100")
    return host.strip("[]"), int(port)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = DEFAULT_DATABASE_URL
    fetch_allow_private_networks: bool = False
    operator_ids: Annotated[frozenset[int], NoDecode] = frozenset()

    fetch_interval_minutes: int = Field(default=15, ge=1, le=24 * 60)
    fetch_concurrency: int = Field(default=16, ge=1, le=256)
    fetch_per_host: int = Field(default=2, ge=1, le=32)
    fetch_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    fetch_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    fetch_max_redirects: int = Field(default=5, ge=0, le=20)

    default_timezone: str = "Asia/Riyadh"
    default_delivery_time: str = "07:00"
    digest_catch_up_hours: float = Field(default=6.0, ge=0, le=48)
    send_rate_per_second: float = Field(default=25.0, gt=0, le=1000)
    send_paid_broadcast: bool = False
    # Seconds a process's claim on a stored update lasts without renewal: how long a dead process's
    # unfinished updates wait before another process handles them.
    update_lease_seconds: float = Field(default=30.0, ge=1, le=3600)
    poll_timeout_seconds: float = Field(default=10.0, ge=0, le=50)
    # Only for the Bot API emulator, whose flood windows can be shrunk: scales every send limit.
    send_speedup: float = Field(default=1.0, gt=0, le=1000)
    alert_min_outlets: int = Field(default=3, ge=2, le=20)
    alert_window_minutes: int = Field(default=60, ge=1, le=24 * 60)
    alert_urgent_window_minutes: int = Field(default=30, ge=1, le=24 * 60)
    log_level: str = DEFAULT_LOG_LEVEL

    role: Literal["all", "updates", "ingest", "deliver"] = "all"
    webhook_url: str | None = None
    """``https://host/path``: Telegram posts updates there (behind a TLS proxy forwarding to ``LISTEN``)
    instead of the bot polling; unset polls (and deletes any webhook)."""
    webhook_secret: SecretStr | None = None
    """The ``X-Telegram-Bot-Api-Secret-Token`` Telegram sends; unset: derived from the bot token."""
    listen: str | None = None
    """``HOST:PORT`` for ``/healthz`` and ``/metrics``; unset serves nothing."""
    ingest_tick_seconds: float = Field(default=60.0, ge=0.2, le=3600)
    """How often an ``ingest`` worker looks for due feeds (``all`` uses its fixed 60 s tick)."""
    ingest_lease_seconds: float = Field(default=300.0, ge=10, le=3600)
    # auto: a one-shot ``nashra fetch`` with four feeds or more to parse forks two worker processes for
    # the Arabic work when a core is spare (~40% off a first pass's wall time, ~70 MB more across the
    # three processes while it lasts); the long-running bot and worker roles never fork (scale them with
    # ``ROLE=ingest`` processes). on: fork in those too; off: never, for machines short of memory.
    ingest_worker_process: Literal["auto", "on", "off"] = "auto"
    delivery_lease_seconds: float = Field(default=120.0, ge=10, le=3600)

    @model_validator(mode="after")
    def _paid_rate(self) -> Settings:
        # Telegram's free limit is about 30 messages a second; beyond it only paid broadcasts go.
        if self.send_rate_per_second > 30 and not self.send_paid_broadcast:
            raise ValueError(
                "SEND_RATE_PER_SECOND: above 30 needs SEND_PAID_BROADCAST=true (Telegram's paid broadcasts)"
            )
        return self

    @model_validator(mode="after")
    def _webhook_needs_a_listener(self) -> Settings:
        if self.webhook_url and not self.listen:
            raise ValueError("WEBHOOK_URL: webhook mode needs LISTEN (HOST:PORT the proxy forwards to)")
        return self

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if problem := database_url_problem(value):
            raise ValueError(problem)
        return value.strip()

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.strip().startswith("https://"):
            raise ValueError("must be an https:// URL (Telegram posts only to HTTPS)")
        return value.strip()

    @field_validator("webhook_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("1–256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    def webhook_secret_value(self) -> str:
        """The secret every replica sends to Telegram and expects back (derived when not set)."""
        if self.webhook_secret is not None:
            return self.webhook_secret.get_secret_value()
        from bot.webhook import derived_secret

        return derived_secret(self.require_token())

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parse_listen(value)
        return value.strip()

    @field_validator("operator_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            return frozenset(int(p) for p in parts if p)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("default_delivery_time")
    @classmethod
    def _check_time(cls, value: str) -> str:
        hh, _, mm = value.partition(":")
        if not (hh.isdigit() and mm.isdigit() and 0 <= int(hh) < 24 and 0 <= int(mm) < 60):
            raise ValueError("must be HH:MM")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}") from exc
        return value

    @property
    def bot_api_base_url(self) -> str:
        """Base URL python-telegram-bot appends the token and method to."""
        return f"{self.telegram_api_url}/bot"

    @property
    def bot_file_base_url(self) -> str:
        return f"{self.telegram_api_url}/file/bot"

    def send_limits(self) -> SendLimits:
        """Telegram's limits as this deployment keeps them (``jobs.sendbudget``)."""
        from jobs.sendbudget import SendLimits

        return SendLimits(per_second=self.send_rate_per_second).scaled(self.send_speedup)

    def require_token(self) -> str:
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value().strip():
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN: not set — create a bot with @BotFather and put its token in .env"
            )
        return self.telegram_bot_token.get_secret_value().strip()


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Read settings once; a bad value becomes a one-line ``SettingsError`` naming the setting."""
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        err = exc.errors()[0]
        if not err["loc"]:  # a check across settings names them itself
            raise SettingsError(str(err["msg"]).removeprefix("Value error, ")) from None
        name = str(err["loc"][0]).upper()
        raise SettingsError(f"{name}: {str(err['msg']).removeprefix('Value error, ')}") from None
