"""`kill -9` of a real `podbrief run` while its scheduler's ingest has the LLM extract insights
(the loopback OpenAI-compatible server holds the second completion open, the first episode's
insights stored), then `podbrief run` again: each episode is extracted once, its insights
stored once, nothing lost, the same result as an uninterrupted ingest; the episode stored before
the kill is not sent to the LLM again, the others once each. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from core.db import create_engine, session_factory
from core.models import Episode
from tests.cli_process import clean_env
from tests.fakes.openai_server import Answer, FakeOpenAI, Hang, Json, running
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

NAMES = ["awsbites__10.vtt", "changelog__changelog-news-100.md", "podcastindex__example.srt"]
_reference: list[Stored] = []  # an uninterrupted run's result, the same for both databases


def _env(data: Path, llm_url: str, db_url: str) -> dict[str, str]:
    return clean_env(data, PODBRIEF_DATABASE_URL=db_url, OPENAI_API_KEY="sk-test",
                     OPENAI_BASE_URL=llm_url, PODBRIEF_EXTRACTOR="llm",
                     PODBRIEF_LLM_CONCURRENCY="1", **RUN_ENV)  # fmt: skip


def _episode_of(request: Json) -> str:
    user = next(m["content"] for m in request["messages"] if m["role"] == "user")
    found = re.search(r"^Episode: (.*)$", user, re.MULTILINE)
    assert found, user[:300]
    return found.group(1)


async def _extracted(db_url: str) -> set[str]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            done = await session.scalars(
                select(Episode.title).where(Episode.insight_status == "done"))  # fmt: skip
            return set(done.all())
    finally:
        await engine.dispose()


async def test_run_killed_mid_extraction_then_restarted_extracts_each_episode_once(
    tmp_path: Path, shared_data: Path, db_url: str
) -> None:
    site, llm = Site(shared_data / "transcripts", NAMES, "Extraction"), FakeOpenAI()
    async with serve(site.app()) as base, running(llm) as llm_url:
        site.base = base
        if not _reference:
            reference = tmp_path / "reference"
            (reference / "data").mkdir(parents=True)
            await subscribe(sqlite_url(reference), f"{base}/feed.xml")
            await podbrief(_env(reference, llm_url, sqlite_url(reference)), "ingest")
            asked = [_episode_of(r) for r in llm.chat_requests()]
            assert sorted(asked) == sorted(NAMES)  # one completion per episode
            _reference.append(await stored(sqlite_url(reference)))
        env = _env(tmp_path / "killed", llm_url, db_url)
        await subscribe(db_url, f"{base}/feed.xml")

        asked_before = len(llm.chat_requests())
        llm.script = [Answer(), Hang()]  # the first completion answered, the second held
        process = await start(env, *RUN)
        await kill_when(process, llm.hung.wait())  # episodes go one by one: the first is stored
        done_before = await _extracted(db_url)
        assert len(done_before) == 1, done_before  # caught in the middle

        killed_asked = len(llm.chat_requests())
        await run_until_ingested(env)
        asked_again = [_episode_of(r) for r in llm.chat_requests()[killed_asked:]]
        assert killed_asked - asked_before == 2

    assert sorted(asked_again) == sorted(set(NAMES) - done_before)  # the rest, once each
    want_insights, want_episodes = _reference[0]
    got_insights, got_episodes = await stored(db_url)
    assert {title for title, _, _ in want_insights} == set(NAMES)  # insights from each
    assert got_episodes == want_episodes  # every episode in the same state, one transcript each
    assert got_insights == want_insights  # none lost, none twice
