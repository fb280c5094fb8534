"""Fuzz targets: bytes in, the parser's documented contract checked.

Each target takes arbitrary bytes, feeds them to one of podbrief's readers of untrusted input and
fails (raises ``AssertionError`` or the unexpected exception) when the reader breaks its contract:
only the documented error types may escape, times are sane, insights stay grounded and escaped.
The same targets run under hypothesis (tests/fuzz/test_properties.py, small fixed budget), under
atheris (tests/fuzz/atheris_run.py, ``make fuzz``) and as regression replays of the cases in
tests/data/fuzz/<target>/ (tests/fuzz/test_regressions.py).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime

from telegram import Bot

from adapters.slack.blocks import render_reply as slack_render
from adapters.slack.payloads import body_problem
from adapters.slack.translate import action_origin, message_text, team_of
from adapters.telegram.handlers import chat_ref, strip_bot_name
from adapters.telegram.render import render_reply as telegram_render
from adapters.telegram.updates import BadUpdate, update_from_body
from core.chat.intents import parse_intent
from core.chat.types import Action, InsightCard, InvalidAction, Reply
from core.domain import EpisodeInfo, SegmentData
from core.feeds.errors import FeedError
from core.feeds.opml import read_opml
from core.feeds.parse import parse_duration, parse_feed
from core.feeds.urls import normalise_feed_url
from core.insights.offline.extractor import OfflineInsightExtractor
from core.insights.service import _is_grounded
from core.llm.grounding import TranscriptIndex
from core.transcripts.detect import detect_format
from core.transcripts.errors import TranscriptParseError
from core.transcripts.parse import FORMAT_NAMES, parse_transcript, parse_transcript_text
from core.transcripts.text import decode_text
from tests.fakes.telegram_rules import check_html

FEED_URL = "https://feeds.example.org/show/feed.xml"
MIME_TYPES = (
    None,
    "text/srt",
    "application/x-subrip",
    "text/vtt",
    "application/json",
    "text/markdown",
    "text/html",
    "text/plain",
    "application/octet-stream",
)
URLS = (
    None,
    "https://t.example/x.srt",
    "https://t.example/x.vtt",
    "https://t.example/x.json",
    "https://t.example/x.md",
    "https://t.example/x.html",
    "https://t.example/x.txt",
)
KINDS = tuple(k for k in FORMAT_NAMES if k != "podwhisper")  # "json" reads both flavours
HEADLINE_MAX = 90
STRAY = (TypeError, KeyError, IndexError, AttributeError, RecursionError, ZeroDivisionError)
_BOT = Bot("123456:fuzz-token-not-used")  # de_json only keeps a reference; nothing is sent


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def check_segments(segments: list[SegmentData]) -> None:
    assert segments, "a parse that succeeds has segments"
    for s in segments:
        assert math.isfinite(s.start) and math.isfinite(s.end), s
        assert 0 <= s.start <= s.end, s
        assert isinstance(s.text, str) and s.text.strip(), s


def feed(data: bytes) -> None:
    """feedparser + our Podcasting 2.0 tags + dates and durations."""
    try:
        parsed = parse_feed(data, feed_url=FEED_URL)
    except FeedError:
        return
    keys = set()
    for episode in parsed.episodes:
        assert episode.dedup_key not in keys, "episodes are de-duplicated"
        keys.add(episode.dedup_key)
        assert len(episode.dedup_key) <= 800
        if episode.published_at is not None:
            assert episode.published_at.tzinfo is not None
            assert (
                datetime(1900, 1, 1, tzinfo=UTC)
                <= episode.published_at
                <= datetime(9000, 1, 1, tzinfo=UTC)
            )
        if episode.duration_seconds is not None:
            assert math.isfinite(episode.duration_seconds) and episode.duration_seconds > 0
        for link in episode.transcripts:
            assert link.url.startswith(("http://", "https://")), link
        assert episode.title


def duration(data: bytes) -> None:
    value = parse_duration(_text(data))
    assert value is None or (math.isfinite(value) and value > 0), value


def transcript(data: bytes) -> None:
    """The whole path: decoding, format detection (content first, then MIME and URL), reading."""
    selector = data[:1][0] if data else 0
    mime, url = MIME_TYPES[selector % len(MIME_TYPES)], URLS[(selector // 16) % len(URLS)]
    body = data[1:]
    try:
        text = decode_text(body)
    except TranscriptParseError:
        return
    assert detect_format(text, mime_type=mime, url=url) in FORMAT_NAMES
    try:
        parsed = parse_transcript(body, mime_type=mime, url=url)
    except TranscriptParseError:
        return
    check_segments(parsed.segments)


def transcript_reader(data: bytes) -> None:
    """One reader forced (the first byte picks it), whatever the content looks like."""
    kind = KINDS[data[0] % len(KINDS)] if data else "text"
    try:
        parsed = parse_transcript_text(_text(data[1:]), kind)
    except TranscriptParseError as exc:
        # The readers raise TranscriptParseError themselves; parse_transcript_text also wraps a
        # stray builtin exception so production degrades gracefully, but that is a bug to fix.
        cause = exc.__cause__
        stray = isinstance(cause, STRAY) or type(cause) is ValueError
        assert not stray, f"{kind} reader raised {cause!r}"
        return
    check_segments(parsed.segments)


def opml(data: bytes) -> None:
    try:
        urls = read_opml(data)
    except FeedError:
        return
    assert len(urls) == len(set(urls))
    for url in urls:
        try:
            stored = normalise_feed_url(url, untrusted=True)
        except FeedError:
            continue
        assert stored.startswith(("http://", "https://")), stored


def intent(data: bytes) -> None:
    """The chat's phrase understanding never raises; numbers and arguments are bounded."""
    found = parse_intent(_text(data))
    assert found.kind
    if found.position is not None:
        assert 0 <= found.position <= 999


def telegram_update(data: bytes) -> None:
    try:
        update = update_from_body(data, _BOT)
    except BadUpdate:
        return
    chat = update.effective_chat
    if chat is not None:
        chat_ref(chat)
    message = update.effective_message
    if message is not None and message.text:
        strip_bot_name(message.text, "podbrief_bot")
    query = update.callback_query
    if query is not None and query.data:
        with contextlib.suppress(InvalidAction):
            Action.decode(query.data)


def slack_payload(data: bytes) -> None:
    """What reaches Bolt and our translation: whatever body_problem lets through must translate."""
    content_type = "application/json" if data[:1] == b"{" else "application/x-www-form-urlencoded"
    if body_problem(data, content_type) is not None:
        return
    if content_type == "application/json":
        body = json.loads(data)
    else:
        from urllib.parse import parse_qs

        form = parse_qs(data.decode(), keep_blank_values=True)
        if "payload" not in form:
            return
        body = json.loads(form["payload"][0])
    team_of(body)
    action_origin(body)
    event = body.get("event") or {}
    if isinstance(event.get("text"), str):
        message_text(event["text"])


def button(data: bytes) -> None:
    text = _text(data)
    try:
        action = Action.decode(text)
    except InvalidAction:
        return
    # "0|007|" is read as insight 7, so compare meanings, not strings.
    assert Action.decode(action.encode()) == action, "a decoded button survives a round trip"


def insights(data: bytes) -> None:
    """Insights from a fuzzed transcript are grounded and render as valid Telegram HTML and
    Slack blocks."""
    try:
        segments = parse_transcript(data).segments
    except TranscriptParseError:
        return
    info = EpisodeInfo(1, 1, "Show <i>", "Ep & 1", None, None, None)
    extractor = OfflineInsightExtractor()
    drafts = extractor.extract_sync(info, segments)
    index = TranscriptIndex(segments)
    cards = []
    for n, draft in enumerate(drafts, 1):
        assert _is_grounded(draft, segments), draft
        assert index.ground(draft.quote) is not None, draft.quote
        assert len(draft.headline) <= HEADLINE_MAX, draft.headline
        cards.append(
            InsightCard(
                n,
                n,
                draft.headline,
                draft.body,
                draft.quote,
                draft.speaker,
                draft.start_seconds,
                "Show <i>",
                "Ep & 1",
                None,
            )
        )
    if cards:
        reply = Reply(parts=tuple(cards))
        for message in telegram_render(reply):
            check_html(message.html)
        slack_render(reply)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "feed": feed,
    "duration": duration,
    "transcript": transcript,
    "transcript_reader": transcript_reader,
    "opml": opml,
    "intent": intent,
    "telegram_update": telegram_update,
    "slack_payload": slack_payload,
    "button": button,
    "insights": insights,
}
