"""Signup fields and signed links, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.chat.intents import Intent, parse_intent
from core.email.signup import SIGNUP_TOPICS, Signup, SignupError, normalise_address, parse_signup
from core.signing.links import MAX_AGE, LinkError, LinkSigner

NOW = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


def test_addresses_are_normalised_and_checked_by_syntax_only() -> None:
    assert normalise_address("  Reader@Example.ORG ") == "reader@example.org"
    assert normalise_address("a@bücher.example") == "a@bücher.example"
    assert normalise_address("someone@no-such-domain-for-sure.example") == (
        "someone@no-such-domain-for-sure.example"
    )  # no DNS lookup


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("", "enter your email"),
        ("a" * 10_000 + "@example.org", "too long"),
        ("a" * 89 + "@example.org", "too long"),  # 101 characters: longer than a chat id
        ("no-at-sign", "not a valid"),
        ("a@b", "not a valid"),
        ("a b@example.org", "not a valid"),
        ("<script>@example.org", "not a valid"),
    ],
)
def test_bad_addresses_get_a_message(raw: str, words: str) -> None:
    with pytest.raises(SignupError, match=words) as caught:
        normalise_address(raw)
    assert caught.value.field == "email"


def test_topics_time_and_zone_are_checked() -> None:
    signup = parse_signup("r@example.org", ["pricing", "pricing", "sleep"], "7:30", "")
    assert signup == Signup("r@example.org", ("pricing", "sleep"), "07:30", "UTC")
    assert "pricing" in SIGNUP_TOPICS and list(SIGNUP_TOPICS) == sorted(SIGNUP_TOPICS)
    for topics, time, zone, field in [
        (["<b>x</b>"], "07:30", "UTC", "topics"),
        ([], "25:00", "UTC", "delivery_time"),
        ([], "07:30", "Mars/Olympus", "timezone"),
        ([], "07:30", "../../etc/passwd", "timezone"),
    ]:
        with pytest.raises(SignupError) as caught:
            parse_signup("r@example.org", topics, time, zone)
        assert caught.value.field == field


def test_a_signup_survives_its_link_payload() -> None:
    signup = parse_signup("r@example.org", ["ai"], "06:00", "Asia/Tokyo")
    assert Signup.from_payload(signup.payload()) == signup
    with pytest.raises(SignupError):
        Signup.from_payload({"a": "x", "t": "not a list"})


def test_signed_links_are_bound_to_purpose_key_and_time() -> None:
    signer = LinkSigner("key")
    token = signer.sign("settings", {"a": "r@example.org"}, now=NOW)
    assert signer.load("settings", token, now=NOW + timedelta(days=59)) == {"a": "r@example.org"}
    with pytest.raises(LinkError) as expired:
        signer.load("settings", token, now=NOW + MAX_AGE["settings"] + timedelta(seconds=1))
    assert expired.value.expired
    for purpose in ("unsubscribe", "feedback", "confirm", "csrf"):
        with pytest.raises(LinkError):
            signer.load(purpose, token, now=NOW)
    with pytest.raises(LinkError):
        LinkSigner("other key").load("settings", token, now=NOW)
    with pytest.raises(LinkError):
        signer.load("settings", token + "x", now=NOW)
    with pytest.raises(LinkError):  # stamped in the future (a forged clock)
        signer.load("settings", token, now=NOW - timedelta(hours=1))
    with pytest.raises(ValueError, match="unknown link purpose"):
        signer.sign("admin", {}, now=NOW)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("feed", Intent("feed")),
        ("/feed", Intent("feed")),
        ("my feed", Intent("feed")),
        ("give me my rss feed", Intent("feed")),
        ("feed reset", Intent("feed_reset")),
        ("/feed reset", Intent("feed_reset")),
        ("reset my feed", Intent("feed_reset")),
    ],
)
def test_feed_phrases(text: str, intent: Intent) -> None:
    assert parse_intent(text) == intent


def test_feed_words_do_not_take_over_subscribing_to_a_show() -> None:
    assert parse_intent("add feed https://example.org/rss").kind == "subscribe"
    assert parse_intent("show my feeds").kind == "shows"
