"""`podbrief demo` from an empty data dir, with the acceptance follow-ups piped to stdin."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.settings import CONFIG_DIR
from tests.cli_process import free_port

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


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PODBRIEF_", "OPENAI_"))}
    env.update(
        PODBRIEF_DATA_DIR=str(data_dir),
        PODBRIEF_CONFIG=str(data_dir / "no-user-config.toml"),
        COLUMNS="200",  # wide enough that phrases are not wrapped apart
        TERM="dumb",
        **extra,
    )
    return env


def _run(args: list[str], data_dir: Path, stdin: str = "", **env: str) -> str:
    done = subprocess.run(
        [str(PODBRIEF), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(data_dir, **env),
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


def test_brief_and_insights_list_carry_page_urls_when_public_url_is_set(
    demo_run: tuple[Path, str],
) -> None:
    data_dir, _ = demo_run
    public = {"PODBRIEF_PUBLIC_URL": "https://brief.example.org/"}
    insights = json.loads(_run(["insights", "list", "--json"], data_dir, **public))
    assert all(row["page_url"] == f"https://brief.example.org/insights/{row['id']}"
               for row in insights)  # fmt: skip
    brief = json.loads(_run(["brief", "--user", "demo", "--json"], data_dir, **public))
    assert all(item["page_url"].startswith("https://brief.example.org/insights/")
               for item in brief["items"])  # fmt: skip
    unset = json.loads(_run(["insights", "list", "--json", "--limit", "3"], data_dir))
    assert [row["page_url"] for row in unset] == [None, None, None]


def test_the_demo_prints_the_pages_url_and_serves_them_until_quit(
    demo_run: tuple[Path, str],
) -> None:
    data_dir, first = demo_run
    # The first run printed the pages' address and linked each card to its page.
    url = re.search(r"Insight pages: (http://127\.0\.0\.1:\d+)/", first)
    assert url is not None
    assert len(re.findall(re.escape(url.group(1)) + r"/insights/\d+", first)) >= 5
    port = str(free_port())
    demo = subprocess.Popen(
        [str(PODBRIEF), "demo"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(data_dir, PODBRIEF_HTTP_PORT=port, PYTHONUNBUFFERED="1"),
    )
    assert demo.stdout is not None and demo.stdin is not None
    try:
        lines = []
        for line in demo.stdout:  # the demo runs until it prints the address, then waits
            lines.append(line)
            if "Insight pages:" in line:
                break
        assert f"Insight pages: http://127.0.0.1:{port}/" in "".join(lines)
        page_id = re.findall(rf"127\.0\.0\.1:{port}/insights/(\d+)", "".join(lines))[0]
        page = httpx.get(f"http://127.0.0.1:{port}/insights/{page_id}", timeout=30)
        assert page.status_code == 200 and "Related Insights" in page.text
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=30).status_code == 200
        demo.stdin.write("quit\n")
        demo.stdin.flush()
        assert demo.wait(timeout=60) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    with pytest.raises(httpx.ConnectError):  # quit stopped the pages
        httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
