"""Tables in podbrief's database that no podbrief model describes (a library owns them).

Autogenerate and the models-vs-migrations check skip them instead of proposing to drop them.
"""

from __future__ import annotations

# slack_sdk's SQLAlchemy installation and OAuth state stores (migration 0003_slack).
EXTERNAL_TABLES = frozenset({"slack_installations", "slack_bots", "slack_oauth_states"})


# Full-text search (migration 0008_search) lives outside the models: SQLite's FTS5 table and its
# shadow tables, PostgreSQL's generated tsvector column and its GIN index.
SEARCH_TABLE_PREFIX = "insights_fts"
SEARCH_COLUMNS = frozenset({"search_vector"})
SEARCH_INDEXES = frozenset({"ix_insights_search"})


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic ``include_name`` hook: everything except the external and search objects."""
    if type_ == "table":
        return not (name in EXTERNAL_TABLES or (name or "").startswith(SEARCH_TABLE_PREFIX))
    if type_ == "column":
        return name not in SEARCH_COLUMNS
    if type_ == "index":
        return name not in SEARCH_INDEXES
    return True
