"""``python -m tests.emulator --port N``: run the emulator as its own process (demo, crash tests).

Prints one line ``EMULATOR_READY <url> <token>`` on stdout once it listens, then serves until SIGTERM or
SIGINT. Drive it with :class:`tests.emulator.RemoteEmulator` or plain HTTP on ``/_control/<action>``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from tests.emulator.emulator import DEFAULT_TOKEN, BotAPIEmulator
from tests.emulator.faults import RateLimits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--bot-username", default="NashraTestBot")
    parser.add_argument("--no-privacy", action="store_true", help="the bot sees every group message")
    parser.add_argument("--rate-limits", action="store_true", help="enforce Telegram's flood limits")
    parser.add_argument("--speedup", type=float, default=1.0, help="shrink flood-limit windows")
    args = parser.parse_args(argv)

    limits = RateLimits(speedup=args.speedup) if args.rate_limits else None
    emulator = BotAPIEmulator(
        args.token, host=args.host, port=args.port, bot_username=args.bot_username,
        privacy_mode=not args.no_privacy, rate_limits=limits,
    )  # fmt: skip
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with emulator:
        print(f"EMULATOR_READY {emulator.url} {emulator.token}", flush=True)
        while not stop.wait(0.5):
            pass
    print("EMULATOR_STOPPED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
