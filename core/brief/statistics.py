"""PostgreSQL's statistics of the brief tables, kept up with a big delivery run.

A run stores a brief and five items per recipient. Where the tables were small when last
analyzed (a new database, a first big day), PostgreSQL goes on planning the batch reads for
the small tables: what the batch's users received was read by probing every candidate for
every user (0.9 ms a batch at the start of a 100,000-recipient run, 72 ms at its end; 2.4 ms
with fresh statistics). Autovacuum catches up only a minute or more later. So a run
refreshes them once they have grown by as much again as PostgreSQL knew of (ANALYZE reads a
bounded sample: tens of milliseconds whatever the size)."""

from __future__ import annotations

from sqlalchemy import text

from core.db import Sessions, one_statement

GROWN_BY = 1000  # rows changed since the last ANALYZE, at the least, before another
_TABLES = ("briefs", "brief_items")
_GROWN = text(  # the counter's function, not the view: that reads every table's (50 ms)
    "SELECT relname FROM pg_class"
    " WHERE oid IN (CAST('briefs' AS regclass), CAST('brief_items' AS regclass))"
    " AND pg_stat_get_mod_since_analyze(oid) >= GREATEST(:least, reltuples)"
)


async def refresh_if_grown(sessions: Sessions) -> None:
    """ANALYZE each brief table that has grown by at least what its statistics count."""
    if sessions.kw["bind"].dialect.name != "postgresql":
        return
    async with one_statement(sessions) as conn:
        grown = [name for (name,) in await conn.execute(_GROWN, {"least": GROWN_BY})]
        for name in grown:
            if name in _TABLES:  # a name of ours, never text from elsewhere
                await conn.execute(text(f"ANALYZE {name}"))
