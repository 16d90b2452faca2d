"""A burst of readers: N people press /start at the same moment; how long until the last one is answered?

The Bot API emulator runs as its own process with Telegram's flood limits enforced (30 messages a second
overall, one a second per private chat, 429 with ``retry_after`` beyond); the bot is the real ``nashra
run`` in another process, with its database in a SQLite file (or ``--database`` PostgreSQL). For each N the
benchmark starts a fresh bot, has N new readers send /start in one go, and reads from the emulator's call
log when each reader's first answer arrived. Printed per N:

* p50 / p95 / max seconds from the burst to a reader's answer, beside the lower bound that Telegram's
  rate sets (N / 30 s): nobody can answer N readers faster;
* the share of Telegram's allowed rate reached (N answers over the time to the last one, against 30/s);
* 429s the emulator answered, readers never answered, and the bot process's peak memory.

``--speedup S`` shrinks the emulator's windows and the bot's limits S times (for N = 10,000 in a minute
rather than six); times are then printed scaled back to Telegram's real clock.

    .venv/bin/python -m benchmarks.burst [--n 100 1000] [--speedup 1] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.fanout import start_emulator
from storage import feeds as feed_store
from storage.db import Database
from storage.migrate import upgrade
from tests.emulator import AsyncRemoteEmulator

ROOT = Path(__file__).resolve().parent.parent
TELEGRAM_RATE = 30.0


async def prepare_database(url: str) -> None:
    """Migrated, with one feed so that the bot does not load (and try to fetch) the bundled outlets."""
    upgrade(url)
    db = Database(url)
    try:
        async with db.session() as s, s.begin():
            if not await feed_store.count_feeds(s):
                from datetime import UTC, datetime

                await feed_store.add_feed(s, "http://127.0.0.1:9/rss", now=datetime.now(UTC))
    finally:
        await db.dispose()


def start_bot(emu_url: str, token: str, db_url: str, speedup: float) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PTB_TIMEDELTA": "1",
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_URL": emu_url,
        "DATABASE_URL": db_url,
        "SEND_SPEEDUP": str(speedup),
        "POLL_TIMEOUT_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux ``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """The process's high-water resident memory (Linux ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def one_burst(remote: AsyncRemoteEmulator, n: int, speedup: float, give_up: float) -> dict[str, float]:
    users = await remote.create_users(count=n)
    ids = {u["id"] for u in users}
    since = len(await remote.calls())
    started = time.time()
    await remote.send_commands(users=sorted(ids), command="start")
    first: dict[int, float] = {}
    deadline = time.monotonic() + give_up
    seen = since
    while len(first) < n and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        calls = await remote.calls(since=seen)
        seen += len(calls)
        for call in calls:
            raw = str(call.get("chat_id"))
            chat = int(raw) if raw.lstrip("-").isdigit() else None
            if call["method"] == "sendMessage" and call["ok"] and chat in ids and chat not in first:
                first[chat] = call["at"] - started
    state = await remote.state()
    latencies = sorted(first.values())
    last = latencies[-1] if latencies else float("nan")
    return {
        "n": n,
        "answered": len(first),
        "p50": statistics.median(latencies) * speedup if latencies else float("nan"),
        "p95": latencies[int(0.95 * (len(latencies) - 1))] * speedup if latencies else float("nan"),
        "max": last * speedup,
        "bound": n / TELEGRAM_RATE,
        "share": (n / TELEGRAM_RATE) / (last * speedup) if latencies else 0.0,
        "429": float(state["rate_limit_hits"]),
    }


async def run(ns: list[int], speedup: float, database: str | None) -> None:
    emu, emu_url, token = start_emulator(speedup)
    rows: list[dict[str, float]] = []
    try:
        async with AsyncRemoteEmulator(emu_url) as remote:
            for n in ns:
                with tempfile.TemporaryDirectory() as tmp:
                    db_url = database or f"sqlite:///{tmp}/burst.db"
                    await prepare_database(db_url)
                    bot = start_bot(emu_url, token, db_url, speedup)
                    try:
                        await remote.wait_until_polling(timeout=60)
                        give_up = 3 * n / TELEGRAM_RATE / speedup + 60
                        cpu_before = cpu_seconds(bot.pid)
                        row = await one_burst(remote, n, speedup, give_up)
                        row["cpu"] = cpu_seconds(bot.pid) - cpu_before
                        row["rss"] = peak_rss_mb(bot.pid)
                    finally:
                        bot.send_signal(signal.SIGTERM)
                        _, err = bot.communicate(timeout=60)
                    tracebacks = err.decode().count("Traceback")
                    row["tracebacks"] = float(tracebacks)
                    rows.append(row)
                    print(
                        f"N={n:>6}: answered {int(row['answered'])}/{n}, p50 {row['p50']:.1f} s, "
                        f"p95 {row['p95']:.1f} s, max {row['max']:.1f} s (bound {row['bound']:.1f} s), "
                        f"{row['share']:.0%} of the allowed rate, 429s {int(row['429'])}, "
                        f"tracebacks {tracebacks}, bot CPU {row['cpu']:.1f} s, peak RSS {row['rss']:.0f} MB",
                        flush=True,
                    )
    finally:
        emu.terminate()
        emu.wait(timeout=10)
    print()
    print("| readers | answered | p50 s | p95 s | max s | N/30 s | share | 429s | CPU s | RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {int(r['n']):,} | {int(r['answered']):,} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} "
            f"| {r['bound']:.1f} | {r['share']:.0%} | {int(r['429'])} | {r['cpu']:.1f} | {r['rss']:.0f} |"
        )
    if speedup != 1:
        print(f"(emulator and bot ran {speedup:g}× faster; times are scaled back to Telegram's clock)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, nargs="+", default=[100, 1000], help="readers per burst")
    parser.add_argument("--speedup", type=float, default=1.0, help="shrink Telegram's windows (default 1)")
    parser.add_argument("--database", help="a PostgreSQL URL (default: a fresh SQLite file per burst)")
    args = parser.parse_args()
    asyncio.run(run(args.n, args.speedup, args.database))


if __name__ == "__main__":
    main()
