"""Which transcript link an episode tries first."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.models import TranscriptLink
from core.transcripts.select import choose_transcript_link, primary_language, rank_transcript_links


@dataclass(frozen=True)
class Link:
    url: str
    mime_type: str | None = None
    language: str | None = None


def urls(links: list[Link]) -> list[str]:
    return [link.url for link in links]


def test_type_preference_is_json_vtt_srt_html_text() -> None:
    links = [
        Link("t.txt", "text/plain"),
        Link("t.html", "text/html"),
        Link("t.srt", "application/x-subrip"),
        Link("t.vtt", "text/vtt"),
        Link("t.json", "application/json"),
    ]
    ranked = urls(rank_transcript_links(links, "en"))
    assert ranked == ["t.json", "t.vtt", "t.srt", "t.html", "t.txt"]


def test_episode_language_beats_type() -> None:
    links = [
        Link("es.json", "application/json", "es"),
        Link("en.srt", "application/srt", "EN"),
        Link("unknown.vtt", "text/vtt", None),
    ]
    assert urls(rank_transcript_links(links, "en-US")) == ["en.srt", "unknown.vtt", "es.json"]


def test_without_an_episode_language_only_the_type_counts() -> None:
    links = [Link("es.srt", "application/srt", "es"), Link("en.vtt", "text/vtt", "en")]
    assert urls(rank_transcript_links(links, None)) == ["en.vtt", "es.srt"]


def test_generic_or_missing_type_falls_back_to_the_url_extension() -> None:
    links = [
        Link("https://x/a.txt", "text/plain"),
        Link("https://x/b.srt?x=1", "application/octet-stream"),
        Link("https://x/c.vtt", None),
    ]
    assert urls(rank_transcript_links(links, "en")) == [
        "https://x/c.vtt",
        "https://x/b.srt?x=1",
        "https://x/a.txt",
    ]


def test_ties_keep_feed_order_and_unknown_types_go_last() -> None:
    links = [
        Link("odd", "application/x-unknown"),
        Link("first.srt", "application/srt"),
        Link("second.srt", "application/srt"),
    ]
    assert urls(rank_transcript_links(links, "en")) == ["first.srt", "second.srt", "odd"]


def test_choose_returns_none_without_links() -> None:
    assert choose_transcript_link([], "en") is None


def test_works_on_stored_transcript_links() -> None:
    stored = [
        TranscriptLink(url="https://x/t.txt", mime_type="text/plain", language="en"),
        TranscriptLink(url="https://x/t.vtt", mime_type="text/vtt", language="en"),
    ]
    chosen = choose_transcript_link(stored, "en")
    assert chosen is not None and chosen.url == "https://x/t.vtt"


@pytest.mark.parametrize(
    ("tag", "expected"), [("en-US", "en"), ("EN", "en"), ("pt_BR", "pt"), ("", None), (None, None)]
)
def test_primary_language(tag: str | None, expected: str | None) -> None:
    assert primary_language(tag) == expected
