"""A full disk under SQLite, made real for one `podbrief` process with RLIMIT_FSIZE (the
kernel refuses to grow any file past the limit, as on a full disk; no root mount needed):
the command fails with a plain message, the database stays whole, nothing half-written is kept,
and the same command succeeds once there is room again."""

from __future__ import annotations

import asyncio
import resource
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path

from tests.cli_process import PODBRIEF, clean_env
from tests.faults.killing import subscribe


def _podbrief(
    tmp_path: Path, *args: str, max_file_bytes: int | None = None
) -> subprocess.CompletedProcess[str]:
    def limit_file_size() -> None:
        if max_file_bytes is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails instead of killing us
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    return subprocess.run(
        [str(PODBRIEF), *args],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        preexec_fn=limit_file_size,
        timeout=240,
        check=False,
    )


def subscribed(tmp_path: Path, feed: Path) -> Path:
    """The SQLite database of ``tmp_path``'s data dir, subscribed to ``feed`` (as `podbrief
    feeds add` leaves it, without a process to start for it)."""
    db = tmp_path / "data" / "podbrief.sqlite3"
    db.parent.mkdir(parents=True)
    asyncio.run(subscribe(f"sqlite:///{db}", feed.resolve().as_uri()))
    return db


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_a_full_disk_fails_plainly_keeps_the_database_whole_and_recovers(
    tmp_path: Path, shared_data: Path
) -> None:
    feed = tmp_path / "show.xml"
    shutil.copy(shared_data / "feeds" / "podcastindex__example.xml", feed)
    db = subscribed(tmp_path, feed)
    before = _count(db, "episodes")
    room = db.stat().st_size + 4096  # a page or so more, then the disk is "full"

    big = shared_data / "feeds" / "node-podcast-parser__se-radio.xml"
    full = _podbrief(tmp_path, "feeds", "add", str(big), max_file_bytes=room)
    assert full.returncode != 0
    assert "the database cannot be used" in full.stderr and "Traceback" not in full.stderr
    assert (_count(db, "feeds"), _count(db, "episodes")) == (1, before)  # nothing half-written

    shutil.copy(big, feed)  # the stored feed now has hundreds of new episodes
    polled = _podbrief(
        tmp_path, "ingest", "--all", "--no-transcripts", "--no-insights", max_file_bytes=room
    )
    assert "Traceback" not in polled.stderr
    assert "the database cannot be used" in polled.stderr and "1 failed" in polled.stdout
    assert _count(db, "episodes") == before

    again = _podbrief(tmp_path, "ingest", "--all", "--no-transcripts", "--no-insights")
    assert again.returncode == 0, again.stderr
    grown = _count(db, "episodes")
    assert grown > before + 100
