"""``storage.migrate``: Alembic runs only when a migration is due; the heads it reads are Alembic's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from storage.migrate import alembic_config, current, script_heads, upgrade


def test_heads_read_from_the_files_are_alembics_heads() -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config("sqlite:///unused.db")).get_heads()
    assert script_heads() == frozenset(heads)
    assert len(script_heads()) == 1


def test_upgrade_of_an_empty_database_migrates_and_a_second_one_loads_no_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert current(url) is None
    code = (
        "import sys\nfrom storage.migrate import current, upgrade\n"
        f"upgrade({url!r})\nprint(current({url!r}), 'alembic' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[2]
    runs = [
        subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    (head,) = script_heads()
    assert runs[0].stdout.split() == [head, "True"]  # a migration was due: Alembic ran it
    assert runs[1].stdout.split() == [head, "False"]  # nothing due: one query, no Alembic


def test_upgrade_is_idempotent_on_every_backend(db_url: str) -> None:
    upgrade(db_url)
    upgrade(db_url)
    assert frozenset([current(db_url)]) == script_heads()
