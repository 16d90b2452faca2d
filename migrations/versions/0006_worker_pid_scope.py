"""Workers: where a worker's pid can be asked about

* ``workers.pid_scope``: the kernel boot and PID namespace the process ran in (Linux; empty elsewhere).
  A process that finds a row of its own scope whose pid is gone counts it dead at once instead of after
  the lease, so a restart after a crash is not held back by its own predecessor. The host name alone
  cannot say this: containers sharing a host's network share its name, not its pids.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workers") as batch:
        batch.add_column(sa.Column("pid_scope", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workers") as batch:
        batch.drop_column("pid_scope")
