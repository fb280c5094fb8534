"""Sending one composed brief through the rate limiter and writing down what happened."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.brief.compose import BriefEntry, BriefResult
from core.chat.handlers.brief import brief_parts, brief_reply, card_from_entry
from core.chat.page_links import with_page_urls
from core.chat.types import ChatRef, InsightCard, Text
from core.db import Sessions
from core.delivery.claim import still_mine
from core.delivery.errors import MaybeSent, RateLimited, RecipientGone
from core.delivery.ratelimit import RateLimiters
from core.delivery.record import Recorder
from core.delivery.types import (
    Claimed,
    DeliveryConfig,
    DeliveryReport,
    Entry,
    Outcome,
    Recipient,
)
from core.people.status import deactivate_recipient
from core.ports import Clock, Messenger

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Ready:
    """A claimed delivery with its brief composed, waiting for its turn to be sent."""

    delivery: Claimed
    user: Recipient
    result: BriefResult
    held_since: datetime  # when this worker claimed it (or last renewed the lease)


def chat_ref(user: Recipient) -> ChatRef:
    return ChatRef(
        platform=user.platform,
        chat_id=user.external_id,
        workspace=user.workspace,
        is_group=user.kind != "person",
    )


class _Cards:
    """Each brief entry made into a card once: a batch's briefs share their entries
    (``core.brief.batch``), so 1000s of briefs need only a few dozen cards."""

    _LIMIT = 10_000

    def __init__(self) -> None:
        self._made: dict[int, tuple[BriefEntry, InsightCard]] = {}  # by id(entry)

    def __call__(self, entry: BriefEntry) -> InsightCard:
        found = self._made.get(id(entry))
        if found is not None and found[0] is entry:  # the entry is held, so its id is its own
            return found[1]
        if len(self._made) >= self._LIMIT:
            self._made.clear()
        card = card_from_entry(entry)
        self._made[id(entry)] = (entry, card)
        return card


class _Parts:
    """A brief's parts made once for every brief of the same day and the same (shared)
    entries: most of a batch's recipients get one of a few briefs."""

    _LIMIT = 10_000

    def __init__(self) -> None:
        self._cards = _Cards()
        # (day, id of each entry) -> (the entries, held so their ids stay theirs; the parts)
        self._made: dict[
            tuple[Any, ...], tuple[list[BriefEntry], tuple[Text | InsightCard, ...]]
        ] = {}

    def __call__(self, result: BriefResult) -> tuple[Text | InsightCard, ...]:
        key = (result.local_date, *map(id, result.items))
        found = self._made.get(key)
        if found is not None:  # the entries are held, so their ids are still theirs
            return found[1]
        if len(self._made) >= self._LIMIT:
            self._made.clear()
        parts = brief_parts(result, self._cards)
        self._made[key] = (list(result.items), parts)
        return parts


class Sender:
    def __init__(
        self,
        sessions: Sessions,
        clock: Clock,
        messengers: dict[str, Messenger],
        config: DeliveryConfig,
        limiters: RateLimiters,
        report: DeliveryReport,
    ) -> None:
        self.sessions, self.clock, self.messengers = sessions, clock, messengers
        self.config, self.limiters, self.report = config, limiters, report
        self.recorder = Recorder(sessions, config.worker)
        self._briefs: dict[int, int | None] = {}  # delivery id -> its composed brief
        self.compact_platforms: set[str] = set()  # where briefs default to one message now
        self._parts = _Parts()

    def remember_brief(self, delivery_id: int, brief_id: int | None) -> None:
        """The brief composed for a delivery, stored with the send's outcome."""
        self._briefs[delivery_id] = brief_id

    async def send(self, ready: Ready) -> None:
        delivery, user, result = ready.delivery, ready.user, ready.result
        chat = chat_ref(user)
        limiter = self.limiters.for_platform(user.platform)
        await limiter.acquire(f"{user.workspace}/{user.external_id}", is_group=chat.is_group)
        if not await self._still_mine(ready):
            self.report.lost_lease += 1
            return
        reply = with_page_urls(
            brief_reply(
                result,
                user.settings,
                compact_default=user.platform in self.compact_platforms,
                parts=self._parts,
            ),
            self.config.public_url,
        )
        timer = self.limiters.timer
        started = timer.monotonic()

        def ms() -> int:
            return int((timer.monotonic() - started) * 1000)

        try:
            ids = await self.messengers[user.platform].send(chat, reply)
        except RecipientGone as exc:
            await deactivate_recipient(
                self.sessions, user.platform, user.workspace, user.external_id, exc.reason
            )
            log.warning("recipient %s is gone (%s): deactivated", user.id, exc.reason)
            self.report.gone += 1
            return await self.finish(delivery, Outcome("failed", "gone", exc.reason, ms()))
        except RateLimited as exc:
            limiter.pause(exc.retry_after)
            # The platform's wait, not our backoff; and not an attempt against max_attempts:
            # the brief is fine, the platform asked for time (a long stretch of 429s would
            # otherwise give it up). The grace still bounds how late it may go.
            not_before = self.clock.now() + timedelta(seconds=exc.retry_after)
            limited = Outcome("queued", "rate_limited", str(exc), ms(), not_before,
                              counts_as_attempt=False)  # fmt: skip
            return await self.finish(delivery, limited)
        except MaybeSent as exc:
            return await self.finish(delivery, Outcome("failed", "maybe_sent", str(exc), ms()))
        except Exception as exc:
            return await self.retry(delivery, "transient", str(exc) or type(exc).__name__, ms())
        self.report.messages += len(ids)
        sent = Outcome("sent", "sent", None, ms(), message_ids=ids)
        await self.finish(delivery, sent, chat=chat, brief_id=result.brief_id)

    async def _still_mine(self, ready: Ready) -> bool:
        """Nobody can have taken the row over within the lease (taking over needs it to have
        run out), so only a send that waited long asks the database, renewing the lease; False
        if another worker has taken the row meanwhile, so this one must not send."""
        now = self.clock.now()
        if now - ready.held_since < self.config.lease / 2:
            return True
        return await still_mine(
            self.sessions,
            ready.delivery.id,
            self.config.worker,
            now,
            brief_id=ready.result.brief_id,
        )

    async def retry(
        self,
        delivery: Claimed,
        attempt: str,
        error: str,
        latency_ms: int = 0,
    ) -> None:
        attempts = delivery.attempts + 1
        if attempts >= self.config.max_attempts:
            final = f"gave up after {attempts} attempts: {error}"
            return await self.finish(delivery, Outcome("failed", attempt, final, latency_ms))
        not_before = self.clock.now() + self.config.backoff(attempts)
        await self.finish(delivery, Outcome("queued", attempt, error, latency_ms, not_before))

    async def finish(
        self,
        delivery: Claimed,
        outcome: Outcome,
        *,
        chat: ChatRef | None = None,
        brief_id: int | None = None,
    ) -> None:
        """Count and store the outcome; a sent brief also becomes what "#3" means in the chat."""
        counter = {"queued": "retried", "sent": "sent", "failed": "failed", "skipped": "skipped"}
        name = counter[outcome.status]
        setattr(self.report, name, getattr(self.report, name) + 1)
        if outcome.status != "sent":
            log.info(
                "delivery %s (user %s): %s: %s",
                delivery.id,
                delivery.user_id,
                outcome.attempt,
                outcome.error,
            )
        known = self._briefs.pop(delivery.id, None)
        brief_id = brief_id if brief_id is not None else known
        entry = Entry(delivery.id, outcome, self.clock.now(), chat, brief_id)
        await self.recorder.record(entry)
