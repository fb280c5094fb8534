"""brief items: no foreign key to their user (redundant) nor to their insight (hot rows)

Revision ID: 0013_brief_items_fk
Revises: 0012_perf
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_brief_items_fk"
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


def downgrade() -> None:
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
