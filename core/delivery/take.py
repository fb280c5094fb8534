"""Taking a batch: claim it (``core.delivery.claim``) and read what sending it needs, the
claimed rows with their recipients, in due order.

On PostgreSQL it is ONE statement, run straight on an autocommit psycopg connection
(``DirectConnections``): the rows are locked, claimed and read with their recipients in one
round trip. Claiming and reading took ten through SQLAlchemy (BEGIN, two locking reads, the
update, COMMIT, then a session reading deliveries and users in chunks); each is a statement
the worker builds and a wake-up of a backend on the other core. Elsewhere (SQLite,
one writer) the claim and the reads stay separate.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, select

from core.db import Sessions, chunks, direct_connections, engine_errors, one_of
from core.delivery.claim import claim_batch
from core.delivery.types import Claimed, Recipient
from core.models import Delivery, User

# The dead workers' rows first (a few), then the earliest due waiting ones: each an index scan
# of (status, due_at) that stops at the limit, locked as it is read (SKIP LOCKED: rows other
# workers hold are passed over). ``chosen`` is read once (MATERIALIZED), so no more than
# ``limit`` rows are locked; the claimed rows and their users are found by primary key
# (``= ANY(ARRAY(...))``: joined instead, PostgreSQL hashed the whole table for them).
_TAKE_PG = """
    WITH stale AS (
        SELECT id FROM deliveries
        WHERE status = 'claimed' AND claimed_at < %(stale_before)s
            AND platform = ANY(CAST(%(platforms)s AS text[]))
        ORDER BY due_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED
    ), waiting AS (
        SELECT id FROM deliveries
        WHERE status = 'queued' AND (not_before IS NULL OR not_before <= %(now)s)
            AND platform = ANY(CAST(%(platforms)s AS text[]))
        ORDER BY due_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED
    ), chosen AS MATERIALIZED (
        SELECT id FROM stale UNION ALL SELECT id FROM waiting LIMIT %(limit)s
    ), claimed AS (
        UPDATE deliveries AS d SET status = 'claimed', claimed_by = %(worker)s, claimed_at = %(now)s
        WHERE d.id = ANY(ARRAY(SELECT id FROM chosen))
            AND (d.status = 'queued' AND (d.not_before IS NULL OR d.not_before <= %(now)s)
                 OR d.status = 'claimed' AND d.claimed_at < %(stale_before)s)
        RETURNING d.due_at, d.id, d.user_id, d.attempts
    )
    SELECT c.id, c.user_id, c.attempts, u.id, u.platform, u.workspace,
        u.external_id, u.kind, CAST(u.settings AS text), u.active, u.paused,
        u.inactive_reason, u.timezone
    FROM claimed AS c JOIN users AS u ON u.id = c.user_id
    WHERE u.id = ANY(ARRAY(SELECT user_id FROM claimed))
    ORDER BY c.due_at, c.id
"""


async def take_batch(
    sessions: Sessions,
    worker: str,
    now: datetime,
    *,
    lease: timedelta,
    limit: int,
    platforms: Collection[str],
) -> list[tuple[Claimed, Recipient]]:
    """Claim up to ``limit`` deliveries for ``worker`` (the dead workers' rows first, then the
    earliest due; SQLite through ``claim_batch``) and answer them with their recipients, due
    first, then by id."""
    direct = direct_connections(sessions.kw["bind"])
    if direct is None:  # SQLite
        ids = await claim_batch(
            sessions, worker, now, lease=lease, limit=limit, platforms=platforms
        )
        return await _load_claimed(sessions, ids) if ids else []
    params = {
        "stale_before": now - lease,
        "now": now,
        "platforms": sorted(platforms),
        "limit": limit,
        "worker": worker,
    }
    async with direct.connection() as pg, engine_errors():
        rows = await (await pg.execute(_TAKE_PG, params)).fetchall()
    users = _recipients([row[3:] for row in rows])
    return [(Claimed(*row[:3]), users[row[1]]) for row in rows]


async def _load_claimed(sessions: Sessions, ids: list[int]) -> list[tuple[Claimed, Recipient]]:
    """The claimed rows with their recipients, in claim order, as plain columns. Two reads by
    primary key, not one join: PostgreSQL joined a chunk of 500 claimed rows by hashing the
    whole users table (every recipient, for each chunk: quadratic in a run's size)."""
    claimed: list[tuple[Any, ...]] = []
    users: dict[int, Recipient] = {}
    async with sessions() as session:
        conn = await session.connection()  # Core rows: no ORM result machinery per row
        for part in chunks(ids):
            stmt = select(Delivery.due_at, *_CLAIMED).where(one_of(session, Delivery.id, part))
            claimed += [tuple(row) for row in (await conn.execute(stmt)).all()]
        for part in chunks(sorted({row[2] for row in claimed})):
            people = select(*_RECIPIENT).where(one_of(session, User.id, part))
            users.update(_recipients((await conn.execute(people)).all()))
    claimed.sort(key=lambda row: (row[0], row[1]))  # due first, then by id
    return [(Claimed(*row[1:]), users[row[2]]) for row in claimed if row[2] in users]


def _recipients(rows: Sequence[Sequence[Any]]) -> dict[int, Recipient]:
    # Settings come as text, each distinct one decoded once (most recipients share theirs).
    decoded: dict[str | None, Any] = {None: None}
    found = {}
    for row in rows:
        text = row[_SETTINGS]
        settings = decoded[text] if text in decoded else decoded.setdefault(text, json.loads(text))
        found[row[0]] = Recipient(*(*row[:_SETTINGS], settings, *row[_SETTINGS + 1 :]))
    return found


_CLAIMED = (Delivery.id, Delivery.user_id, Delivery.attempts)
_RECIPIENT = (  # in this order in _TAKE_PG too
    User.id,
    User.platform,
    User.workspace,
    User.external_id,
    User.kind,
    cast(User.settings, Text),
    User.active,
    User.paused,
    User.inactive_reason,
    User.timezone,
)
_SETTINGS = 5  # where the settings are among the recipient's columns
