"""compose: brief items without foreign keys to their user and insight; deliveries without
the day's index

Revision ID: 0013_compose
Revises: 0012_perf
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_compose"
down_revision: str | Sequence[str] | None = "0012_perf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Each item's foreign keys cost a lookup and a FOR KEY SHARE row lock per row in
    # PostgreSQL: 60% of storing a batch of briefs. The user's is redundant (the item's brief
    # belongs to the same user and cascades from it). The insight's locked the same few top
    # insights once per brief, from every worker at once (multixacts on a handful of hot
    # rows); storing a batch now locks each distinct insight once itself
    # (core.brief.live.live_insights) and removing a feed deletes its insights' items
    # (core.feeds.service.remove_feed), which keeps what the cascade kept.
    with op.batch_alter_table("brief_items", schema=None) as batch_op:
        batch_op.drop_constraint("fk_brief_items_user_id_users", type_="foreignkey")
        batch_op.drop_constraint("fk_brief_items_insight_id_insights", type_="foreignkey")
    # No query reads deliveries by the day alone (the unique (user_id, local_date) serves
    # "planned already?"), and every delivery's row is written three times (planned,
    # claimed, sent: the status changes, so no update is HOT), each adding to it.
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_local_date")


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_local_date", ["local_date"], unique=False)
    op.execute(
        "DELETE FROM brief_items WHERE NOT EXISTS "
        "(SELECT 1 FROM insights WHERE insights.id = brief_items.insight_id)"
    )
    with op.batch_alter_table("brief_items", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_brief_items_insight_id_insights",
            "insights",
            ["insight_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            "fk_brief_items_user_id_users", "users", ["user_id"], ["id"], ondelete="CASCADE"
        )
