"""The operator's command line: ``nashra run``, ``nashra fetch``, ``nashra feeds …``, ``nashra db …``.

Every command reads settings once, reports a bad setting as one line, and exits non-zero on failure.
A command reads only the settings it uses (``SETTINGS_FULL``, ``SETTINGS_DATABASE`` or
``SETTINGS_NONE`` in its parser defaults): JSON Lines tools read none, ``feeds list`` only the database
URL, so neither pays for pydantic.
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

# Each command imports what it uses inside its handler: `nashra --help` or `nashra feeds list` must not
# pay for numpy, the topic model, feedparser or Telegram (importing every layer took ~0.7 s).
if TYPE_CHECKING:
    from bot.dbsettings import DatabaseSettings
    from bot.fetchsettings import FetchSettings
    from bot.settings import Settings
    from jobs.feedwork import WorkerProcesses
    from jobs.fetcher import Fetcher, FetchResult
    from jobs.outcomes import IngestSummary
    from news.opml import OPMLFeed
    from storage.feedinfo import FeedInfo

log = logging.getLogger("nashra")

Handler = Callable[["Settings", argparse.Namespace], Awaitable[int] | int]

# What a command's ``settings`` default asks ``main`` to read (the full ``Settings`` when not given).
SETTINGS_FULL = "full"
SETTINGS_DATABASE = "database"  # bot.dbsettings.DatabaseSettings: DATABASE_URL and LOG_LEVEL only
SETTINGS_NONE = "none"  # the handler gets None


class CLIError(Exception):
    """A user-facing failure: printed as one line, exit status 1."""


def _now() -> datetime:
    return datetime.now(UTC)


def _full_settings(env_file: str) -> Settings:
    from bot.settings import load_settings

    return load_settings(env_file)


def default_feeds() -> list[OPMLFeed]:
    from importlib import resources

    from bot.runtime import DEFAULT_FEEDS
    from news.opml import parse_opml

    return parse_opml(resources.files("bot").joinpath(DEFAULT_FEEDS).read_bytes())


# --- db ---------------------------------------------------------------------------------------------


def cmd_db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    from storage.migrate import current, upgrade

    upgrade(settings.database_url)
    print(f"database at revision {current(settings.database_url)}")
    return 0


def cmd_db_current(settings: Settings, _args: argparse.Namespace) -> int:
    from storage.migrate import current

    print(current(settings.database_url) or "empty (run: nashra db upgrade)")
    return 0


# --- feeds ------------------------------------------------------------------------------------------


async def cmd_feeds_add(settings: Settings, args: argparse.Namespace) -> int:
    from bot.runtime import services
    from jobs.urlguard import UnsafeURLError, check_url
    from storage import feeds as feed_store

    try:
        url = check_url(args.url, allow_private=settings.fetch_allow_private_networks)
    except UnsafeURLError as exc:
        raise CLIError(f"refused {args.url!r}: {exc}") from None
    async with services(settings) as svc, svc.db.session() as s, s.begin():
        try:
            feed = await feed_store.add_feed(s, url, title=args.title or "", now=_now())
        except feed_store.FeedExistsError as exc:
            raise CLIError(str(exc)) from None
    print(f"added feed #{feed.id}: {feed.url}")
    return 0


def cmd_feeds_list(settings: DatabaseSettings, args: argparse.Namespace) -> int:
    from storage.listing import list_feeds_readonly

    # The driver alone answers on a migrated database; otherwise the full path migrates first.
    feeds = list_feeds_readonly(settings.database_url)
    if feeds is None:
        from storage.migrate import upgrade

        upgrade(settings.database_url)
        feeds = list_feeds_readonly(settings.database_url)
    if feeds is None:  # a database the driver path does not open (e.g. in memory): the async engine
        import asyncio

        feeds = asyncio.run(_list_feeds_async(settings.database_url))
    if args.json:
        for f in feeds:
            print(
                json.dumps(
                    {
                        "id": f.id,
                        "url": f.url,
                        "title": f.title,
                        "status": f.status,
                        "articles": f.article_count,
                        "errors": f.error_count,
                        "last_error": f.last_error,
                        "last_ok_at": f.last_ok_at.isoformat() if f.last_ok_at else None,
                        "next_check_at": f.next_check_at.isoformat(),
                    },
                    ensure_ascii=False,
                )
            )
        return 0
    if not feeds:
        print("no feeds (add one: nashra feeds add URL, or: nashra feeds import --defaults)")
    for f in feeds:
        line = f"#{f.id:<4} {f.status:<8} {f.article_count:>6} articles  {f.url}"
        if f.title:
            line += f"  «{f.title}»"
        print(line)
        if f.last_error:
            print(f"       last error ({f.error_count}×): {f.last_error}")
    return 0


async def _list_feeds_async(url: str) -> list[FeedInfo]:
    from storage import feeds as feed_store
    from storage.db import Database

    db = Database(url)
    try:
        async with db.session() as s:
            return await feed_store.list_feeds(s)
    finally:
        await db.dispose()


async def cmd_feeds_remove(settings: Settings, args: argparse.Namespace) -> int:
    from bot.runtime import services
    from storage import feeds as feed_store

    async with services(settings) as svc, svc.db.session() as s, s.begin():
        removed = await feed_store.remove_feed(s, args.id)
    if not removed:
        raise CLIError(f"no feed #{args.id}")
    print(f"removed feed #{args.id} (its stored articles are kept)")
    return 0


async def import_feeds(settings: Settings, feeds: Sequence[OPMLFeed]) -> tuple[int, list[str]]:
    """Add every acceptable feed; returns (added, problems) so one bad line does not stop the rest."""
    from bot.runtime import services
    from jobs.urlguard import UnsafeURLError, check_url
    from storage import feeds as feed_store

    added, problems = 0, []
    async with services(settings) as svc:
        for f in feeds:
            try:
                url = check_url(f.url, allow_private=settings.fetch_allow_private_networks)
            except UnsafeURLError as exc:
                problems.append(f"refused {f.url}: {exc}")
                continue
            async with svc.db.session() as s, s.begin():
                try:
                    await feed_store.add_feed(s, url, title=f.title, now=_now())
                    added += 1
                except feed_store.FeedExistsError:
                    problems.append(f"already added: {url}")
    return added, problems


async def cmd_feeds_import(settings: Settings, args: argparse.Namespace) -> int:
    from news.opml import OPMLError, parse_opml

    if args.defaults:
        feeds = default_feeds()
    elif args.file:
        try:
            feeds = parse_opml(Path(args.file).read_bytes())
        except OSError as exc:
            raise CLIError(f"cannot read {args.file}: {exc.strerror}") from None
        except OPMLError as exc:
            raise CLIError(f"{args.file}: {exc}") from None
    else:
        raise CLIError("give an OPML file or --defaults")
    added, problems = await import_feeds(settings, feeds)
    for p in problems:
        print(f"  {p}", file=sys.stderr)
    print(f"imported {added} of {len(feeds)} feeds")
    return 0


async def cmd_feeds_export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.runtime import services
    from news.opml import OPMLFeed, to_opml
    from storage import feeds as feed_store

    async with services(settings) as svc, svc.db.session() as s:
        feeds = await feed_store.list_feeds(s)
    data = to_opml(
        (OPMLFeed(f.url, f.title, f.site_url) for f in feeds), title="Nashra feeds", created=_now()
    )
    if args.output and args.output != "-":
        Path(args.output).write_bytes(data)
        print(f"exported {len(feeds)} feeds to {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


# --- fetch ------------------------------------------------------------------------------------------


async def cmd_fetch(_settings: DatabaseSettings, args: argparse.Namespace) -> int:
    summary, queued = await _fetch_pass(args)
    if args.json:
        print(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        print(
            f"feeds ok: {summary.feeds_ok} (not modified: {summary.feeds_not_modified}), "
            f"failed: {summary.feeds_failed}; new articles: {summary.new}, duplicates: {summary.duplicates}"
        )
        for f in summary.failures:
            print(f"  failed #{f.feed_id} {f.url}: {f.error}")
        for f in summary.warnings:
            print(f"  read despite a problem #{f.feed_id} {f.url}: {f.warning}")
        if queued:
            print(f"breaking-news alerts queued: {queued}")
    return 0


def _held_workers(mode: str) -> WorkerProcesses | None:
    """The full pass's worker processes, forked now but held (``WorkerProcesses(held=True)``), when
    ``INGEST_WORKER_PROCESS`` allows them and a core is spare: forked before this process imports httpx
    or anything else, so that no worker carries what only this process uses."""
    from jobs.feedwork import WorkerProcesses, spare_cores

    if mode == "off" or spare_cores() < 1:
        return None
    return WorkerProcesses(held=True)


_FULL_PASS_MODULES = (
    "storage.db", "storage.migrate", "jobs.ingest", "jobs.stories", "storage.stories", "news.cluster",
    "jobs.alerts",
)  # fmt: skip
"""What a full fetch pass imports after its GETs (~0.3 s, SQLAlchemy most of it)."""


def _preload_full_pass() -> threading.Thread:
    """Import the full pass's modules on a thread, while this one waits for the GETs' answers.

    A module that fails to import is left to the full pass, which imports it again and reports the
    error there, as it would have without this thread.
    """
    import importlib

    def load() -> None:
        for name in _FULL_PASS_MODULES:
            try:
                importlib.import_module(name)
            except Exception:
                return

    thread = threading.Thread(target=load, name="preload", daemon=True)
    thread.start()
    return thread


def _wanted(mode: str, changed: int | None) -> bool:
    """Whether the pass ahead calls for the worker processes (``changed``: feeds it will parse;
    ``None``: unknown, decided later per batch, in this process)."""
    from jobs.feedwork import FORK_MIN_FEEDS

    return changed is not None and (mode == "on" or changed >= FORK_MIN_FEEDS)


async def _fetch_pass(args: argparse.Namespace) -> tuple[IngestSummary, int]:
    """(the pass's summary, alerts queued). Every due feed answering 304 ends the pass early
    (``jobs.unchanged``: no SQLAlchemy, feedparser or topic model, ~half of the time); otherwise the
    full ingestion runs, on the answers already received.

    The settings are read without pydantic when that gives what ``Settings`` would
    (``bot.fetchsettings``), for the full pass too; otherwise ``Settings`` reads and checks them all,
    reporting a bad one as every command does (``SettingsError``).
    """
    import asyncio
    from datetime import timedelta

    from bot.fetchsettings import load_fetch_settings

    settings: Settings | FetchSettings | None = load_fetch_settings(args.env_file)
    if settings is None:
        settings = _full_settings(args.env_file)
    # Forked first, held: started once the conditional GETs say the pass will parse enough feeds, so
    # that the loader process loads the pipeline on its core while this one opens the database (and
    # this one never loads the model); ended unused when they are all 304s.
    processes = _held_workers(settings.ingest_worker_process)
    mode = settings.ingest_worker_process
    preload: list[threading.Thread] = []
    try:
        from jobs.unchanged import unchanged_pass, without_validators
        from storage.conditional import due_feeds_readonly

        now = _now()
        due = due_feeds_readonly(settings.database_url, now, include_all=args.all)
        # Feeds without validators (new ones, and servers that send none) cannot answer 304: the full
        # pass will parse them. The loader loads the pipeline from here on, before this process imports
        # its HTTP client, and the full pass's modules load on a thread while the GETs are out.
        certain = None if due is None else without_validators(due)
        if processes is not None and certain is not None and _wanted(mode, certain):
            processes.start()
        from bot.runtime import fetch_policy
        from jobs.fetcher import Fetcher

        fetcher = Fetcher(fetch_policy(settings))
    except BaseException:
        if processes is not None:
            processes.close()
        raise
    try:
        if certain:
            preload.append(_preload_full_pass())

        def on_body(feed: FeedInfo, result: FetchResult) -> None:
            # The workers parse (and for a feed never read before, enrich) a body as soon as it arrives,
            # while this process still imports the full pass's modules and waits for the other answers.
            if processes is not None and processes.started:
                processes.submit_early(
                    result.body,
                    dict(result.headers),
                    result.final_url,
                    feed.outlet,
                    enrich=feed.never_read,
                )

        try:
            unchanged = await unchanged_pass(
                settings.database_url, fetcher, now, due=due,
                interval=timedelta(minutes=settings.fetch_interval_minutes), on_body=on_body,
            )  # fmt: skip
        finally:
            # Before this thread imports any of them (never two threads in one import cycle); the loop
            # meanwhile serves the GETs that may still be under way.
            for thread in preload:
                await asyncio.to_thread(thread.join)
        done = unchanged.summary is not None
        if processes is not None and (done or not _wanted(mode, unchanged.changed)):
            processes.close()
            processes = None
        if unchanged.summary is not None:
            await fetcher.aclose()
            return unchanged.summary, 0
        if processes is not None and not processes.started:
            processes.start()
    except BaseException:
        await fetcher.aclose()
        if processes is not None:
            processes.close()
        raise
    try:
        return await _full_pass(args, settings, fetcher, processes, now)
    finally:
        if processes is not None:
            await asyncio.to_thread(processes.close)


async def _full_pass(
    args: argparse.Namespace,
    settings: Settings | FetchSettings,
    fetcher: Fetcher,
    processes: WorkerProcesses | None,
    now: datetime,
) -> tuple[IngestSummary, int]:
    """The ingestion pass, then the alerts of the stories it broke. It opens only the database and
    builds only the ingestor (``bot.runtime.build_ingestor``), not ``Services``, which needs every
    setting: when the fetch settings were read without pydantic, pydantic is never imported.

    ``now`` is the time the due feeds were read at before the GETs: the pass claims the feeds that were
    fetched ahead, not also one that fell due a moment later (it would be fetched without its head start).
    """
    from bot.runtime import build_ingestor, open_database
    from jobs.ingest import FeedOutcome

    try:
        db = open_database(settings.database_url)
    except BaseException:
        await fetcher.aclose()
        raise
    try:
        ingestor = build_ingestor(settings, db, fetcher, long_running=False)
        show_progress = sys.stderr.isatty() and not args.json
        if show_progress:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            with Progress(
                TextColumn("fetching"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}")
            ) as progress:
                task = progress.add_task("", total=None)

                def started(n: int) -> None:
                    progress.update(task, total=n)

                def done(o: FeedOutcome) -> None:
                    progress.update(task, advance=1, description=f"+{o.new} {o.url[:60]}")

                summary = await ingestor.run(
                    now, include_all=args.all, on_feed=done, on_start=started, processes=processes
                )
        else:
            summary = await ingestor.run(now, include_all=args.all, processes=processes)
        # Stories that broke in this pass get their alerts queued here too (the bot's worker sends them):
        # a later pass would find nothing new and never look at them again.
        queued = 0
        if summary.new:
            from bot.digest_cli import alert_rules
            from jobs.alerts import run_alerts

            queued = (await run_alerts(db, _now(), rules=alert_rules(settings))).queued
    finally:
        await fetcher.aclose()
        await db.dispose()
    return summary, queued


# --- run --------------------------------------------------------------------------------------------


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from telegram.error import InvalidToken, NetworkError

    from bot.app import run_bot
    from bot.settings import SettingsError, parse_listen

    overrides: dict[str, object] = {}
    if args.role:
        overrides["role"] = args.role
    if args.listen:
        overrides["listen"] = args.listen
        try:
            parse_listen(args.listen)
        except ValueError as exc:
            raise CLIError(f"--listen {args.listen!r}: {exc}") from None
    if args.webhook_url:
        if not args.webhook_url.startswith("https://"):
            raise CLIError(f"--webhook-url {args.webhook_url!r}: must be an https:// URL")
        overrides["webhook_url"] = args.webhook_url
    if overrides:
        settings = settings.model_copy(update=overrides)
    if settings.webhook_url and not settings.listen:
        raise CLIError(
            "--webhook-url needs --listen HOST:PORT (where the TLS proxy forwards Telegram's posts)"
        )
    if settings.webhook_url and settings.role not in ("all", "updates"):
        raise CLIError(
            f"--webhook-url is for the roles that answer readers (all, updates), not {settings.role}"
        )
    if settings.role != "ingest":
        settings.require_token()
    try:
        run_bot(settings, speedup=args.speedup)
    except InvalidToken:
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN: Telegram refused this token — copy it again from @BotFather"
        ) from None
    except NetworkError as exc:
        raise CLIError(f"cannot reach the Bot API at {settings.telegram_api_url}: {exc.message}") from None
    return 0


# --- parser -----------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nashra", description="Nashra: Arabic news digests on Telegram")
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="start the bot (polling) with its scheduled jobs")
    p.add_argument(
        "--role",
        choices=("all", "updates", "ingest", "deliver"),
        help="what this process does (default: ROLE, else all); see README 'Running at scale'",
    )
    p.add_argument("--listen", metavar="HOST:PORT", help="serve /healthz and /metrics here (default: LISTEN)")
    p.add_argument(
        "--webhook-url",
        metavar="URL",
        help="receive updates by webhook at this https URL, served on --listen (default: WEBHOOK_URL)",
    )
    # For the Bot API emulator, whose flood windows can be shrunk: scales every send limit and window.
    p.add_argument("--speedup", type=float, default=1.0, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_run)

    db = sub.add_parser("db", help="database maintenance").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)
    db.add_parser("current", help="show the schema revision").set_defaults(func=cmd_db_current)

    feeds = sub.add_parser("feeds", help="manage feeds").add_subparsers(dest="feeds_command", required=True)
    p = feeds.add_parser("add", help="add a feed URL")
    p.add_argument("url")
    p.add_argument("--title", default="")
    p.set_defaults(func=cmd_feeds_add)
    p = feeds.add_parser("list", help="list feeds with their status")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_feeds_list, settings=SETTINGS_DATABASE)
    p = feeds.add_parser("remove", help="remove a feed by id")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_feeds_remove)
    p = feeds.add_parser("import", help="import feeds from an OPML file")
    p.add_argument("file", nargs="?")
    p.add_argument("--defaults", action="store_true", help="import the bundled list of Arabic outlets")
    p.set_defaults(func=cmd_feeds_import)
    p = feeds.add_parser("export", help="export feeds as OPML")
    p.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    p.set_defaults(func=cmd_feeds_export)

    p = sub.add_parser("fetch", help="one ingestion pass over due feeds")
    p.add_argument("--all", action="store_true", help="fetch every enabled feed, due or not")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=cmd_fetch, settings=SETTINGS_DATABASE)  # reads the rest itself (_fetch_pass)

    _register_extra_commands(sub)
    return parser


def _register_extra_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Commands owned by other modules register here, keeping this parser the single entry point."""
    from bot import digest_cli, tools

    tools.register(sub)
    digest_cli.register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from bot.dbsettings import SettingsError

    needs = getattr(args, "settings", SETTINGS_FULL)
    settings: object = None
    log_level = "INFO"
    if needs == SETTINGS_DATABASE:
        from bot.dbsettings import load_database_settings

        try:
            db_settings = load_database_settings(args.env_file)
        except SettingsError as exc:
            print(f"nashra: {exc}", file=sys.stderr)
            return 2
        settings, log_level = db_settings, db_settings.log_level
    elif needs != SETTINGS_NONE:
        from bot.settings import load_settings  # pydantic: not needed for --help or database-only commands

        try:
            full = load_settings(args.env_file)
        except SettingsError as exc:
            print(f"nashra: {exc}", file=sys.stderr)
            return 2
        settings, log_level = full, full.log_level
    level = logging.DEBUG if args.verbose else getattr(logging, log_level.upper(), logging.INFO)
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # httpx logs every request URL at INFO, and Bot API URLs carry the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # APScheduler announces every tick at INFO; PTB's JobQueue runs one every few seconds.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        result = args.func(settings, args)
        if isinstance(result, Coroutine):
            import asyncio

            result = asyncio.run(result)
        return int(result or 0)
    except SettingsError as exc:  # raised by a command, e.g. a token Telegram refuses
        print(f"nashra: {exc}", file=sys.stderr)
        return 2
    except CLIError as exc:
        print(f"nashra: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def run() -> NoReturn:
    """The ``nashra`` console script: ``main``, then an exit that skips tearing the interpreter down.

    Once a command has returned, Python's own shutdown only frees memory the kernel reclaims anyway:
    after a fetch pass (the story index, SQLAlchemy's caches, hundreds of modules) that took 0.15–0.25 s,
    up to a tenth of the pass, with nothing left to do. The exit handlers still run (``atexit``, which
    flushes logging) and the standard streams are flushed; when a thread other than this one is still
    running (nothing a command leaves behind, but a plugin might), the ordinary exit waits for it.
    """
    code = main()
    if any(t is not threading.main_thread() and not t.daemon for t in threading.enumerate()):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (``nashra … | head``): nothing left to write
            code = code or 1
    os._exit(code)


if __name__ == "__main__":
    run()
