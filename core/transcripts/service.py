"""Fetch, parse and store the transcript of every episode still waiting for one.

Per episode: try its transcript links best first (see ``select``), moving on to the next link
when a fetch or parse fails; with no links, fall back to the show notes. Everything for one
episode is written in one transaction, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import CursorResult, delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from core.db import transaction
from core.domain import FetchError, SegmentData
from core.models import Episode, Feed, Segment, Transcript
from core.ports import Clock, Fetcher
from core.transcripts.detect import format_from_mime
from core.transcripts.errors import TranscriptParseError
from core.transcripts.frontmatter import FrontMatter
from core.transcripts.parse import ParsedTranscript, parse_transcript
from core.transcripts.select import rank_transcript_links
from core.transcripts.shownotes import shownotes_segments

log = logging.getLogger(__name__)

_MAX_ERROR_CHARS = 2000


@dataclass(slots=True)
class TranscriptReport:
    checked: int = 0
    fetched: int = 0
    fallback: int = 0
    failed: int = 0
    none: int = 0
    skipped: int = 0  # another run finished the episode first, or the write failed
    segments: int = 0
    errors: dict[int, str] = field(default_factory=dict)  # episode id -> what went wrong


@dataclass(frozen=True, slots=True)
class _Link:
    url: str
    mime_type: str | None
    language: str | None


@dataclass(frozen=True, slots=True)
class _Job:
    episode_id: int
    description: str | None
    language: str | None
    links: list[_Link]


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: str  # fetched | fallback | failed | none
    segments: list[SegmentData] = field(default_factory=list)
    format: str | None = None
    source_url: str | None = None
    language: str | None = None
    content_hash: str | None = None
    error: str | None = None
    front_matter: FrontMatter | None = None


async def fetch_pending_transcripts(
    sessions: async_sessionmaker[AsyncSession],
    fetcher: Fetcher,
    clock: Clock,
    *,
    concurrency: int = 8,
    max_bytes: int = 20_000_000,
    episode_ids: Sequence[int] | None = None,
) -> TranscriptReport:
    """Give every episode whose transcript_status is 'pending' a transcript (or a reason)."""
    jobs = await _pending_jobs(sessions, episode_ids)
    report = TranscriptReport(checked=len(jobs))
    gate = asyncio.Semaphore(max(1, concurrency))

    async def run(job: _Job) -> None:
        async with gate:
            outcome = await _obtain(job, fetcher, max_bytes)
        await _record(sessions, clock, job, outcome, report)

    await asyncio.gather(*(run(job) for job in jobs))
    return report


async def _pending_jobs(
    sessions: async_sessionmaker[AsyncSession], episode_ids: Sequence[int] | None
) -> list[_Job]:
    query = (
        select(Episode, Feed.language)
        .join(Feed, Feed.id == Episode.feed_id)
        .where(Episode.transcript_status == "pending")
        .options(selectinload(Episode.transcript_links))
        .order_by(Episode.id)
    )
    if episode_ids is not None:
        query = query.where(Episode.id.in_(list(episode_ids)))
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    return [
        _Job(
            episode_id=episode.id,
            description=episode.description,
            language=episode.language or feed_language,
            links=[_Link(ln.url, ln.mime_type, ln.language) for ln in episode.transcript_links],
        )
        for episode, feed_language in rows
    ]


async def _obtain(job: _Job, fetcher: Fetcher, max_bytes: int) -> _Outcome:
    if not job.links:
        return _from_shownotes(job)
    problems: list[str] = []
    for link in rank_transcript_links(job.links, job.language):
        try:
            body, url, mime = await _download(fetcher, link, max_bytes)
            parsed = await asyncio.to_thread(parse_transcript, body, mime_type=mime, url=url)
        except (FetchError, TranscriptParseError) as exc:
            problems.append(f"{link.url}: {exc}")
            continue
        return _from_transcript(job, link, url, body, parsed)
    return _Outcome(status="failed", error=_failure_message(problems))


async def _download(fetcher: Fetcher, link: _Link, max_bytes: int) -> tuple[bytes, str, str | None]:
    result = await fetcher.fetch(link.url, max_bytes=max_bytes)
    if result.status != 200:
        raise FetchError(f"the server answered with status {result.status}", status=result.status)
    if len(result.body) > max_bytes:
        raise FetchError(f"the file is larger than {max_bytes} bytes", retryable=False)
    # The feed's declared type is usually more specific than the server's generic one.
    specific = format_from_mime(link.mime_type) not in (None, "text")
    mime = link.mime_type if specific else (result.content_type or link.mime_type)
    return result.body, result.url or link.url, mime


def _from_transcript(
    job: _Job, link: _Link, url: str, body: bytes, parsed: ParsedTranscript
) -> _Outcome:
    return _Outcome(
        status="fetched",
        segments=parsed.segments,
        format=parsed.format,
        source_url=url,
        language=link.language or job.language,
        content_hash=hashlib.sha256(body).hexdigest(),
        front_matter=parsed.front_matter,
    )


def _from_shownotes(job: _Job) -> _Outcome:
    segments = shownotes_segments(job.description)
    if not segments:
        return _Outcome(status="none")
    return _Outcome(
        status="fallback",
        segments=segments,
        format="shownotes",
        language=job.language,
        content_hash=hashlib.sha256((job.description or "").encode("utf-8")).hexdigest(),
    )


def _failure_message(problems: list[str]) -> str:
    count = "the transcript" if len(problems) == 1 else f"any of the {len(problems)} transcripts"
    message = f"Could not use {count} this episode links to. " + "; ".join(problems)
    return message[:_MAX_ERROR_CHARS]


async def _record(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    job: _Job,
    outcome: _Outcome,
    report: TranscriptReport,
) -> None:
    try:
        stored = await _store(sessions, clock, job, outcome)
    except SQLAlchemyError as exc:  # one episode's failed write must not stop the rest
        log.exception("storing the transcript of episode %s failed", job.episode_id)
        report.skipped += 1
        report.errors[job.episode_id] = f"could not save the transcript: {exc}"
        return
    if not stored:
        report.skipped += 1
        return
    setattr(report, outcome.status, getattr(report, outcome.status) + 1)
    report.segments += len(outcome.segments)
    if outcome.error:
        report.errors[job.episode_id] = outcome.error


async def _store(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, job: _Job, outcome: _Outcome
) -> bool:
    """Write the outcome; False when the episode is no longer pending (someone else did it)."""
    async with transaction(sessions) as session:
        # Writing first takes the write lock at once (SQLite) and claims the row (PostgreSQL).
        claim = (
            update(Episode)
            .where(Episode.id == job.episode_id, Episode.transcript_status == "pending")
            .values(transcript_status=outcome.status, transcript_error=outcome.error)
            .execution_options(synchronize_session=False)
        )
        result = await session.execute(claim)
        if not isinstance(result, CursorResult) or result.rowcount != 1:
            return False  # the update changed nothing, so committing it is harmless
        await session.execute(delete(Transcript).where(Transcript.episode_id == job.episode_id))
        if outcome.segments:
            await _insert_transcript(session, clock, job, outcome)
        if outcome.front_matter is not None:
            await _fill_from_front_matter(session, job.episode_id, outcome.front_matter)
    return True


async def _fill_from_front_matter(
    session: AsyncSession, episode_id: int, front_matter: FrontMatter
) -> None:
    """The transcript's own title and date, where the feed left the episode without them."""
    if front_matter.title:
        await session.execute(
            update(Episode)
            .where(Episode.id == episode_id, func.coalesce(func.trim(Episode.title), "") == "")
            .values(title=front_matter.title[:1000])
            .execution_options(synchronize_session=False)
        )
    if front_matter.published_at is not None:
        await session.execute(
            update(Episode)
            .where(Episode.id == episode_id, Episode.published_at.is_(None))
            .values(published_at=front_matter.published_at)
            .execution_options(synchronize_session=False)
        )


async def _insert_transcript(
    session: AsyncSession, clock: Clock, job: _Job, outcome: _Outcome
) -> None:
    assert outcome.format is not None and outcome.content_hash is not None
    is_fallback = outcome.status == "fallback"
    transcript = Transcript(
        episode_id=job.episode_id,
        source_url=outcome.source_url,
        format=outcome.format,
        language=outcome.language,
        is_fallback=is_fallback,
        content_hash=outcome.content_hash,
        duration_seconds=None if is_fallback else max(s.end for s in outcome.segments),
        fetched_at=clock.now(),
    )
    session.add(transcript)
    await session.flush()
    rows = [
        {
            "transcript_id": transcript.id,
            "idx": index,
            "start": segment.start,
            "end": segment.end,
            "speaker": segment.speaker[:200] if segment.speaker else None,
            "text": segment.text,
        }
        for index, segment in enumerate(outcome.segments)
    ]
    await session.execute(insert(Segment), rows)
