"""Breaking-news alerts, muted sources, several editions a day

* ``chats``: the edition times, digest length and stories per topic, muted outlets, the alert switch,
  its daily cap and the quiet hours. Every new column has a server default, so existing chats keep
  today's behaviour (one edition, full length, nothing muted, alerts off, quiet 23:00–07:00).
* ``stories.breaking_at``: set once when a story's alerts are queued, so a story alerts once.
* ``deliveries.kind``: ``digest`` or ``alert`` (an alert is one outbox row keyed ``alert:<story>``,
  sent by the same worker with the same limits; the kind lets the daily cap and /stats count them).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _chat_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("edition_minutes", sa.Text(), nullable=False, server_default=""),
        sa.Column("digest_length", sa.String(length=8), nullable=False, server_default="full"),
        sa.Column("per_topic", sa.Integer(), nullable=True),
        sa.Column("muted_sources", sa.Text(), nullable=False, server_default=""),
        sa.Column("alerts", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("alerts_per_day", sa.Integer(), nullable=False, server_default="5"),
        sa.Column("quiet_start", sa.Integer(), nullable=True, server_default=str(23 * 60)),
        sa.Column("quiet_end", sa.Integer(), nullable=True, server_default=str(7 * 60)),
    ]


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        for column in _chat_columns():
            batch.add_column(column)
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("breaking_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_stories_breaking_at"), ["breaking_at"], unique=False)
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="digest"))
        batch.create_index("ix_deliveries_kind_created_at", ["kind", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_kind_created_at")
        batch.drop_column("kind")
    with op.batch_alter_table("stories") as batch:
        batch.drop_index(batch.f("ix_stories_breaking_at"))
        batch.drop_column("breaking_at")
    with op.batch_alter_table("chats") as batch:
        for column in reversed(_chat_columns()):
            batch.drop_column(column.name)
