"""Settings for running past one process: roles, --listen, and the paid-broadcast rate."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings, parse_listen


def test_a_rate_above_telegrams_free_limit_needs_paid_broadcasts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEND_RATE_PER_SECOND", "500")
    with pytest.raises(SettingsError, match="SEND_PAID_BROADCAST"):
        load_settings(None)
    monkeypatch.setenv("SEND_PAID_BROADCAST", "true")
    settings = load_settings(None)
    assert settings.send_rate_per_second == 500 and settings.send_paid_broadcast
    monkeypatch.setenv("SEND_RATE_PER_SECOND", "1001")  # Telegram's paid limit is 1,000 a second
    with pytest.raises(SettingsError, match="SEND_RATE_PER_SECOND"):
        load_settings(None)


def test_role_and_listen_are_checked_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLE", "ingest")
    monkeypatch.setenv("LISTEN", "0.0.0.0:9100")
    settings = load_settings(None)
    assert (settings.role, settings.listen) == ("ingest", "0.0.0.0:9100")
    monkeypatch.setenv("ROLE", "everything")
    with pytest.raises(SettingsError, match=r"^ROLE"):
        load_settings(None)
    monkeypatch.setenv("ROLE", "all")
    monkeypatch.setenv("LISTEN", "9100")
    with pytest.raises(SettingsError, match=r"^LISTEN: .*HOST:PORT"):
        load_settings(None)


def test_parse_listen_takes_ipv4_ipv6_and_names() -> None:
    assert parse_listen("127.0.0.1:9100") == ("127.0.0.1", 9100)
    assert parse_listen("[::1]:8443") == ("::1", 8443)
    assert parse_listen("metrics.internal:0") == ("metrics.internal", 0)
    for bad in ("", ":9100", "host:", "host:70000", "host:port"):
        with pytest.raises(ValueError):
            parse_listen(bad)
