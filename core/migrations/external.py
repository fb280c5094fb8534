"""Tables in podbrief's database that no podbrief model describes (a library owns them).

Autogenerate and the models-vs-migrations check skip them instead of proposing to drop them.
"""

from __future__ import annotations

# slack_sdk's SQLAlchemy installation and OAuth state stores (migration 0003_slack).
EXTERNAL_TABLES = frozenset({"slack_installations", "slack_bots", "slack_oauth_states"})


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic ``include_name`` hook: everything except the external tables."""
    return not (type_ == "table" and name in EXTERNAL_TABLES)
