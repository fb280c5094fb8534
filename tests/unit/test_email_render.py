"""The brief mail from a neutral reply: both parts, RFC 8058 headers, signed links, escaping."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

from adapters.email.links import MailLinks
from adapters.email.render import MailRenderer
from core.chat.handlers.brief import FOLLOW_UP_HINT
from core.chat.types import InsightCard, Reply, Text
from core.email.signup import parse_signup
from core.signing.links import LinkSigner

NOW = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
HOSTILE = "<script>alert('x')</script> & <b>bold</b>"


def _card(position: int) -> InsightCard:
    return InsightCard(
        insight_id=100 + position, position=position, headline=f"{HOSTILE} {position}",
        body="Body <img src=x onerror=alert(1)>", quote="“Quoted” & <i>said</i>",
        speaker=None, start_seconds=754.0, show_title="Show <s>", episode_title="Ep",
        episode_url="https://example.org/ep",
    )  # fmt: skip


def _renderer() -> tuple[MailRenderer, LinkSigner]:
    signer = LinkSigner("k")
    return MailRenderer(MailLinks(signer, "https://brief.example"), "pb <b@pb.example>"), signer


def test_the_brief_mail_has_both_parts_headers_and_escaped_content() -> None:
    renderer, signer = _renderer()
    reply = Reply(
        parts=(
            Text("Your brief for Tuesday: top 5", "heading"),
            *(_card(n) for n in range(1, 6)),
            Text("Only 3 new insights.", "note"),
            Text(FOLLOW_UP_HINT, "note"),
        )
    )
    message = renderer.brief("r@example.org", reply, NOW)
    again = message_from_bytes(message.as_bytes(policy=policy.SMTP), policy=policy.default)
    assert again["Subject"] == "Your brief for Tuesday: top 5"
    assert again["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = str(again["List-Unsubscribe"]).strip("<>")
    assert unsubscribe.startswith("https://brief.example/email/unsubscribe?t=")
    token = unsubscribe.split("t=", 1)[1]
    assert signer.load("unsubscribe", token, now=NOW) == {"a": "r@example.org"}
    html = again.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = again.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert html.count('href="https://brief.example/insights/10') == 5
    assert HOSTILE in text  # plain text carries the words as they are
    assert "Only 3 new insights." in text and FOLLOW_UP_HINT not in text  # chat-only hint
    assert text.count("https://brief.example/email/feedback?t=") == 15  # 👍 👎 more, x5


def test_the_confirmation_mail_carries_one_expiring_link() -> None:
    renderer, signer = _renderer()
    signup = parse_signup("r@example.org", ["pricing"], "07:00", "Europe/Berlin")
    message = renderer.confirmation(signup, NOW)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    [link] = [w for w in text.split() if w.startswith("https://")]
    assert link.startswith("https://brief.example/signup/confirm?t=")
    payload = signer.load("confirm", link.split("t=", 1)[1], now=NOW)
    assert payload["a"] == "r@example.org" and payload["z"] == "Europe/Berlin"
    assert "List-Unsubscribe" not in message
