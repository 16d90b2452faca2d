"""user_targets; the stories → articles foreign key on PostgreSQL

``user_targets`` keeps the chat a user configures from their private chat across restarts.

0001 declared ``stories.representative_id`` with ``use_alter=True`` (stories and articles refer to
each other), and ``op.create_table`` leaves such a constraint out for a later ALTER that 0001 never
issued: SQLite got it inline, PostgreSQL not at all. It is added here, after clearing references to
articles that no longer exist, so that deleting an article empties its story's representative on
every backend.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_targets",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_user_targets_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_targets")),
    )
    op.create_index(op.f("ix_user_targets_chat_id"), "user_targets", ["chat_id"], unique=False)
    if op.get_bind().dialect.name != "sqlite":
        op.execute(
            "UPDATE stories SET representative_id = NULL WHERE representative_id IS NOT NULL"
            " AND representative_id NOT IN (SELECT id FROM articles)"
        )
        op.create_foreign_key(
            op.f("fk_stories_representative_id_articles"),
            "stories",
            "articles",
            ["representative_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_stories_representative_id_articles"), "stories", type_="foreignkey")
    op.drop_index(op.f("ix_user_targets_chat_id"), table_name="user_targets")
    op.drop_table("user_targets")
