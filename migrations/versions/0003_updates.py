"""updates: Telegram updates kept from receipt until handled

An update is written here before Telegram is told it arrived (the next ``getUpdates`` offset, or the
webhook's 200), and handled from here, so a crash between the two loses no reader's command.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_updates")),
    )
    op.create_index("ix_updates_done_at_update_id", "updates", ["done_at", "update_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_updates_done_at_update_id", table_name="updates")
    op.drop_table("updates")
