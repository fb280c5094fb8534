"""`kill -9` of a real `podbrief ingest` while the LLM extracts insights (the loopback
OpenAI-compatible server holds one completion open), then the same command again: each
episode is extracted once, its insights stored once, nothing lost, the same result as an
uninterrupted run; and the episodes whose insights were stored before the kill are not sent
to the LLM again."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
from pathlib import Path

from tests.cli_process import PODBRIEF, clean_env
from tests.fakes.openai_server import FakeOpenAI, Hang, Json, running
from tests.faults.test_kill_during_ingest import Site, _stored, kill_when
from tests.http_server import serve

NAMES = ["awsbites__10.vtt", "changelog__changelog-news-100.md", "awsbites__150.vtt",
         "podcastindex__example.srt"]  # fmt: skip


def _env(data: Path, llm_url: str) -> dict[str, str]:
    return clean_env(data, OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=llm_url,
                     PODBRIEF_EXTRACTOR="llm")  # fmt: skip


async def _start(data: Path, llm_url: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(PODBRIEF), *args, env=_env(data, llm_url), start_new_session=True,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def _podbrief(data: Path, llm_url: str, *args: str) -> str:
    process = await _start(data, llm_url, *args)
    async with asyncio.timeout(240):
        output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()


def _episode_of(request: Json) -> str:
    user = next(m["content"] for m in request["messages"] if m["role"] == "user")
    found = re.search(r"^Episode: (.*)$", user, re.MULTILINE)
    assert found, user[:300]
    return found.group(1)


def _extracted(data: Path) -> set[str]:
    with sqlite3.connect(data / "data" / "podbrief.sqlite3") as db:
        rows = db.execute("SELECT title FROM episodes WHERE insight_status = 'done'").fetchall()
    return {title for (title,) in rows}


async def test_ingest_killed_mid_extraction_then_rerun_extracts_each_episode_once(
    tmp_path: Path, shared_data: Path
) -> None:
    site, llm = Site(shared_data / "transcripts", NAMES, "Extraction"), FakeOpenAI()
    async with serve(site.app()) as base, running(llm) as llm_url:
        site.base = base
        reference, killed = tmp_path / "reference", tmp_path / "killed"
        await _podbrief(reference, llm_url, "feeds", "add", f"{base}/feed.xml")
        await asyncio.to_thread(shutil.copytree, reference, killed)  # the same feed, not polled
        await _podbrief(reference, llm_url, "ingest", "--all")
        assert {_episode_of(r) for r in llm.chat_requests()} == set(NAMES)  # the LLM extracted

        llm.script = [Hang()]  # the next completion is held open
        process = await _start(killed, llm_url, "ingest", "--all")
        await kill_when(process, llm.hung)
        done_before = _extracted(killed)
        assert done_before != set(NAMES)  # caught in the middle

        asked_before = len(llm.chat_requests())
        await _podbrief(killed, llm_url, "ingest", "--all")
        asked_again = {_episode_of(r) for r in llm.chat_requests()[asked_before:]}

    assert asked_again and not asked_again & done_before  # what was stored is not asked again
    want_insights, want_episodes = _stored(reference)
    got_insights, got_episodes = _stored(killed)
    assert len(want_insights) > 4
    assert got_episodes == want_episodes  # every episode in the same state, one transcript each
    assert got_insights == want_insights  # none lost, none twice
