"""quality: count the drafts the shared insight quality gate turned away, per episode

Revision ID: 0007_quality
Revises: 0006_rate_slots
Create Date: 2026-12-06 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_quality"
down_revision: str | Sequence[str] | None = "0006_rate_slots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("episodes") as batch:
        batch.add_column(
            sa.Column("insights_rejected", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("episodes") as batch:
        batch.drop_column("insights_rejected")
