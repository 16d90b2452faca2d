"""Read cooldowns: the group cooldown on reading commands, shared by every process

* ``read_cooldowns``: per group, when a reading command was last answered, by which update (handled
  again after a crash, it is answered again), and whether the group was told to wait since. Kept in each
  process's memory before, so that with several processes handling updates a group could get one answer
  per process in a cooldown.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "read_cooldowns",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("warned", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_read_cooldowns")),
    )


def downgrade() -> None:
    op.drop_table("read_cooldowns")
