"""The feeds CLI as the operator uses it: import the shared feeds, ingest twice, stats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import build
from tests.unit.test_feed_parse import ITEMS


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
