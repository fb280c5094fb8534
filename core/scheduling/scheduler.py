"""The scheduler inside `podbrief run`: APScheduler 3 (``AsyncIOScheduler``) with two jobs.

- ingest: poll the feeds that are due, fetch transcripts, extract insights and update related
  insights, every tenth of the poll interval (at least a minute). Each feed comes due at its
  own phase of the interval (``PollPolicy.next_poll``), so each tick polls about a tenth of the
  feeds instead of all of them at once; each process starts at a random point and jitters
  (or right at start with ``ingest_at_start``: one process catching up after a restart).
- deliver: the delivery tick, every minute, first right at start (catching up after downtime).

Each job gets an ``asyncio.Event`` that is set on stop, so a long delivery run stops claiming.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

Job = Callable[[asyncio.Event], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    poll_interval: timedelta = timedelta(minutes=30)
    delivery_every: timedelta = timedelta(minutes=1)
    jitter_fraction: float = 0.1  # of the poll interval, each time
    ingest_at_start: bool = False  # False: first at a random point of the first tick


class Scheduler:
    """A ``bot.runtime.Component``: no HTTP routes, jobs on the running event loop."""

    name = "scheduler"

    def __init__(
        self,
        *,
        ingest: Job | None = None,
        deliver: Job | None = None,
        config: ScheduleConfig | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config or ScheduleConfig()
        self._jobs = {name: job for name, job in (("ingest", ingest), ("deliver", deliver)) if job}
        self._rng = rng or random.Random()
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[Any]] = set()
        self.stopping = asyncio.Event()

    def routes(self) -> list[Any]:
        return []

    async def start(self) -> None:
        scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        now = datetime.now(UTC)
        interval = max(60.0, self.config.poll_interval.total_seconds() / 10)
        if "ingest" in self._jobs:
            trigger = IntervalTrigger(
                seconds=interval, jitter=int(interval * self.config.jitter_fraction) or None
            )
            spread = 0.0 if self.config.ingest_at_start else self._rng.uniform(0, interval)
            first = now + timedelta(seconds=spread)
            scheduler.add_job(self._runner("ingest"), trigger, id="ingest", next_run_time=first)
        if "deliver" in self._jobs:
            every = IntervalTrigger(seconds=self.config.delivery_every.total_seconds())
            scheduler.add_job(self._runner("deliver"), every, id="deliver", next_run_time=now)
        scheduler.start()
        self._scheduler = scheduler
        runs = [f"{k} next at {v:%H:%M:%S} UTC" for k, v in self.next_runs().items() if v]
        log.info("scheduler: %s", ", ".join(runs))

    async def stop(self) -> None:
        self.stopping.set()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._running:  # let a running job finish its current step and record it
            await asyncio.gather(*self._running, return_exceptions=True)

    def next_runs(self) -> dict[str, datetime | None]:
        if self._scheduler is None:
            return {}
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs()}

    def _runner(self, name: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if self.stopping.is_set():
                return
            # Its own task, shielded: APScheduler's shutdown cancels the jobs it runs, but a
            # delivery run should finish recording what it sent; ``stop`` waits for it.
            task = asyncio.create_task(self._run_job(name))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            await asyncio.shield(task)

        return run

    async def _run_job(self, name: str) -> None:
        try:
            result = await self._jobs[name](self.stopping)
        except Exception:  # the next run tries again; the process keeps going
            log.exception("scheduled %s failed", name)
            return
        summary = getattr(result, "summary", None)
        if callable(summary) and not getattr(result, "quiet", False):
            log.info("%s: %s", name, summary())
