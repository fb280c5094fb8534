"""The bundled demo data in config/samples is complete, well-formed and readable by podbrief."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from urllib.parse import urljoin, urlparse
from urllib.request import url2pathname

import feedparser
import pytest
import srt
import webvtt

from core.transcripts.parse import parse_transcript

SAMPLES = Path(__file__).resolve().parents[2] / "config" / "samples"
PODCAST_NS = "{https://podcastindex.org/namespace/1.0}"
MIME_BY_SUFFIX = {
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".json": "application/json",
    ".md": "text/markdown",
}
MD_TURN = re.compile(r"^\*\*(?P<name>[^*]+):\*\* (?:\\\[(?P<ts>\d\d:\d\d:\d\d)\\\] )?(?P<text>.+)$")
# One to three capitalised words before a colon; "But I'd add a caution: ..." is speech.
SRT_PREFIX = re.compile(
    r"^(?P<name>[A-Z][\w'.-]*(?: [A-Z][\w'.-]*){0,2}): (?P<text>.*)$", re.DOTALL
)
NUMBER = re.compile(
    r"\b(?:\d[\d.,]*|percent|hundred|thousand|million|half|quarter|third"
    r"|(?:twen|thir|for|fif|six|seven|eigh|nine)ty(?:-\w+)?"
    r"|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen)\b"
)


@dataclass(frozen=True)
class Line:
    start: float
    end: float
    speaker: str
    text: str


@dataclass(frozen=True)
class Episode:
    show: str
    title: str
    duration: float
    persons: frozenset[str]
    transcript: Path
    mime: str

    @property
    def id(self) -> str:
        return self.transcript.name


def feed_files() -> list[Path]:
    root = ET.parse(SAMPLES / "feeds.opml").getroot()
    urls = [o.attrib["xmlUrl"] for o in root.iter("outline") if "xmlUrl" in o.attrib]
    assert all(not urlparse(u).scheme for u in urls), f"OPML URLs must be relative: {urls}"
    return [SAMPLES / u for u in urls]


def seconds(duration: str) -> float:
    total = 0.0
    for part in duration.split(":"):
        total = total * 60 + float(part)
    return total


def resolve(feed: Path, href: str) -> Path:
    """Resolve a transcript link the way ingest does: against the feed's file:// URL."""
    url = urljoin(feed.resolve().as_uri(), href)
    assert urlparse(url).scheme == "file", f"{href} in {feed.name} is not a relative link"
    return Path(url2pathname(urlparse(url).path))


def persons_by_guid(feed: Path) -> dict[str, frozenset[str]]:
    channel = ET.parse(feed).getroot().find("channel")
    assert channel is not None
    out = {}
    for item in channel.iter("item"):
        guid = item.findtext("guid", "")
        out[guid] = frozenset((p.text or "").strip() for p in item.iter(f"{PODCAST_NS}person"))
    return out


def transcript_by_guid(feed: Path) -> dict[str, dict[str, str]]:
    # Read with ElementTree: podbrief teaches feedparser the podcast namespace process-wide,
    # so feedparser's raw keys for these tags depend on what ran before.
    out = {}
    for item in ET.parse(feed).getroot().iter("item"):
        guid = (item.findtext("guid") or "").strip()
        tag = item.find(f"{PODCAST_NS}transcript")
        assert tag is not None, guid
        out[guid] = dict(tag.attrib)
    return out


@pytest.fixture(scope="module")
def episodes() -> list[Episode]:
    found = []
    for feed in feed_files():
        parsed = feedparser.parse(str(feed))
        people = persons_by_guid(feed)
        links = transcript_by_guid(feed)
        for entry in parsed.entries:
            link = links[entry.id]
            found.append(
                Episode(
                    show=parsed.feed.title,
                    title=entry.title,
                    duration=seconds(entry.itunes_duration),
                    persons=people[entry.id],
                    transcript=resolve(feed, link["url"]),
                    mime=link["type"],
                )
            )
    return found


def test_the_opml_lists_every_feed_file() -> None:
    listed = {p.name for p in feed_files()}
    assert listed == {p.name for p in SAMPLES.glob("*.xml")}
    assert len(listed) >= 3


def test_every_feed_parses_cleanly_with_channel_and_item_metadata() -> None:
    total = 0
    for feed in feed_files():
        parsed = feedparser.parse(str(feed))
        assert not parsed.bozo, f"{feed.name}: {parsed.get('bozo_exception')}"
        channel = parsed.feed
        assert channel.title and channel.link and channel.description and channel.image.href
        assert channel.language == "en"
        assert 2 <= len(parsed.entries) <= 3, feed.name
        total += len(parsed.entries)
        for entry in parsed.entries:
            assert entry.id and entry.title and entry.link and entry.summary, entry.title
            enclosure = next(link for link in entry.links if link.rel == "enclosure")
            assert enclosure.href.startswith("https://") and enclosure.type == "audio/mpeg"
            assert entry.published_parsed[:2] == (2026, 11), entry.title
        newest = max(tuple(e.published_parsed[:3]) for e in parsed.entries)
        assert newest == (2026, 11, 23), feed.name
    assert total >= 8


def test_items_name_hosts_and_guests_and_link_a_typed_relative_transcript(
    episodes: list[Episode],
) -> None:
    for ep in episodes:
        assert len(ep.persons) >= 2, ep.id
        assert ep.transcript.is_file(), f"{ep.id}: the transcript link does not resolve"
        assert ep.transcript.parent == SAMPLES / "transcripts"
        assert MIME_BY_SUFFIX[ep.transcript.suffix] == ep.mime, ep.id
        assert 12 * 60 <= ep.duration <= 25 * 60, ep.id


def read_vtt(path: Path) -> list[Line]:
    lines = []
    for cue in webvtt.read(str(path)).captions:
        assert cue.voice, f"{path.name}: a cue at {cue.start} has no <v Name> voice tag"
        text = cue.text.replace("\n", " ")
        lines.append(Line(seconds(cue.start), seconds(cue.end), cue.voice, text))
    return lines


def read_srt(path: Path, persons: frozenset[str]) -> list[Line]:
    lines: list[Line] = []
    speaker = ""
    for cue in srt.parse(path.read_text(encoding="utf-8"), ignore_errors=False):
        text = cue.content.replace("\n", " ")
        match = SRT_PREFIX.match(text)
        if match:
            # Full name on a speaker's first turn, first name after: map back to the person.
            label = match["name"]
            named = [p for p in persons if label in (p, p.split()[0])]
            assert len(named) == 1, f"{path.name}: {label!r} is not one of {sorted(persons)}"
            speaker = named[0]
            text = match["text"]
        assert speaker, f"{path.name}: the first cue has no speaker"
        lines.append(Line(cue.start.total_seconds(), cue.end.total_seconds(), speaker, text))
    return lines


def read_json(path: Path) -> list[Line]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("version") == "1.0.0":  # Podcasting 2.0
        return [
            Line(s["startTime"], s["endTime"], s["speaker"], s["body"]) for s in doc["segments"]
        ]
    names = doc["speakers"]  # podwhisperer
    return [
        Line(s["start"], s["end"], names[s["speakerLabel"]], s["text"].strip())
        for s in doc["segments"]
    ]


def read_markdown(path: Path) -> list[Line]:
    """Turns with sparse stamps: an unstamped turn starts where the last stamp said."""
    lines: list[Line] = []
    at = -1.0
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        match = MD_TURN.match(raw)
        assert match, f"{path.name}: not a '**Name:** text' turn: {raw[:60]}"
        if match["ts"]:
            at = seconds(match["ts"])
        assert at >= 0, f"{path.name}: the first turn has no timestamp"
        lines.append(Line(at, at, match["name"], match["text"]))
    assert sum(1 for line in pairwise(lines) if line[0].start != line[1].start) >= 10
    return lines


def read_lines(ep: Episode) -> list[Line]:
    if ep.transcript.suffix == ".vtt":
        return read_vtt(ep.transcript)
    if ep.transcript.suffix == ".srt":
        return read_srt(ep.transcript, ep.persons)
    if ep.transcript.suffix == ".json":
        return read_json(ep.transcript)
    return read_markdown(ep.transcript)


def test_every_transcript_parses_with_named_speakers_and_times_in_order(
    episodes: list[Episode],
) -> None:
    for ep in episodes:
        lines = read_lines(ep)
        assert len(lines) >= 40, ep.id
        speakers = {line.speaker for line in lines}
        assert speakers == ep.persons, f"{ep.id}: speakers {speakers} vs persons {ep.persons}"
        assert 2 <= len(speakers) <= 3, ep.id
        assert lines[0].start >= 0
        for a, b in pairwise(lines):
            assert a.start <= b.start and a.end <= b.start + 1e-6, f"{ep.id}: {a} then {b}"
        assert all(line.end >= line.start for line in lines), ep.id
        assert lines[-1].end <= ep.duration, f"{ep.id}: speech runs past itunes:duration"


def test_every_transcript_has_the_parts_the_demo_must_skip_and_keep(
    episodes: list[Episode],
) -> None:
    for ep in episodes:
        text = " ".join(line.text for line in read_lines(ep))
        lowered = text.lower()
        assert 1700 <= len(text.split()) <= 3500, ep.id
        for part in ("welcome to the show", "brought to you by", "leave us a review"):
            assert part in lowered, f"{ep.id} lacks {part!r}"
        figures = re.findall(NUMBER, lowered)
        advice = re.findall(
            r"\b(?:recommend\w*|my advice|lesson|my rule|rule of thumb|i.d tell|i.d say|encourage)",
            lowered,
        )
        assert len(figures) >= 25 and len(advice) >= 2, f"{ep.id}: {len(figures)}, {advice}"


def test_themes_recur_across_shows_so_related_insights_exist(episodes: list[Episode]) -> None:
    themes = {
        "pricing": r"\bpric(?:e|es|ed|ing)\b",
        "ai": r"\bAI\b",
        "remote": r"\bremote(?:ly)?\b",
        "burnout": r"\bburn(?:out|ing out)\b",
    }
    text_by_show: dict[str, str] = {}
    for ep in episodes:
        text = " ".join(line.text for line in read_lines(ep))
        text_by_show[ep.show] = text_by_show.get(ep.show, "") + " " + text
    for theme, pattern in themes.items():
        shows = [s for s, t in text_by_show.items() if re.search(pattern, t)]
        assert len(shows) >= 2, f"{theme} appears only in {shows}"


def test_podbriefs_own_parser_reads_every_sample_with_its_speakers(
    episodes: list[Episode],
) -> None:
    for ep in episodes:
        parsed = parse_transcript(ep.transcript.read_bytes(), mime_type=ep.mime)
        assert parsed.speakers == ep.persons, f"{ep.id}: {parsed.speakers}"
        assert parsed.duration_seconds <= ep.duration, ep.id
