"""perf: recipients found by their schedule; brief items without a redundant index

Revision ID: 0012_perf
Revises: 0009_email
Create Date: 2026-12-06 21:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_perf"
down_revision: str | Sequence[str] | None = "0008_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Planning runs one INSERT ... SELECT per schedule in use every minute; without this each
    # of them read every user.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(
            "ix_users_schedule",
            ["platform", "timezone", "delivery_time", "delivery_days"],
            unique=False,
        )
    # Every brief item written paid for it; the unique (user_id, insight_id) index already
    # serves every lookup by user.
    with op.batch_alter_table("brief_items", schema=None) as batch_op:
        batch_op.drop_index("ix_brief_items_user_id")


def downgrade() -> None:
    with op.batch_alter_table("brief_items", schema=None) as batch_op:
        batch_op.create_index("ix_brief_items_user_id", ["user_id"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_schedule")
