"""PostgreSQL: a group of send outcomes in one statement whatever its size (arrays unnested
server-side), where row-by-row statements would cost the sending process more CPU than the
sending itself. The effect is that of ``core.delivery.record.write_entries``."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.delivery.types import Entry
from core.models.base import utcnow

_OUTCOMES = text(
    """
    WITH v AS (
        SELECT * FROM unnest(
            CAST(:id AS integer[]), CAST(:status AS text[]), CAST(:error AS text[]),
            CAST(:not_before AS timestamptz[]), CAST(:inc AS integer[]),
            CAST(:brief AS integer[]), CAST(:sent_at AS timestamptz[]),
            CAST(:message_ids AS text[]), CAST(:at AS timestamptz[]),
            CAST(:attempt AS text[]), CAST(:latency AS integer[])
        ) AS v(id, status, error, not_before, inc, brief, sent_at, message_ids, at, attempt,
               latency)
    ), changed AS (
        UPDATE deliveries AS d
        SET status = v.status, error = v.error, not_before = v.not_before,
            attempts = d.attempts + v.inc, brief_id = coalesce(v.brief, d.brief_id),
            sent_at = coalesce(v.sent_at, d.sent_at),
            message_ids = coalesce(CAST(v.message_ids AS json), d.message_ids)
        FROM v WHERE d.id = v.id
    ), contexts AS (
        INSERT INTO chat_contexts
            (platform, workspace, chat_id, last_brief_id, last_insight_id, last_listing,
             pending, updated_at)
        SELECT t.platform, t.workspace, t.chat_id, t.brief, NULL, CAST('[]' AS json),
               CAST('{}' AS json), :now
        FROM unnest(CAST(:chat_platform AS text[]), CAST(:chat_workspace AS text[]),
                    CAST(:chat_id AS text[]), CAST(:chat_brief AS integer[]))
             AS t(platform, workspace, chat_id, brief)
        ON CONFLICT (platform, workspace, chat_id) DO UPDATE
        SET last_brief_id = excluded.last_brief_id, last_insight_id = NULL,
            last_listing = excluded.last_listing, updated_at = excluded.updated_at
    )
    INSERT INTO delivery_attempts (delivery_id, at, worker, status, error, latency_ms)
    SELECT v.id, v.at, :worker, v.attempt, v.error, v.latency FROM v
    """
)


async def write_entries_pg(
    conn: AsyncConnection, worker: str, entries: list[Entry], error_max: int
) -> None:
    """Statuses, attempts and chat contexts in ONE statement: a round trip per group."""
    latest = {
        (e.chat.platform, e.chat.workspace, e.chat.chat_id): e.brief_id
        for e in entries
        if e.chat is not None
    }
    keys = list(latest)
    contexts = {
        "chat_platform": [k[0] for k in keys],
        "chat_workspace": [k[1] for k in keys],
        "chat_id": [k[2] for k in keys],
        "chat_brief": list(latest.values()),
        "now": utcnow(),
    }
    await conn.execute(_OUTCOMES, _outcome_arrays(worker, entries, error_max) | contexts)


def _outcome_arrays(worker: str, entries: list[Entry], error_max: int) -> dict[str, Any]:
    def error(e: Entry) -> str | None:
        return e.outcome.error[:error_max] if e.outcome.error else None

    sent = [e.outcome.status == "sent" for e in entries]
    return {
        "id": [e.delivery_id for e in entries],
        "status": [e.outcome.status for e in entries],
        "error": [error(e) for e in entries],
        "not_before": [e.outcome.not_before for e in entries],
        "inc": [1 if e.outcome.counts_as_attempt else 0 for e in entries],
        "brief": [e.brief_id for e in entries],
        "sent_at": [e.at if s else None for e, s in zip(entries, sent, strict=True)],
        "message_ids": [
            json.dumps(list(e.outcome.message_ids)) if s else None
            for e, s in zip(entries, sent, strict=True)
        ],
        "at": [e.at for e in entries],
        "attempt": [e.outcome.attempt for e in entries],
        "latency": [e.outcome.latency_ms for e in entries],
        "worker": worker[:100],
    }
