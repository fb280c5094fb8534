"""Rendering a neutral reply as Telegram HTML: escaping, layout, keyboards, splitting.

Every message is checked with the emulator's copy of Telegram's HTML rules."""

from __future__ import annotations

import pytest

from adapters.telegram.render import render_reply, split_paragraphs, text_paragraphs
from core.chat.types import Action, Button, Buttons, InsightCard, InvalidAction, Reply, Text
from tests.fakes.telegram_api import check_html, utf16_len, visible_text

NASTY = "<script>alert('x')</script> & <b>not bold</b> &amp; 1 < 2 > 0"


def card(position: int = 1, **changes: object) -> InsightCard:
    values: dict[str, object] = {
        "insight_id": 41 + position,
        "position": position,
        "headline": f"Pricing {NASTY}",
        "body": f"Body {NASTY}",
        "quote": f"Quote {NASTY}",
        "speaker": "Maya <Chen> & co",
        "start_seconds": 754.9,
        "show_title": "The <Pricing> Pod",
        "episode_title": "Ep & 41",
        "episode_url": 'https://pricing.example/ep/41?a=1&b="2"',
    }
    values.update(changes)
    return InsightCard(**values)  # type: ignore[arg-type]


def test_a_card_is_escaped_html_with_bold_headline_quote_and_time_link() -> None:
    [message] = render_reply(Reply(parts=(card(),), brief_id=7))
    check_html(message.html)
    assert message.html.startswith("<b>#1 · Pricing &lt;script&gt;")
    assert "<blockquote>“Quote " in message.html
    assert "— Maya &lt;Chen&gt; &amp; co, " in message.html
    assert '<a href="https://pricing.example/ep/41?a=1&amp;b=&quot;2&quot;#t=754">12:34</a>' in (
        message.html
    )
    shown = visible_text(message.html)
    assert NASTY in shown and "The <Pricing> Pod — Ep & 41" in shown
    assert message.keyboard is not None
    [row] = message.keyboard.inline_keyboard
    assert [b.text for b in row] == ["Related", "Source", "👍", "👎"]
    actions = [Action.decode(str(b.callback_data)) for b in row]
    assert [(a.name, a.insight_id) for a in actions] == [
        ("related", 42), ("source", 42), ("up", 42), ("down", 42)
    ]  # fmt: skip


def test_a_time_without_a_safe_link_is_plain_text() -> None:
    for url in (None, "javascript:alert(1)", "ftp://x"):
        [message] = render_reply(Reply(parts=(card(episode_url=url),)))
        check_html(message.html)
        assert "<a " not in message.html and "12:34" in message.html


def test_one_message_per_card_with_text_and_buttons_around_them() -> None:
    done = Buttons((Button("Done", Action("onboard_done")),))
    topics = Buttons(tuple(Button(t, Action("follow", None, t)) for t in "abcdef"))
    reply = Reply(
        parts=(Text("Hello", "heading"), Text("Pick:"), topics, done, card(1), card(2),
               Text("Ask 'related 2'", "note"))
    )  # fmt: skip
    messages = render_reply(reply)
    assert [m.html.split("\n")[0] for m in messages] == [
        "<b>Hello</b>", messages[1].html.split("\n")[0], messages[2].html.split("\n")[0],
        "<i>Ask 'related 2'</i>",
    ]  # fmt: skip
    assert messages[0].keyboard is not None
    labels = [[b.text for b in row] for row in messages[0].keyboard.inline_keyboard]
    assert labels == [["a", "b", "c", "d"], ["e", "f"], ["Done"]]
    assert messages[1].html.startswith("<b>#1 ·") and messages[2].html.startswith("<b>#2 ·")


def test_compact_is_one_message_with_numbered_buttons() -> None:
    reply = Reply(parts=(Text("Today", "heading"), *(card(i) for i in range(1, 6))), compact=True)
    [message] = render_reply(reply)
    check_html(message.html)
    assert all(f"#{i} · Pricing" in visible_text(message.html) for i in range(1, 6))
    assert message.keyboard is not None
    rows = message.keyboard.inline_keyboard
    assert len(rows) == 5 and [b.text for b in rows[2]] == [
        "Related #3",
        "Source #3",
        "👍 #3",
        "👎 #3",
    ]


def test_a_button_payload_over_64_bytes_is_left_out_and_the_message_kept() -> None:
    long = Button("long", Action("follow", None, "é" * 40))
    with pytest.raises(InvalidAction):
        long.action.encode()
    short = Button("ok", Action("follow", None, "ai"))
    [message] = render_reply(Reply(parts=(Text("x"), Buttons((long, short)))))
    assert message.html == "x" and message.keyboard is not None
    assert [[b.text for b in row] for row in message.keyboard.inline_keyboard] == [["ok"]]
    [alone] = render_reply(Reply(parts=(Text("y"), Buttons((long,)))))
    assert alone.keyboard is None


def test_splitting_counts_utf16_and_never_cuts_a_tag() -> None:
    paragraphs = text_paragraphs(Text("🎧" * 3000, "heading")) + text_paragraphs(Text("a & b"))
    chunks = split_paragraphs(paragraphs)
    for chunk in chunks:
        check_html(chunk)
        assert utf16_len(visible_text(chunk)) <= 4096
    assert len(chunks) == 2
    assert chunks[0] == "<b>" + "🎧" * 2048 + "</b>"  # 4,096 UTF-16 units
    assert "".join(visible_text(c) for c in chunks) == "🎧" * 3000 + "\n\na & b"


def test_short_paragraphs_share_a_message_up_to_the_limit() -> None:
    paragraphs = text_paragraphs(Text("\n\n".join(["x" * 1000] * 9)))
    chunks = split_paragraphs(paragraphs)
    assert [len(c) for c in chunks] == [4000 + 6, 4000 + 6, 1000]
