"""The operator CLI, run in-process through ``main()`` against a real database and a loopback feed server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from news.opml import parse_opml
from storage.migrate import script_heads
from tests.feedserver import FeedServer


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings for the CLI come from the environment, as an operator's would; no .env is read."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("FETCH_ALLOW_PRIVATE_NETWORKS", "true")
    monkeypatch.setenv("FETCH_TIMEOUT_SECONDS", "5")
    return tmp_path / "absent.env"


def run(env_file: Path, *args: str) -> int:
    return main(["--env-file", str(env_file), *args])


def test_fetch_json_reports_new_then_zero_on_unchanged_feeds(
    cli_env: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("bbc.xml", "skynews.xml"):
        assert run(cli_env, "feeds", "add", feed_server.url(f"/feeds/{name}")) == 0
    capsys.readouterr()

    assert run(cli_env, "fetch", "--all", "--json") == 0
    first = json.loads(capsys.readouterr().out)
    assert {"feeds_ok", "feeds_failed", "new", "duplicates"} <= first.keys()
    assert first["feeds_ok"] == 2 and first["feeds_failed"] == 0 and first["new"] == 60

    assert run(cli_env, "fetch", "--all", "--json") == 0
    second = json.loads(capsys.readouterr().out)
    assert second["new"] == 0 and second["feeds_ok"] == 2


def test_fetch_starts_its_worker_processes_before_the_pass_and_closes_them(
    cli_env: Path,
    feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every pass forks its loader process first, held; a first pass of several feeds starts it as soon as
    it knows it will parse them — new feeds have no validators, so before any GET is sent — (the loader
    builds the enricher), stores what a pass in one process stores, and no child outlives the command.
    An all-304 re-run ends the loader unused. ``INGEST_WORKER_PROCESS=off`` forks nothing."""
    import jobs.feedwork

    started: list[jobs.feedwork.WorkerProcesses] = []
    loading: list[jobs.feedwork.WorkerProcesses] = []
    real = jobs.feedwork.WorkerProcesses

    def spy(*args: object, **kwargs: object) -> jobs.feedwork.WorkerProcesses:
        started.append(real(*args, **kwargs))  # type: ignore[arg-type]
        return started[-1]

    gets_at_start: list[int] = []

    def start(self: jobs.feedwork.WorkerProcesses) -> None:
        loading.append(self)
        gets_at_start.append(len(feed_server.requests))
        self.pool.start()

    taken: list[bool] = []
    take_early = real.take_early

    def took(self: jobs.feedwork.WorkerProcesses, *args: Any, **kwargs: Any) -> Any:
        future = take_early(self, *args, **kwargs)
        taken.append(future is not None)
        return future

    monkeypatch.setattr(jobs.feedwork, "WorkerProcesses", spy)
    monkeypatch.setattr(real, "start", start)
    monkeypatch.setattr(real, "take_early", took)
    monkeypatch.setattr(jobs.feedwork, "spare_cores", lambda: 1)
    names = ["alarabiya.xml", "bbc.xml", "cnn.xml", "france24.xml", "skynews.xml"]
    for name in names:
        assert run(cli_env, "feeds", "add", feed_server.url(f"/feeds/{name}")) == 0
    capsys.readouterr()

    gets_before = len(feed_server.requests)
    assert run(cli_env, "fetch", "--all", "--json") == 0
    forked = json.loads(capsys.readouterr().out)
    assert len(started) == 1 and started[0].pids() == []  # started, then closed with the command
    assert loading == started and gets_at_start == [gets_before]  # once, before the GETs went out
    assert forked["feeds_ok"] == len(names) and forked["feeds_failed"] == 0 and forked["new"] > 100
    # Each body went to the workers as it arrived, parsed and enriched in one job (the feeds were new),
    # and the pass took that answer.
    assert taken == [True] * len(names)

    assert run(cli_env, "fetch", "--all", "--json") == 0
    assert json.loads(capsys.readouterr().out)["feeds_not_modified"] == len(names)
    assert len(started) == 2 and started[1].pids() == [] and loading == started[:1]  # never started

    # The same feeds as new ones (other URLs), in one process: the same counts.
    monkeypatch.setenv("INGEST_WORKER_PROCESS", "off")
    for name in names:
        assert run(cli_env, "feeds", "add", feed_server.url(f"/feeds/{name}?again")) == 0
    capsys.readouterr()
    assert run(cli_env, "fetch", "--all", "--json") == 0
    alone = json.loads(capsys.readouterr().out)
    assert len(started) == 2  # nothing forked
    assert alone["feeds_ok"] == 2 * len(names) and alone["feeds_not_modified"] == len(names)
    assert alone["new"] + alone["duplicates"] == forked["new"] + forked["duplicates"]


def test_fetch_without_all_only_takes_due_feeds(
    cli_env: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    run(cli_env, "feeds", "add", feed_server.url("/feeds/cnn.xml"))
    run(cli_env, "fetch", "--json")
    capsys.readouterr()
    assert run(cli_env, "fetch", "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["feeds_ok"] == 0 and again["new"] == 0  # checked a moment ago: not due yet


def test_feeds_list_shows_status_and_last_error(
    cli_env: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    run(cli_env, "feeds", "add", feed_server.url("/feeds/bbc.xml"))
    run(cli_env, "feeds", "add", feed_server.route("/down", status=503, body=b"x"))
    run(cli_env, "fetch", "--all")
    capsys.readouterr()
    assert run(cli_env, "feeds", "list", "--json") == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_status = {r["status"]: r for r in rows}
    assert by_status["ok"]["articles"] == 30
    assert "503" in by_status["failing"]["last_error"]
    assert run(cli_env, "feeds", "list") == 0
    text = capsys.readouterr().out
    assert "failing" in text and "last error" in text


def test_add_refuses_duplicates_and_unsafe_urls(
    cli_env: Path,
    feed_server: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = feed_server.url("/feeds/bbc.xml")
    assert run(cli_env, "feeds", "add", url) == 0
    assert run(cli_env, "feeds", "add", url) == 1
    assert "already" in capsys.readouterr().err
    assert run(cli_env, "feeds", "add", "ftp://example.org/feed") == 1
    assert "refused" in capsys.readouterr().err
    monkeypatch.setenv("FETCH_ALLOW_PRIVATE_NETWORKS", "false")
    assert run(cli_env, "feeds", "add", "http://127.0.0.1:9/feed.xml") == 1
    assert run(cli_env, "feeds", "add", "http://2130706433/feed.xml") == 1


def test_opml_export_import_round_trip_and_remove(
    cli_env: Path, feed_server: FeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = [feed_server.url(f"/feeds/{n}") for n in ("bbc.xml", "cnn.xml")]
    for u in urls:
        run(cli_env, "feeds", "add", u, "--title", "أخبار")
    out = tmp_path / "feeds.opml"
    assert run(cli_env, "feeds", "export", "-o", str(out)) == 0
    exported = parse_opml(out.read_bytes())
    assert sorted(f.url for f in exported) == sorted(urls)
    assert {f.title for f in exported} == {"أخبار"}

    assert run(cli_env, "feeds", "remove", "1") == 0
    assert run(cli_env, "feeds", "remove", "1") == 1
    capsys.readouterr()
    assert run(cli_env, "feeds", "import", str(out)) == 0
    assert "imported 1 of 2" in capsys.readouterr().out  # the other one is still there


def test_import_defaults_and_bad_opml(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(cli_env, "feeds", "import", "--defaults") == 0
    assert "imported 7 of 7" in capsys.readouterr().out
    bad = tmp_path / "bad.opml"
    bad.write_text("<html><body>no</body></html>", encoding="utf-8")
    assert run(cli_env, "feeds", "import", str(bad)) == 1
    assert "expected <opml>" in capsys.readouterr().err
    bomb = tmp_path / "bomb.opml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE o [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        '<opml><body><outline xmlUrl="&b;"/></body></opml>',
        encoding="utf-8",
    )
    assert run(cli_env, "feeds", "import", str(bomb)) == 1


def test_other_commands_never_add_feeds(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(cli_env, "fetch", "--json") == 0
    assert json.loads(capsys.readouterr().out)["feeds_ok"] == 0
    assert run(cli_env, "feeds", "list", "--json") == 0
    assert capsys.readouterr().out == ""


def test_malformed_setting_is_one_line_naming_it(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FETCH_INTERVAL_MINUTES", "soon")
    assert run(cli_env, "fetch") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nashra: FETCH_INTERVAL_MINUTES") and "\n" not in err
    # `feeds list` reads DATABASE_URL alone (bot.dbsettings): a setting it does not use cannot stop it.
    assert run(cli_env, "feeds", "list") == 0
    assert "no feeds" in capsys.readouterr().out


def test_run_without_token_says_how_to_get_one(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(cli_env, "run") == 2
    err = capsys.readouterr().err
    assert "TELEGRAM_BOT_TOKEN" in err and "BotFather" in err


def test_run_with_an_unreachable_bot_api_is_one_clear_line(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("TELEGRAM_API_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    assert run(cli_env, "run") == 1
    err = capsys.readouterr().err
    assert f"nashra: cannot reach the Bot API at http://127.0.0.1:{port}" in err


def test_the_bot_package_opts_in_to_timedelta_so_flood_waits_log_no_warning() -> None:
    """A fresh interpreter without PTB_TIMEDELTA: importing the bot sets it, and RetryAfter stays quiet."""
    env = {k: v for k, v in os.environ.items() if k != "PTB_TIMEDELTA"}
    code = (
        "import warnings, bot, os; warnings.simplefilter('error');"
        "from telegram.error import RetryAfter;"
        "print(os.environ['PTB_TIMEDELTA'], RetryAfter(3).retry_after.total_seconds())"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "3.0"]


def _fresh_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True)


def _fetch_in_a_fresh_process(
    env_file: Path, db_url: str, heavy: tuple[str, ...], *, prelude: str = ""
) -> tuple[dict[str, object], list[str]]:
    """``nashra fetch --all --json`` in a new interpreter: its summary, and which of ``heavy`` it imported."""
    env = {**os.environ, "DATABASE_URL": db_url, "FETCH_ALLOW_PRIVATE_NETWORKS": "true"}
    code = (
        f"import sys\nfrom bot.cli import main\n{prelude}"
        f"main(['--env-file', {str(env_file)!r}, 'fetch', '--all', '--json'])\n"
        f"print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))"
    )
    done = _fresh_python("import json\n" + code, env)
    assert done.returncode == 0, done.stderr
    summary, loaded = done.stdout.strip().splitlines()
    return json.loads(summary), json.loads(loaded)


def test_each_command_loads_only_what_it_uses(db_url: str, tmp_path: Path) -> None:
    """`--help` loads no layer at all and `feeds list` no Arabic pipeline, HTTP client or Telegram, nor
    SQLAlchemy or pydantic (the driver and DATABASE_URL are all it needs): importing every layer made
    each command pay ~0.7 s before doing anything."""
    env = {**os.environ, "DATABASE_URL": db_url}
    heavy = ["numpy", "feedparser", "httpx", "telegram", "alembic", "news.classifier", "jobs.ingest"]
    code = (
        "import sys\nfrom bot.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {heavy!r} + ['sqlalchemy', 'pydantic'] if m in sys.modules))"
    )
    done = _fresh_python(code.replace("sys.argv[1:]", "['--help']"), env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"

    absent = tmp_path / "absent.env"
    argv = f"['--env-file', {str(absent)!r}, 'feeds', 'list']"
    done = _fresh_python(code.replace("sys.argv[1:]", argv), env)
    assert done.returncode == 0, done.stderr
    assert "no feeds" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_console_script_skips_the_teardown_but_not_the_exit_handlers(db_url: str, tmp_path: Path) -> None:
    """``nashra`` (``bot.cli.run``) ends without Python's teardown (0.15–0.25 s after a fetch pass), yet
    what was printed is flushed, ``atexit`` handlers run, the command's exit code is kept, and a
    thread still running is waited for (the ordinary exit, then)."""
    env = {**os.environ, "DATABASE_URL": db_url}
    marker = tmp_path / "marker"
    argv = ["nashra", "--env-file", str(tmp_path / "absent.env"), "feeds", "list"]
    code = (
        "import atexit, sys, threading, time\nfrom bot.cli import run\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'a').write('atexit\\n'))\n"
        "sys.stdout.write('printed before; ')\n"  # a pipe is block-buffered: lost unless flushed
        "THREAD\n"
        f"sys.argv = {argv!r}\nrun()\nprint('run returned')\n"
    )
    done = _fresh_python(code.replace("THREAD", ""), env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("printed before; ") and "no feeds" in done.stdout
    assert "run returned" not in done.stdout
    assert marker.read_text() == "atexit\n"

    marker.unlink()
    late = f"open({str(marker)!r}, 'a').write('thread\\n')"
    thread = f"threading.Thread(target=lambda: (time.sleep(0.3), {late})).start()"
    done = _fresh_python(code.replace("THREAD", thread), env)
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "thread\natexit\n"

    done = _fresh_python(code.replace("THREAD", ""), {**env, "DATABASE_URL": "mysql://db.example/x"})
    assert done.returncode == 2 and "unsupported database" in done.stderr


@pytest.mark.parametrize("command", [["feeds", "list"], ["fetch"], ["db", "upgrade"]])
@pytest.mark.parametrize("url", ["mysql://reader:s3cret@db.example/news", "data/nashra.db"])
def test_an_unsupported_database_url_is_one_line_naming_the_setting(
    command: list[str],
    url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every kind of command (database-only settings, the fetch settings, the full ones) says what is
    wrong with DATABASE_URL before any driver is loaded, and never repeats its password."""
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    assert main(["--env-file", str(tmp_path / "absent.env"), *command]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nashra: DATABASE_URL: unsupported database") and err.count("\n") == 1
    assert "s3cret" not in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no SQLite file or folder was made on the way


def test_json_lines_tools_read_no_settings(tmp_path: Path) -> None:
    """`nashra classify` reads no setting, so it does not import pydantic (~0.2 s) nor touch a database;
    a malformed setting that it does not use cannot stop it."""
    env = {**os.environ, "FETCH_CONCURRENCY": "many", "DATABASE_URL": "sqlite:////nonexistent/dir/x.db"}
    code = (
        "import io, sys\nfrom bot.cli import main\n"
        'sys.stdin = io.StringIO(\'{"title": "المنتخب يفوز بالمباراة النهائية"}\\n\')\n'
        f"code = main(['--env-file', {str(tmp_path / 'absent.env')!r}, 'classify'])\n"
        "print(code, sorted(m for m in ('pydantic', 'sqlalchemy') if m in sys.modules))"
    )
    done = _fresh_python(code, env)
    assert done.returncode == 0, done.stderr
    out, loaded = done.stdout.strip().splitlines()
    assert json.loads(out)["topic"] == "sport"
    assert loaded == "0 []"


def test_commands_on_a_migrated_database_log_nothing_from_alembic(db_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": db_url, "LOG_LEVEL": "INFO"}
    nashra = [sys.executable, "-m", "bot.cli", "--env-file", str(tmp_path / "absent.env")]
    root = Path(__file__).resolve().parents[2]
    for args in (["feeds", "list"], ["db", "upgrade"], ["db", "current"]):
        done = subprocess.run([*nashra, *args], env=env, cwd=root, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert "alembic" not in done.stderr, (args, done.stderr)
    assert done.stdout.strip() == " ".join(sorted(script_heads()))


def test_an_unchanged_re_run_loads_no_arabic_pipeline(
    cli_env: Path, db_url: str, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """When every feed answers 304 there is nothing to parse, classify or cluster: a fresh process
    must not import feedparser or numpy, nor read the story index's window from the database; the
    validators are read and the schedules moved through the bare driver, without SQLAlchemy, and
    the fetch settings read without pydantic."""
    for name in ("bbc.xml", "cnn.xml"):
        assert run(cli_env, "feeds", "add", feed_server.url(f"/feeds/{name}")) == 0
    assert run(cli_env, "fetch", "--all", "--json") == 0
    capsys.readouterr()
    heavy = ("numpy", "feedparser", "news.cluster", "news.classifier", "sqlalchemy", "pydantic")
    summary, loaded = _fetch_in_a_fresh_process(cli_env, db_url, heavy)
    assert summary["feeds_not_modified"] == 2
    assert summary["new"] == 0
    assert loaded == []


def test_a_full_fetch_pass_reads_its_settings_without_pydantic_and_never_loads_the_model_here(
    cli_env: Path, db_url: str, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A first pass of several feeds in a fresh process: its worker processes parse, clean, classify and
    sign, so this one imports neither feedparser nor the cleaning patterns nor the topic model's code
    nor numpy (it only compares signatures) nor pydantic (the fetch and alert settings are read without
    it) nor Telegram; and they are forked before it imports httpx."""
    names = ["alarabiya.xml", "bbc.xml", "cnn.xml", "france24.xml", "skynews.xml"]
    for name in names:
        assert run(cli_env, "feeds", "add", feed_server.url(f"/feeds/{name}")) == 0
    capsys.readouterr()
    heavy = (
        "feedparser", "news.parse", "news.clean", "news.classifier", "numpy", "pydantic",
        "pydantic_settings", "telegram",
    )  # fmt: skip
    prelude = (
        "import jobs.feedwork\njobs.feedwork.spare_cores = lambda: 1\n"  # fork even on one core
        # The workers are forked before this process imports its HTTP client: they do not carry it.
        "_init = jobs.feedwork.WorkerProcesses.__init__\n"
        "def _forked_before_httpx(self, *args, **kwargs):\n"
        "    assert 'httpx' not in sys.modules, 'workers forked after httpx was imported'\n"
        "    _init(self, *args, **kwargs)\n"
        "jobs.feedwork.WorkerProcesses.__init__ = _forked_before_httpx\n"
    )
    summary, loaded = _fetch_in_a_fresh_process(cli_env, db_url, heavy, prelude=prelude)
    assert summary["feeds_ok"] == len(names) and summary["new"] > 100
    assert loaded == []


def test_feeds_list_on_a_fresh_sqlite_file_migrates_it_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The driver-only listing answers only for a database at the heads; a new file takes the full path."""
    path = tmp_path / "sub" / "fresh.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    assert run(tmp_path / "absent.env", "feeds", "list") == 0
    assert "no feeds" in capsys.readouterr().out
    assert run(tmp_path / "absent.env", "db", "current") == 0
    assert capsys.readouterr().out.strip() == " ".join(sorted(script_heads()))
