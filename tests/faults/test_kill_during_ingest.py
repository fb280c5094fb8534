"""`kill -9` of a real `podbrief run` while its scheduler's ingest fetches a transcript, then
`podbrief run` again: every episode, transcript and insight is stored once, and the result is
the same as one uninterrupted ingest of the same feed (in another data dir), on SQLite and
PostgreSQL. The restarted process catches up by itself: nothing but a restart is done.

The loopback transcript server holds one transcript's request open, so the process is caught
deterministically in the middle: other transcripts fetched (and perhaps their insights
extracted), one in flight."""

from __future__ import annotations

from pathlib import Path

from tests.cli_process import clean_env
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


async def test_run_killed_mid_transcript_then_restarted_stores_everything_once(
    tmp_path: Path, shared_data: Path, db_url: str
) -> None:
    site = Site(shared_data / "transcripts", NAMES, "Faults")
    env = clean_env(tmp_path / "killed", PODBRIEF_DATABASE_URL=db_url, **RUN_ENV)
    async with serve(site.app()) as base:
        site.base = base
        if not _reference:
            (tmp_path / "reference" / "data").mkdir(parents=True)
            await subscribe(sqlite_url(tmp_path / "reference"), f"{base}/feed.xml")
            await podbrief(clean_env(tmp_path / "reference"), "ingest")
            _reference.append(await stored(sqlite_url(tmp_path / "reference")))
        await subscribe(db_url, f"{base}/feed.xml")

        site.hold = HELD
        process = await start(env, *RUN)
        try:
            await kill_when(process, site.held.wait())
        finally:
            site.hold = None
            site.release.set()
        _, midway = await stored(db_url)  # the feed was polled, the held transcript not stored
        assert {title: count for title, *_, count in midway}.get(HELD) == 0, midway

        await run_until_ingested(env)

    want_insights, want_episodes = _reference[0]
    got_insights, got_episodes = await stored(db_url)
    assert {title for title, _, _ in want_insights} == set(NAMES)  # insights from each
    assert {state for _, state, _, _ in want_episodes} == {"fetched"}
    assert got_episodes == want_episodes  # one transcript each, all in the same state
    assert got_insights == want_insights  # none lost, none twice
