"""`podbrief demo` from an empty data dir, with the acceptance follow-ups piped to stdin."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import CONFIG_DIR

PODBRIEF = Path(sys.executable).parent / "podbrief"
FOLLOW_UPS = [
    "related 2",
    "source 1",
    "more like 3",
    "mute health",
    "show related insights",
    "anything about caffeine?",
    "purple monkey dishwasher",
    "quit",
]


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PODBRIEF_", "OPENAI_"))}
    env.update(
        PODBRIEF_DATA_DIR=str(data_dir),
        PODBRIEF_CONFIG=str(data_dir / "no-user-config.toml"),
        COLUMNS="200",  # wide enough that phrases are not wrapped apart
        TERM="dumb",
    )
    return env


def _run(args: list[str], data_dir: Path, stdin: str = "") -> str:
    done = subprocess.run(
        [str(PODBRIEF), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(data_dir),
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _after(out: str, said: str) -> str:
    """What the demo answered to one follow-up (up to the next one)."""
    start = out.index(f"you> {said}")
    rest = out[start + len(said) + 5 :]
    following = rest.find("you> ")
    return rest if following < 0 else rest[:following]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    if not list((CONFIG_DIR / "samples").glob("*.xml")):
        pytest.fail("the bundled sample feeds are missing from config/samples")
    data_dir = tmp_path_factory.mktemp("demo-data")
    return data_dir, _run(["demo"], data_dir, "\n".join(FOLLOW_UPS) + "\n")


def test_demo_prints_a_five_item_brief(demo_run: tuple[Path, str]) -> None:
    _, out = demo_run
    brief = out[: out.index("you> ")]
    assert "top 5" in brief
    assert [int(n) for n in re.findall(r"│ #(\d) ", brief)] == [1, 2, 3, 4, 5]
    # Quotes come with a speaker and a timestamp, cards with their show and episode.
    assert len(re.findall(r"” +— [^,]+, \d+:\d\d", brief)) >= 5
    assert any(show in brief for show in ("Well Rested", "The Pager Diaries", "Runway & Revenue"))


def test_demo_answers_the_acceptance_follow_ups(demo_run: tuple[Path, str]) -> None:
    _, out = demo_run
    related_2 = _after(out, "related 2")
    assert "Related to #2" in related_2 and "│ " in related_2
    source = _after(out, "source 1")
    for label in ("Show:", "Episode:", "At:", "Link: https://", "Quote: “"):
        assert label in source.replace('Quote: "', "Quote: “")
    assert "more like #3" in _after(out, "more like 3")
    assert "Muted “health”" in _after(out, "mute health")
    related = _after(out, "show related insights")
    assert "Related to #3" in related and "│ " in related  # at least one card
    search = _after(out, "anything about caffeine?")
    assert "What the shows said about “caffeine”" in search
    assert "caffeine" in search.split("“caffeine”", 1)[1].lower()
    assert "didn't understand" in _after(out, "purple monkey dishwasher")


def test_second_run_reuses_the_data(demo_run: tuple[Path, str]) -> None:
    data_dir, first = demo_run
    again = _run(["demo"], data_dir, "quit\n")
    assert "top 5" in again
    assert "0 new episodes" in again or "0 feeds polled" in again
    first_heads = re.findall(r"│ #\d (.+?) +│", first[: first.index("you> ")])
    assert first_heads and first_heads == re.findall(r"│ #\d (.+?) +│", again)


def test_brief_json_and_insights_list_on_the_same_database(demo_run: tuple[Path, str]) -> None:
    data_dir, _ = demo_run
    brief = json.loads(_run(["brief", "--user", "demo", "--json"], data_dir))
    assert [item["position"] for item in brief["items"]] == [1, 2, 3, 4, 5]
    insights = json.loads(_run(["insights", "list", "--json"], data_dir))
    assert len(insights) >= 10
    first = insights[0]
    assert {"headline", "body", "quote", "speaker", "start", "topics", "episode"} <= set(first)
    only = json.loads(
        _run(["insights", "list", "--episode", str(first["episode"]["id"]), "--json"], data_dir)
    )
    assert only and {row["episode"]["id"] for row in only} == {first["episode"]["id"]}
    other = json.loads(_run(["brief", "--user", "someone-else", "--json"], data_dir))
    assert len(other["items"]) == 5 and other["brief_id"] != brief["brief_id"]
