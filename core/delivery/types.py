"""What a delivery run is configured with and what it produces: the settings of a run, its
report, and the outcome of one send as it is recorded. Plain data, imported by every other
delivery module and importing none of them."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.chat.types import ChatRef


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    worker: str = field(default_factory=default_worker_name)
    grace: timedelta = timedelta(hours=3)  # missed by less: sent late; by more: skipped
    lease: timedelta = timedelta(minutes=10)
    batch_size: int = 1000  # briefs composed together (and at most this many queued to send)
    concurrency: int = 32  # sends in flight
    max_attempts: int = 5
    retry_base: timedelta = timedelta(minutes=1)  # doubled per attempt
    retry_max: timedelta = timedelta(minutes=30)
    replan_every: timedelta = timedelta(minutes=1)
    # More recipients than this due at once on a platform: their briefs default to one
    # compact message (a recipient's own choice still wins). 0: never by count.
    compact_above: int = 0
    public_url: str = ""  # set: brief cards carry their insight page's URL

    def backoff(self, attempts: int) -> timedelta:
        delay: timedelta = self.retry_base * (2 ** min(max(attempts - 1, 0), 20))
        return min(delay, self.retry_max)


@dataclass
class DeliveryReport:
    queued: int = 0
    missed: int = 0
    claimed: int = 0
    composed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    gone: int = 0
    skipped: int = 0
    lost_lease: int = 0
    messages: int = 0
    compose_seconds: float = 0.0  # spent composing (wall time of the batches)

    @property
    def quiet(self) -> bool:
        """Nothing was due, claimed or missed (not worth a log line every minute)."""
        return not (self.queued or self.claimed or self.missed)

    def summary(self) -> str:
        return (
            f"{self.sent} sent, {self.retried} to retry, {self.failed} failed "
            f"({self.gone} recipients gone), {self.skipped} skipped, {self.missed} missed; "
            f"{self.queued} newly due"
        )


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery row a worker holds, as far as sending it needs (read as plain columns: a
    batch is thousands of rows, ORM objects would cost more than composing them)."""

    id: int
    user_id: int
    attempts: int


@dataclass(frozen=True, slots=True)
class Recipient:
    """The user a claimed delivery goes to, as far as sending needs."""

    id: int
    platform: str
    workspace: str
    external_id: str
    kind: str
    settings: dict[str, Any] | None  # read only: recipients with the same settings share them
    active: bool
    paused: bool
    inactive_reason: str | None
    timezone: str  # their local day is the brief's


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # the delivery's new status: sent | queued (retry) | failed | skipped
    attempt: str  # what this attempt was: sent | transient | rate_limited | gone | …
    error: str | None = None
    latency_ms: int = 0
    not_before: datetime | None = None
    message_ids: list[str] = field(default_factory=list)
    counts_as_attempt: bool = True


@dataclass(frozen=True, slots=True)
class Entry:
    delivery_id: int
    outcome: Outcome
    at: datetime
    chat: ChatRef | None = None  # sent: the chat whose "#3" now means this brief's
    brief_id: int | None = None
