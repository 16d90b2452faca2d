"""Shared fixtures: a real database on every backend.

``db`` is parametrized over a SQLite file and the PostgreSQL on 127.0.0.1:5432. When nothing answers
there but PostgreSQL's programs are installed, a throwaway cluster in a temporary folder stands in
(``tests/pgcluster.py``); with neither, the run stops with one line saying what to install. A
PostgreSQL test is never skipped. Each test session gets its own PostgreSQL database (so parallel runs
on one machine do not collide), migrated once with the project's Alembic tree and emptied between tests.
"""

from __future__ import annotations

import os

# python-telegram-bot 22 warns (an error under our settings) when RetryAfter.retry_after is read as an int;
# this opts into its timedelta form, which the delivery code accepts either way.
os.environ.setdefault("PTB_TIMEDELTA", "1")
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from storage.db import Database
from storage.migrate import upgrade
from storage.schema import Base
from tests.pgcluster import INSTALL_HINT, ThrowawayCluster, find_bin_dir, server_answers

pytest_plugins = ("tests.feedserver",)

PG_ADMIN_DSN = os.environ.get("NASHRA_TEST_PG", "host=127.0.0.1 port=5432 dbname=test user=postgres")


@pytest.fixture(scope="session")
def pg_admin_dsn() -> Iterator[str]:
    """The server the suite creates its databases on: the usual one, or a throwaway cluster."""
    if "NASHRA_TEST_PG" in os.environ or server_answers(PG_ADMIN_DSN):
        yield PG_ADMIN_DSN
        return
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.exit(INSTALL_HINT, returncode=4)
    with ThrowawayCluster(bin_dir) as cluster:
        yield cluster.dsn


@pytest.fixture(scope="session")
def pg_url(pg_admin_dsn: str) -> Iterator[str]:
    name = f"nashra_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(pg_admin_dsn, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:  # pragma: no cover - environment failure
        pytest.fail(f"PostgreSQL is required for the test suite ({pg_admin_dsn}): {exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    info = admin.info
    url = f"postgresql://{info.user}@{info.host}:{info.port}/{name}"
    upgrade(url)
    try:
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database URL on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "nashra.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_url")
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with psycopg.connect(url.replace("postgresql://", "postgresql://", 1)) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    return url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def count_rows(database: Database, table: str) -> int:
    async with database.session() as s:
        return int((await s.execute(text(f"SELECT COUNT(*) FROM {table}"))).scalar_one())
