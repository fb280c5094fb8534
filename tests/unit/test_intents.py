"""The rule-based parser understands commands and plain English, and never guesses wildly."""

from __future__ import annotations

import pytest

from core.chat.intents import Intent, normalise, parse_intent
from core.chat.timezones import time_from_text, timezone_from_text

CASES: list[tuple[str, Intent]] = [
    # the brief
    ("brief", Intent("brief")),
    ("/brief", Intent("brief")),
    ("today's brief", Intent("brief")),
    ("Show me today's brief", Intent("brief")),
    ("my daily digest", Intent("brief")),
    ("what's new today?", Intent("brief")),
    ("top 5", Intent("brief")),
    # related
    ("related 2", Intent("related", 2)),
    ("related #2", Intent("related", 2)),
    ("/related 4", Intent("related", 4)),
    ("/related@podbrief_bot 3", Intent("related", 3)),
    ("show related insights", Intent("related")),
    ("Show related insights for #3", Intent("related", 3)),
    ("what's related to #5?", Intent("related", 5)),
    ("related to this", Intent("related")),
    ("similar to 1", Intent("related", 1)),
    # more from this episode
    ("more from this episode", Intent("more_episode")),
    ("more from episode #2", Intent("more_episode", 2)),
    ("/more 3", Intent("more_episode", 3)),
    ("what else did this episode say?", Intent("more_episode")),
    # source
    ("source 1", Intent("source", 1)),
    ("/source #4", Intent("source", 4)),
    ("where is this from?", Intent("source")),
    ("Where's that from?", Intent("source")),
    ("where is #2 from?", Intent("source", 2)),
    ("which episode was that?", Intent("source")),
    ("who said that?", Intent("source")),
    ("link for 3", Intent("source", 3)),
    # topics
    ("topics", Intent("topics")),
    ("list my topics", Intent("topics")),
    ("what topics are there?", Intent("topics")),
    ("follow pricing", Intent("follow", arg="pricing")),
    ("/follow AI agents", Intent("follow", arg="AI agents")),
    ("I'm interested in climate tech", Intent("follow", arg="climate tech")),
    ("more about sleep", Intent("follow", arg="sleep")),
    ("mute crypto", Intent("mute", arg="crypto")),
    ("mute 'the crypto'", Intent("mute", arg="crypto")),
    ("no more football please", Intent("mute", arg="football")),
    ("unfollow pricing", Intent("unfollow", arg="pricing")),
    ("unmute crypto", Intent("unmute", arg="crypto")),
    # feedback
    ("👍 #2", Intent("up", 2)),
    ("👍2", Intent("up", 2)),
    ("+1 3", Intent("up", 3)),
    ("like 1", Intent("up", 1)),
    ("👎 #4", Intent("down", 4)),
    ("dislike 5", Intent("down", 5)),
    ("less like #2", Intent("down", 2)),
    ("more like #2", Intent("more_like", 2)),
    ("more like 3", Intent("more_like", 3)),
    ("more like this", Intent("more_like")),
    ("less about crypto", Intent("less_about", arg="crypto")),
    ("fewer insights about politics", Intent("less_about", arg="politics")),
    # search
    ("anything about pricing?", Intent("search", arg="pricing")),
    ("Is there anything about remote work?", Intent("search", arg="remote work")),
    ("what did they say about pricing?", Intent("search", arg="pricing")),
    ("what did the hosts say about caffeine", Intent("search", arg="caffeine")),
    ("search on-call", Intent("search", arg="on-call")),
    ("/search burnout", Intent("search", arg="burnout")),
    ("find sleep debt", Intent("search", arg="sleep debt")),
    ("any insights on churn?", Intent("search", arg="churn")),
    ("tell me about runway", Intent("search", arg="runway")),
    ("how much caffeine is too much?", Intent("search", arg="much caffeine too much")),
    # help, start and settings
    ("help", Intent("help")),
    ("/help", Intent("help")),
    ("what can you do?", Intent("help")),
    ("/start", Intent("start")),
    ("hi", Intent("start")),
    ("shows", Intent("shows")),
    ("which podcasts do you follow?", Intent("shows")),
    ("what podcasts do you follow?", Intent("shows")),
    ("subscribe https://example.com/feed.xml", Intent("subscribe", arg="https://example.com/feed.xml")),
    ("/subscribe <https://example.com/f.rss>", Intent("subscribe", arg="https://example.com/f.rss")),
    ("https://example.com/feed", Intent("subscribe", arg="https://example.com/feed")),
    ("time 08:00", Intent("time", arg="08:00")),
    ("/time 7:30", Intent("time", arg="7:30")),
    ("send my brief at 7am", Intent("time", arg="7am")),
    ("timezone Europe/Berlin", Intent("timezone", arg="Europe/Berlin")),
    ("time zone Berlin", Intent("timezone", arg="Berlin")),
    ("my timezone is America/New_York", Intent("timezone", arg="America/New_York")),
    ("I'm in Tokyo", Intent("timezone", arg="Tokyo")),
    ("pause", Intent("pause")),
    ("stop sending", Intent("pause")),
    ("resume", Intent("resume")),
    ("start again", Intent("resume")),
    ("forget", Intent("forget")),
    ("forget me", Intent("forget")),
    ("delete my data", Intent("forget")),
    ("yes", Intent("confirm")),
    ("Yes, forget everything", Intent("confirm")),
    ("cancel", Intent("cancel")),
    ("never mind", Intent("cancel")),
    ("compact on", Intent("compact", arg="on")),
    # a command without its argument: the engine asks for it
    ("/follow", Intent("follow")),
    ("mute", Intent("mute")),
    ("/subscribe", Intent("subscribe")),
    ("/time", Intent("time")),
    ("/search", Intent("search")),
    # numbers alone
    ("#2", Intent("show_item", 2)),
    ("3", Intent("show_item", 3)),
    ("show me #4", Intent("show_item", 4)),
    ("tell me more about #1", Intent("show_item", 1)),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_phrasings(text: str, expected: Intent) -> None:
    assert parse_intent(text) == expected


@pytest.mark.parametrize(
    "text", ["", "   ", "purple monkey dishwasher", "asdf", "🙂", "follow ''", "x" * 5000]
)
def test_unknown_input_is_unknown_not_an_error(text: str) -> None:
    assert parse_intent(text).kind == "unknown"


def test_case_punctuation_and_mentions_do_not_matter() -> None:
    assert parse_intent("RELATED 2!!") == Intent("related", 2)
    assert parse_intent("@podbrief source 1.") == Intent("source", 1)
    assert parse_intent("<@U123ABC> related 3") == Intent("related", 3)
    assert normalise("  see   <https://a.example/x|a link>  ") == "see https://a.example/x"


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("Berlin", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("San Francisco", "America/Los_Angeles"),
        ("Munich, Germany", "Europe/Berlin"),
        ("UTC", "UTC"),
        ("Atlantis", None),
        ("", None),
        ("../../etc/passwd", None),
    ],
)
def test_timezone_from_text(text: str, zone: str | None) -> None:
    assert timezone_from_text(text) == zone


@pytest.mark.parametrize(
    ("text", "hhmm"),
    [
        ("08:00", "08:00"),
        ("7:30", "07:30"),
        ("7", "07:00"),
        ("7am", "07:00"),
        ("7:45 pm", "19:45"),
        ("12am", "00:00"),
        ("12 pm", "12:00"),
        ("19.30", "19:30"),
        ("25:00", None),
        ("13pm", None),
        ("7:60", None),
        ("soon", None),
    ],
)
def test_time_from_text(text: str, hhmm: str | None) -> None:
    assert time_from_text(text) == hhmm


@pytest.mark.parametrize(
    ("text", "kind", "arg"),
    [
        ("08:00", "time", "08:00"),
        ("7:30am", "time", "7:30am"),
        ("7 pm", "time", "7 pm"),
        ("Europe/Berlin", "timezone", "Europe/Berlin"),
        ("America/Argentina/Buenos_Aires", "timezone", "America/Argentina/Buenos_Aires"),
        ("2", "show_item", ""),  # a bare number is "#2", not 2 o'clock
    ],
)
def test_a_bare_time_or_zone_typed_during_onboarding(text: str, kind: str, arg: str) -> None:
    intent = parse_intent(text)
    assert (intent.kind, intent.arg) == (kind, arg)
