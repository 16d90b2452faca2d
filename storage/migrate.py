"""Apply the Alembic migration tree programmatically, so operators need no alembic.ini.

Every CLI command and the bot call ``upgrade`` at start-up. Alembic itself (and Mako behind it) costs
~0.15 s to import and logs two INFO lines per run, so ``upgrade`` first compares the database's
``alembic_version`` with the heads named in the revision files and only hands over to Alembic when a
migration is actually due.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

# SQLAlchemy is imported inside the functions that use it: ``script_heads`` serves the read-only
# ``nashra feeds list`` path (``storage.listing``), which talks to the driver alone.

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# ``revision = "0002"`` / ``down_revision: str | None = ("0003", "0004")`` at the top of a revision file.
_REVISION_LINE = re.compile(r"^(down_)?revision\s*(?::[^=\n]*)?=\s*(.+)$", re.M)
_QUOTED = re.compile(r"""["']([^"']+)["']""")


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    from storage.db import sync_url

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).render_as_string(hide_password=False))
    return cfg


def script_heads() -> frozenset[str]:
    """The newest revisions of the tree: those no other revision file names as its ``down_revision``.

    Read from the files' text, as Alembic's own script directory would find them, but without importing
    Alembic; a test holds the two to the same answer.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for down, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (parents if down else revisions).update(_QUOTED.findall(value))
    return frozenset(revisions - parents)


def _database_revisions(url: str) -> frozenset[str] | None:
    """What ``alembic_version`` holds, or None when the table cannot be read (an empty database)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    from storage.db import sync_url

    engine = create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        return frozenset(rows)
    except DBAPIError:
        return None
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (the newest by default).

    A database already at the heads is left alone without loading Alembic, so the common case costs one
    query and logs nothing.
    """
    from storage.db import ensure_sqlite_dir

    ensure_sqlite_dir(url)
    if revision == "head" and _database_revisions(url) == script_heads():
        return
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def current(url: str) -> str | None:
    """The revision the database is at (heads joined by spaces), or None for an empty database."""
    revisions = _database_revisions(url)
    return " ".join(sorted(revisions)) if revisions else None
