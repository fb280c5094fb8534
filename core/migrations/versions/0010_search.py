"""search: full-text search kept by the database itself, and an index for vector catch-up

SQLite: an FTS5 table over insights (external content, porter stemming) kept in step by
triggers in the writing transaction. PostgreSQL: a generated, stored ``tsvector`` column with a
GIN index. Both are filled from the existing insights on upgrade. (model, id) on
insight_embeddings lets every process catch its vector index up from a high-water mark.

Revision ID: 0008_search
Revises: 0009_email
Create Date: 2026-12-06 20:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_search"
down_revision: str | Sequence[str] | None = "0009_email"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FTS_COLUMNS = "headline, body, quote, topics"

SQLITE_UP = [
    f"""CREATE VIRTUAL TABLE insights_fts USING fts5(
        {_FTS_COLUMNS}, content='insights', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER insights_fts_insert AFTER INSERT ON insights BEGIN
        INSERT INTO insights_fts(rowid, {_FTS_COLUMNS})
        VALUES (new.id, new.headline, new.body, new.quote, new.topics);
    END""",
    f"""CREATE TRIGGER insights_fts_delete AFTER DELETE ON insights BEGIN
        INSERT INTO insights_fts(insights_fts, rowid, {_FTS_COLUMNS})
        VALUES ('delete', old.id, old.headline, old.body, old.quote, old.topics);
    END""",
    # Only a change of the searched text re-indexes (linking updates group_id constantly).
    f"""CREATE TRIGGER insights_fts_update AFTER UPDATE OF {_FTS_COLUMNS} ON insights BEGIN
        INSERT INTO insights_fts(insights_fts, rowid, {_FTS_COLUMNS})
        VALUES ('delete', old.id, old.headline, old.body, old.quote, old.topics);
        INSERT INTO insights_fts(rowid, {_FTS_COLUMNS})
        VALUES (new.id, new.headline, new.body, new.quote, new.topics);
    END""",
    "INSERT INTO insights_fts(insights_fts) VALUES ('rebuild')",  # the backfill
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS insights_fts_update",
    "DROP TRIGGER IF EXISTS insights_fts_delete",
    "DROP TRIGGER IF EXISTS insights_fts_insert",
    "DROP TABLE IF EXISTS insights_fts",
]
# Adding a stored generated column rewrites the table: that is the backfill.
POSTGRES_UP = [
    """ALTER TABLE insights ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(headline, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(topics::text, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(body, '')), 'B')
        || setweight(to_tsvector('english'::regconfig, coalesce(quote, '')), 'C')
    ) STORED""",
    "CREATE INDEX ix_insights_search ON insights USING gin (search_vector)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_insights_search",
    "ALTER TABLE insights DROP COLUMN IF EXISTS search_vector",
]


def upgrade() -> None:
    op.create_index(
        "ix_insight_embeddings_model_id", "insight_embeddings", ["model", "id"], unique=False
    )
    for statement in SQLITE_UP if _is_sqlite() else POSTGRES_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DOWN if _is_sqlite() else POSTGRES_DOWN:
        op.execute(statement)
    op.drop_index("ix_insight_embeddings_model_id", table_name="insight_embeddings")


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"
