"""The feeds CLI as the operator uses it: import the shared feeds, ingest twice, stats."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web
from typer.testing import CliRunner

from bot.cli import build
from bot.settings import CONFIG_DIR
from tests.http_server import serve
from tests.unit.test_feed_parse import ITEMS


def _words(output: str) -> str:
    """Rich wraps long lines; compare text with its whitespace collapsed."""
    return " ".join(output.split())


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODBRIEF_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PODBRIEF_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("PODBRIEF_DATABASE_URL", raising=False)
    return tmp_path


def test_import_ingest_twice_and_stats(env: Path, shared_data: Path) -> None:
    app = build()
    runner = CliRunner()
    feeds = sorted((shared_data / "feeds").glob("*.xml"))
    outlines = "".join(f'<outline text="x" xmlUrl="{p}"/>' for p in feeds)
    opml = env / "feeds.opml"
    opml.write_text(f"<opml version='2.0'><body>{outlines}</body></opml>")

    imported = runner.invoke(app, ["feeds", "import-opml", str(opml)])
    assert imported.exit_code == 0, imported.output
    assert "imported 10 feeds" in imported.output

    first = runner.invoke(app, ["ingest", "--no-transcripts"])
    assert first.exit_code == 0, first.output
    total = sum(ITEMS.values())
    assert f"10 updated, 0 unchanged, 0 failed; {total} new episodes" in first.output
    second = runner.invoke(app, ["ingest", "--all", "--no-transcripts"])
    assert "0 updated, 10 unchanged, 0 failed; 0 new episodes" in second.output

    stats = runner.invoke(app, ["stats", "--json"])
    counts = json.loads(stats.output.strip().splitlines()[-1])
    assert (counts["feeds"], counts["episodes"], counts["errors"]) == (10, total, 0)
    listed = json.loads(runner.invoke(app, ["feeds", "list", "--json"]).output)
    assert sorted(f["episodes"] for f in listed) == sorted(ITEMS.values())

    exported = runner.invoke(app, ["feeds", "export-opml"]).output
    assert exported.count("<outline") == 10
    removed = runner.invoke(app, ["feeds", "remove", str(listed[0]["id"])])
    assert removed.exit_code == 0 and "removed feed" in removed.output


def test_operator_errors_are_plain_words(env: Path) -> None:
    app = build()
    runner = CliRunner()
    missing = runner.invoke(app, ["feeds", "add", str(env / "nope.xml")])
    assert missing.exit_code == 1
    assert "no such file" in missing.output
    unknown = runner.invoke(app, ["feeds", "remove", "42"])
    assert unknown.exit_code == 1 and "there is no feed 42" in unknown.output
    bad = env / "bad.opml"
    bad.write_text("<html>not opml</html>")
    broken = runner.invoke(app, ["feeds", "import-opml", str(bad)])
    assert broken.exit_code == 1 and "not an OPML file" in broken.output
    empty = runner.invoke(app, ["feeds", "list"])
    assert "no feeds yet" in empty.output


def test_ingest_extracts_insights_so_brief_and_insights_list_have_them(env: Path) -> None:
    app = build()
    runner = CliRunner()
    for feed in sorted((CONFIG_DIR / "samples").glob("*.xml")):
        assert runner.invoke(app, ["feeds", "add", str(feed)]).exit_code == 0

    first = runner.invoke(app, ["ingest"])
    assert first.exit_code == 0, first.output
    summary = [line for line in first.output.splitlines() if line.startswith("ingest:")]
    assert len(summary) == 1  # one line for feeds, transcripts and insights
    assert "transcripts: 9 fetched" in summary[0]
    created = int(summary[0].split("insights: ")[1].split(" ")[0])
    assert created >= 9

    listed = json.loads(runner.invoke(app, ["insights", "list", "--json"]).output)
    assert len(listed) == created
    brief = json.loads(runner.invoke(app, ["brief", "--user", "newcomer", "--json"]).output)
    assert len(brief["items"]) == 5

    again = runner.invoke(app, ["ingest", "--all"])
    assert "0 new episodes" in again.output and "insights: 0 from 0 episodes" in again.output


def test_more_operator_errors_are_plain_words(env: Path) -> None:
    app = build()
    runner = CliRunner()
    folder = runner.invoke(app, ["feeds", "add", str(env)])
    assert folder.exit_code == 1 and "is a folder, not a feed file" in _words(folder.output)
    unwritable = runner.invoke(app, ["feeds", "export-opml", "-o", str(env / "no" / "x.opml")])
    assert unwritable.exit_code == 1 and isinstance(unwritable.exception, SystemExit)
    assert "cannot write" in unwritable.output
    for name in ("", "   ", "x" * 101):
        bad = runner.invoke(app, ["brief", "--user", name])
        assert bad.exit_code == 2 and "Invalid value for '--user'" in _words(bad.output)
    missing = runner.invoke(app, ["insights", "list", "--episode", "999"])
    assert missing.exit_code == 0 and "No insights for episode 999" in missing.output


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("PODBRIEF_DATABASE_URL", "nonsense://x", "the database URL is not valid"),
        ("PODBRIEF_DATABASE_URL", "postgresql://u@127.0.0.1:1/x", "the database cannot be used"),
        ("PODBRIEF_FETCH_CONCURRENCY", "many", "a setting is not valid: fetch_concurrency"),
        ("PODBRIEF_CONFIG", "BROKEN", "is not valid TOML"),
    ],
)
def test_bad_settings_end_in_one_plain_line_not_a_traceback(
    env: Path, setting: str, value: str, says: str
) -> None:
    if value == "BROKEN":
        value = str(env / "broken.toml")
        Path(value).write_text("this is = = not toml")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "podbrief"), "stats"],
        capture_output=True,
        text=True,
        env={**os.environ, setting: value, "COLUMNS": "200"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert says in done.stderr and "Traceback" not in done.stderr, done.stderr


async def test_ctrl_c_during_ingest_exits_quietly(env: Path) -> None:
    arrived, release = asyncio.Event(), asyncio.Event()

    async def stalls(request: web.Request) -> web.Response:
        arrived.set()
        await release.wait()  # the feed never answers while the test runs
        return web.Response(status=503)

    app = web.Application()
    app.router.add_get("/feed.xml", stalls)
    async with serve(app) as base:
        opml = env / "one.opml"
        opml.write_text(
            f"<opml version='2.0'><body><outline xmlUrl='{base}/feed.xml'/></body></opml>"
        )
        podbrief = str(Path(sys.executable).parent / "podbrief")
        imported = await asyncio.create_subprocess_exec(podbrief, "feeds", "import-opml", str(opml))
        assert await imported.wait() == 0
        ingest = await asyncio.create_subprocess_exec(
            podbrief, "ingest", stderr=asyncio.subprocess.PIPE
        )
        await asyncio.wait_for(arrived.wait(), 60)
        ingest.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(ingest.communicate(), 60)
        release.set()
    said = stderr.decode()
    assert ingest.returncode == 130 and "Traceback" not in said, said
