"""Writing down what happened to a delivery: its new status and one attempt row (one at a
time, or many sends' together through ``Recorder``)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, func, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.types import ChatRef
from core.db import Sessions, direct_connections, engine_errors, transaction
from core.delivery.record_pg import write_entries_pg
from core.delivery.types import Entry, Outcome
from core.models import ChatContext, Delivery, DeliveryAttempt
from core.models.base import utcnow

_ERROR_MAX = 500
GATHER_TURNS = 4  # event-loop turns a write waits for more outcomes (no clock time)
WRITES_IN_FLIGHT = 3  # groups of outcomes being written at once, each on its own connection
UNWRITTEN_MAX = 256  # outcomes handed over and not yet stored before a sender waits for its own


async def record_outcome(
    sessions: Sessions, delivery_id: int, outcome: Outcome, now: datetime, worker: str
) -> None:
    values: dict[str, object] = {
        "status": outcome.status,
        "error": outcome.error[:_ERROR_MAX] if outcome.error else None,
        "not_before": outcome.not_before,
    }
    if outcome.counts_as_attempt:
        values["attempts"] = Delivery.attempts + 1
    if outcome.status == "sent":
        values["sent_at"] = now
        values["message_ids"] = list(outcome.message_ids)
    async with transaction(sessions) as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.add(
            DeliveryAttempt(
                delivery_id=delivery_id,
                at=now,
                worker=worker[:100],
                status=outcome.attempt,
                error=outcome.error[:_ERROR_MAX] if outcome.error else None,
                latency_ms=outcome.latency_ms,
            )
        )


class Recorder:
    """Group commit: the outcomes of sends that finish while a write is under way are written
    together in the next transaction, up to ``WRITES_IN_FLIGHT`` groups at once.

    A sender hands its outcome over and takes its next brief without waiting for the commit,
    as long as at most ``unwritten_max`` outcomes are waiting to be stored; beyond that it
    waits for its own. Waiting for every commit capped a worker at ``concurrency`` sends per
    commit round trip (in a delivery run the round trip includes a ranking step of the next
    batch): the senders fell behind ranking and the producer waited for room in the queue.
    Each outcome is still written right after its send (the write starts at once); what a
    crash can lose is at most ``unwritten_max`` outcomes instead of ``concurrency``, and those
    briefs are sent again after the lease, as are the sends in flight. ``flush`` waits until
    every outcome handed over is stored; a failed write fails the next ``record`` and
    ``flush``."""

    def __init__(self, sessions: Sessions, worker: str, unwritten_max: int = UNWRITTEN_MAX) -> None:
        self.sessions, self.worker, self.unwritten_max = sessions, worker, unwritten_max
        self._pending: list[tuple[Entry, asyncio.Future[None] | None]] = []
        self._unwritten = 0  # handed over, not yet stored (pending or being written)
        self._writers: set[asyncio.Task[None]] = set()
        self._gathering = False  # a writer is waiting for more outcomes to join its group
        self._failed: Exception | None = None

    async def record(self, entry: Entry) -> None:
        """Hand an outcome over to be stored; wait for it only if too many are unwritten."""
        if self._failed is not None:
            raise self._failed
        self._unwritten += 1
        done: asyncio.Future[None] | None = None
        if self._unwritten > self.unwritten_max:
            done = asyncio.get_running_loop().create_future()
        self._pending.append((entry, done))
        if not self._gathering and len(self._writers) < WRITES_IN_FLIGHT:
            writer = asyncio.create_task(self._write_all())
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        if done is not None:
            await done

    async def flush(self) -> None:
        """Wait until every outcome handed over is stored (raise if one could not be)."""
        while self._writers:
            await asyncio.gather(*self._writers)
        if self._failed is not None:
            raise self._failed

    async def _write_all(self) -> None:
        while self._pending:  # checked with no wait before leaving: nothing is left behind
            self._gathering = True
            for _ in range(GATHER_TURNS):  # let sends finishing right now join this write
                await asyncio.sleep(0)
            self._gathering = False
            batch, self._pending = self._pending, []
            if not batch:  # another writer took them
                continue
            try:
                await write_entries(self.sessions, self.worker, [entry for entry, _ in batch])
            except Exception as exc:  # every waiting caller of this batch hears of it
                self._failed = self._failed or exc
                self._settle(batch, exc)
                continue
            self._settle(batch, None)

    def _settle(
        self, batch: list[tuple[Entry, asyncio.Future[None] | None]], exc: Exception | None
    ) -> None:
        self._unwritten -= len(batch)
        for _, done in batch:
            if done is not None and not done.done():
                if exc is None:
                    done.set_result(None)
                else:
                    done.set_exception(exc)


async def write_entries(sessions: Sessions, worker: str, entries: list[Entry]) -> None:
    """Statuses, attempt rows and chat contexts of many deliveries in one transaction."""
    direct = direct_connections(sessions.kw["bind"])
    if direct is not None:  # PostgreSQL
        async with direct.connection() as pg, engine_errors():
            return await write_entries_pg(pg, worker, entries, _ERROR_MAX)
    table = cast(Table, Delivery.__table__)
    base = {
        "status": bindparam("new_status"),
        "error": bindparam("new_error"),
        "not_before": bindparam("new_not_before"),
        "attempts": table.c.attempts + bindparam("inc"),
        "brief_id": func.coalesce(bindparam("new_brief", type_=Integer), table.c.brief_id),
    }
    sent = {**base, "sent_at": bindparam("new_sent_at"), "message_ids": bindparam("new_ids")}
    by_shape: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    for e in entries:
        o = e.outcome
        row: dict[str, Any] = {
            "did": e.delivery_id,
            "new_status": o.status,
            "new_error": o.error[:_ERROR_MAX] if o.error else None,
            "new_not_before": o.not_before,
            "inc": 1 if o.counts_as_attempt else 0,
            "new_brief": e.brief_id,
        }
        if o.status == "sent":
            row |= {"new_sent_at": e.at, "new_ids": list(o.message_ids)}
        by_shape[o.status == "sent"].append(row)
    attempts = [
        {
            "delivery_id": e.delivery_id,
            "at": e.at,
            "worker": worker[:100],
            "status": e.outcome.attempt,
            "error": e.outcome.error[:_ERROR_MAX] if e.outcome.error else None,
            "latency_ms": e.outcome.latency_ms,
        }
        for e in entries
    ]
    async with transaction(sessions) as session:
        conn = await session.connection()
        for is_sent, rows in by_shape.items():
            if rows:
                stmt = update(table).where(table.c.id == bindparam("did"))
                await conn.execute(stmt.values(sent if is_sent else base), rows)
        await conn.execute(insert(cast(Table, DeliveryAttempt.__table__)), attempts)
        contexts = [(e.chat, e.brief_id) for e in entries if e.chat is not None]
        if contexts:
            await _point_contexts(session, contexts)


async def _point_contexts(
    session: AsyncSession, contexts: list[tuple[ChatRef, int | None]]
) -> None:
    """Each chat's "#3" now means the brief just delivered there (one upsert per chat)."""
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    latest = {(c.platform, c.workspace, c.chat_id): bid for c, bid in contexts}
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "platform": platform,
            "workspace": workspace,
            "chat_id": chat_id,
            "last_brief_id": bid,
            "last_insight_id": None,
            "last_listing": [],
            "pending": {},
            "updated_at": now,
        }
        for (platform, workspace, chat_id), bid in latest.items()
    ]
    await (await session.connection()).execute(_upsert_contexts(make), rows)


def _upsert_contexts(make: Any) -> Any:
    stmt = make(cast(Table, ChatContext.__table__))
    return stmt.on_conflict_do_update(
        index_elements=["platform", "workspace", "chat_id"],
        set_={
            "last_brief_id": stmt.excluded.last_brief_id,
            "last_insight_id": None,
            "last_listing": stmt.excluded.last_listing,
            "updated_at": stmt.excluded.updated_at,
        },
    )
