"""PostgreSQL: a group of send outcomes in one statement whatever its size (rows read from JSON
server-side), where row-by-row statements would cost the sending process more CPU than the
sending itself. The effect is that of ``core.delivery.record.write_entries``.

The statement runs straight on an autocommit psycopg connection (``DirectConnections``): a
delivery run writes thousands of groups, and through SQLAlchemy each paid a connection
checkout, a switch to autocommit and back and a reset (several times the CPU of building
the group)."""

from __future__ import annotations

import json
from datetime import UTC
from functools import cache
from typing import TYPE_CHECKING, Any

from core.db import iso_utc
from core.delivery.types import Entry
from core.models.base import utcnow

if TYPE_CHECKING:
    from psycopg import AsyncConnection

_OUTCOMES = """
    WITH v AS (
        SELECT * FROM json_to_recordset(CAST(%(rows)s AS json)) AS v(
            id integer, status text, error text, not_before timestamptz, inc integer,
            brief integer, message_ids json, at timestamptz,
            attempt text, latency integer)
    ), changed AS (
        UPDATE deliveries AS d
        SET status = v.status, error = v.error, not_before = v.not_before,
            attempts = d.attempts + v.inc, brief_id = coalesce(v.brief, d.brief_id),
            sent_at = coalesce(CASE WHEN v.status = 'sent' THEN v.at END, d.sent_at),
            message_ids = coalesce(v.message_ids, d.message_ids)
        FROM v WHERE d.id = v.id
    ), contexts AS (
        INSERT INTO chat_contexts
            (platform, workspace, chat_id, last_brief_id, last_insight_id, last_listing,
             pending, updated_at)
        SELECT t.platform, t.workspace, t.chat_id, t.brief, NULL, CAST('[]' AS json),
               CAST('{}' AS json), %(now)s
        FROM json_to_recordset(CAST(%(chats)s AS json))
             AS t(platform text, workspace text, chat_id text, brief integer)
        ON CONFLICT (platform, workspace, chat_id) DO UPDATE
        SET last_brief_id = excluded.last_brief_id, last_insight_id = NULL,
            last_listing = excluded.last_listing, updated_at = excluded.updated_at
    )
    INSERT INTO delivery_attempts (delivery_id, at, worker, status, error, latency_ms)
    SELECT v.id, v.at, %(worker)s, v.attempt, v.error, v.latency FROM v
"""


async def write_entries_pg(
    conn: AsyncConnection[Any], worker: str, entries: list[Entry], error_max: int
) -> None:
    """Statuses, attempts and chat contexts in ONE statement: a round trip per group. The rows
    go as one JSON text each side (what psycopg sends fastest: one string, not a value per
    cell), read back server-side by json_to_recordset."""
    latest = {
        (e.chat.platform, e.chat.workspace, e.chat.chat_id): e.brief_id
        for e in entries
        if e.chat is not None
    }
    chats = [
        {"platform": p, "workspace": w, "chat_id": c, "brief": b} for (p, w, c), b in latest.items()
    ]
    params = {
        "rows": _outcome_rows(entries, error_max),
        "chats": json.dumps(chats),
        "now": utcnow(),
        "worker": worker[:100],
    }
    await conn.execute(_OUTCOMES, params)


def _outcome_rows(entries: list[Entry], error_max: int) -> str:
    """The outcomes as one JSON array, written as text: an object per outcome without the keys
    that would be null (json_to_recordset reads a missing key as NULL). Numbers, times and the
    few status words are written directly, only free text (errors, message ids) is encoded;
    a dict per outcome and the encoder's pass over it were most of this step's CPU."""
    rows = []
    for e in entries:
        o = e.outcome
        at = e.at.isoformat() if e.at.tzinfo is UTC else iso_utc(e.at)  # also a sent one's time
        row = (
            f'{{"id":{int(e.delivery_id)},"status":{_word(o.status)},'
            f'"inc":{1 if o.counts_as_attempt else 0},"at":"{at}",'
            f'"attempt":{_word(o.attempt)},"latency":{int(o.latency_ms)}'
        )
        if o.error:
            row += f',"error":{json.dumps(o.error[:error_max])}'
        if o.not_before is not None:
            row += f',"not_before":"{iso_utc(o.not_before)}"'
        if e.brief_id is not None:
            row += f',"brief":{int(e.brief_id)}'
        if o.status == "sent":
            row += f',"message_ids":{json.dumps(list(o.message_ids))}'
        rows.append(row + "}")
    return "[" + ",".join(rows) + "]"


@cache
def _word(text: str) -> str:
    """A status or attempt word as JSON (a handful of them, each encoded once)."""
    return json.dumps(text)
