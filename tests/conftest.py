"""Shared fixtures: a real database on every backend.

``db`` is parametrized over a SQLite file and the PostgreSQL on 127.0.0.1:5432. A missing PostgreSQL
fails the run; it is never skipped. Each test session gets its own PostgreSQL database (so parallel runs
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

pytest_plugins = ("tests.feedserver",)

PG_ADMIN_DSN = os.environ.get("NASHRA_TEST_PG", "host=127.0.0.1 port=5432 dbname=test user=postgres")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"nashra_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:  # pragma: no cover - environment failure
        pytest.fail(f"PostgreSQL is required for the test suite ({PG_ADMIN_DSN}): {exc}")
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
