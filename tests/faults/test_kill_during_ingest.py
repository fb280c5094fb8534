"""`kill -9` of a real `podbrief run` twice in one ingest, restarted each time and nothing else
done: first while its scheduler fetches a transcript (the loopback site holds that request
open), then while the LLM extracts insights (the loopback OpenAI-compatible server holds the
second completion open, the first episode's insights stored). After the last restart every
episode, transcript and insight is stored once, the same as one uninterrupted ingest of the
same feed in another data dir; the episode stored before the second kill is not sent to the
LLM again, the others once each. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from core.db import create_engine, session_factory
from core.models import Episode
from tests.cli_process import clean_env
from tests.fakes.openai_server import Answer, FakeOpenAI, Hang, running
from tests.faults.killing import (
    RUN,
    RUN_ENV,
    Site,
    Stored,
    kill_when,
    podbrief,
    run_until_ingested,
    sqlite_url,
    start,
    stored,
    subscribe,
)
from tests.http_server import serve

NAMES = ["awsbites__10.vtt", "podcastindex__example.srt", "changelog__changelog-news-100.md"]
HELD = "podcastindex__example.srt"
_reference: list[Stored] = []  # an uninterrupted run's result, the same for both databases


def _env(data: Path, llm_url: str, db_url: str) -> dict[str, str]:
    return clean_env(data, PODBRIEF_DATABASE_URL=db_url, OPENAI_API_KEY="sk-test",
                     OPENAI_BASE_URL=llm_url, PODBRIEF_EXTRACTOR="llm",
                     PODBRIEF_LLM_CONCURRENCY="1", **RUN_ENV)  # fmt: skip


def _episodes_asked(llm: FakeOpenAI, since: int = 0) -> list[str]:
    """The episode of each completion request from the ``since``-th on, in order."""
    found = []
    for request in llm.chat_requests()[since:]:
        user = next(m["content"] for m in request["messages"] if m["role"] == "user")
        episode = re.search(r"^Episode: (.*)$", user, re.MULTILINE)
        assert episode, user[:300]
        found.append(episode.group(1))
    return found


async def _extracted(db_url: str) -> set[str]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            done = await session.scalars(
                select(Episode.title).where(Episode.insight_status == "done"))  # fmt: skip
            return set(done.all())
    finally:
        await engine.dispose()


async def _uninterrupted(tmp_path: Path, base: str, llm: FakeOpenAI, llm_url: str) -> Stored:
    reference = tmp_path / "reference"
    (reference / "data").mkdir(parents=True)
    await subscribe(sqlite_url(reference), f"{base}/feed.xml")
    asked = len(llm.chat_requests())
    await podbrief(_env(reference, llm_url, sqlite_url(reference)), "ingest")
    assert sorted(_episodes_asked(llm, asked)) == sorted(NAMES)  # one completion per episode
    return await stored(sqlite_url(reference))


async def test_run_killed_mid_transcript_and_mid_extraction_restarts_and_stores_all_once(
    tmp_path: Path, shared_data: Path, db_url: str
) -> None:
    site, llm = Site(shared_data / "transcripts", NAMES, "Faults"), FakeOpenAI()
    async with serve(site.app()) as base, running(llm) as llm_url:
        site.base = base
        if not _reference:
            _reference.append(await _uninterrupted(tmp_path, base, llm, llm_url))
        env = _env(tmp_path / "killed", llm_url, db_url)
        await subscribe(db_url, f"{base}/feed.xml")
        asked = len(llm.chat_requests())

        site.hold = HELD  # 1. killed while a transcript request is in flight
        process = await start(env, *RUN)
        try:
            await kill_when(process, site.held.wait())
        finally:
            site.hold = None
            site.release.set()
        _, midway = await stored(db_url)  # the feed was polled, the held transcript not stored
        assert {title: count for title, *_, count in midway}.get(HELD) == 0, midway
        assert len(llm.chat_requests()) == asked  # transcripts first, then extraction

        llm.script = [Answer(), Hang()]  # 2. restarted, killed with a completion in flight
        process = await start(env, *RUN)
        await kill_when(process, llm.hung.wait())  # episodes go one by one: the first is stored
        done_before = await _extracted(db_url)
        assert len(done_before) == 1, done_before
        assert len(_episodes_asked(llm, asked)) == 2

        killed_asked = len(llm.chat_requests())
        await run_until_ingested(env)  # 3. restarted: it catches up by itself
        asked_again = _episodes_asked(llm, killed_asked)

    assert sorted(asked_again) == sorted(set(NAMES) - done_before)  # the rest, once each
    want_insights, want_episodes = _reference[0]
    got_insights, got_episodes = await stored(db_url)
    assert {title for title, _, _ in want_insights} == set(NAMES)  # insights from each
    assert {state for _, state, _, _ in want_episodes} == {"fetched"}
    assert got_episodes == want_episodes  # one transcript each, all in the same state
    assert got_insights == want_insights  # none lost, none twice
