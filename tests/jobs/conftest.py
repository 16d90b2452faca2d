"""Fixtures shared by the jobs' tests that talk to the Bot API emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator import BotAPIEmulator


@pytest.fixture
def emu() -> Iterator[BotAPIEmulator]:
    """A Bot API emulator on loopback, reached over real HTTP (its flood limits as each test sets them)."""
    with BotAPIEmulator() as emulator:
        yield emulator
