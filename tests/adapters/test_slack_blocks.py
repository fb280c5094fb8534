"""Block Kit rendering: escaped dynamic text, Slack's limits, a plain-text fallback."""

from __future__ import annotations

import json

import pytest

from adapters.slack.blocks import render_reply
from adapters.slack.mrkdwn import cut_escaped, escape, link, split_text
from core.chat.types import Action, Button, Buttons, InsightCard, Reply, Text


def card(n: int, **changes: object) -> InsightCard:
    values: dict[str, object] = {
        "insight_id": n, "position": n, "headline": f"Headline {n}", "body": "Body text.",
        "quote": "A quote.", "speaker": "Ada", "start_seconds": 3725.0,
        "show_title": "Show", "episode_title": "Episode", "episode_url": "https://x.example/e",
        "topics": ("pricing",),
        "buttons": (Button("Related", Action("related", n)), Button("👍", Action("up", n))),
    }  # fmt: skip
    values.update(changes)
    return InsightCard(**values)  # type: ignore[arg-type]


def all_text(blocks: list[dict[str, object]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_dynamic_text_cannot_mention_or_link() -> None:
    hostile = "<!channel> & <https://evil.example|click> *bold*"
    [message] = render_reply(Reply(parts=(Text(hostile), card(1, headline=hostile))))
    text = all_text(message.blocks)
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text
    assert "<!channel>" not in message.text  # the fallback is escaped too


def test_a_card_has_headline_quote_source_and_buttons() -> None:
    [message] = render_reply(Reply(parts=(card(3),)))
    types = [b["type"] for b in message.blocks]
    assert types == ["section", "section", "context", "actions"]  # no leading divider
    text = all_text(message.blocks)
    assert "*#3 Headline 3*" in text and "— Ada, 1:02:05" in text
    assert "<https://x.example/e|Episode>" in text
    values = [e["value"] for e in message.blocks[3]["elements"]]  # type: ignore[index]
    assert values == ["related|3|", "up|3|"]
    ids = [e["action_id"] for e in message.blocks[3]["elements"]]  # type: ignore[index]
    assert len(set(ids)) == len(ids)  # unique within a message
    assert message.text == "#3 Headline 3 (Show)"


def test_more_than_fifty_blocks_split_without_breaking_a_card() -> None:
    reply = Reply(parts=tuple(card(n) for n in range(1, 16)))  # 15 cards x 5 blocks
    messages = render_reply(reply)
    assert len(messages) == 2
    assert all(len(m.blocks) <= 50 for m in messages)
    assert messages[1].blocks[0]["type"] == "section"  # starts with a whole card
    assert sum(all_text(m.blocks).count("*#") for m in messages) == 15


def test_long_text_is_split_into_sections_of_at_most_3000() -> None:
    long = ("word & more " * 700).strip()  # 8,400 characters, entities to keep whole
    [message] = render_reply(Reply(parts=(Text(long),)))
    sections = [b["text"]["text"] for b in message.blocks]  # type: ignore[index]
    assert len(sections) >= 3 and all(len(s) <= 3000 for s in sections)
    assert all(not s.endswith("&am") and "&amp" not in s[-4:] for s in sections)
    assert " ".join(sections).replace("&amp;", "&") == long


def test_limits_of_headers_buttons_and_headlines() -> None:
    reply = Reply(
        parts=(
            Text("H" * 400, style="heading"),
            Buttons((Button("L" * 200, Action("brief")),)),
            card(1, headline="x" * 1000),
        )
    )
    [message] = render_reply(reply)
    header, actions = message.blocks[0], message.blocks[1]
    assert len(header["text"]["text"]) == 150  # type: ignore[index]
    assert len(actions["elements"][0]["text"]["text"]) == 75  # type: ignore[index]
    assert len(all_text(message.blocks)) < 3000 * 10


@pytest.mark.parametrize(
    ("raw", "limit", "expected"),
    [("a & b", 3, "a…"), ("a & b", 7, "a…"), ("a & b", 8, "a &amp;…"), ("<>", 20, "&lt;&gt;")],
)
def test_cutting_never_splits_an_entity(raw: str, limit: int, expected: str) -> None:
    assert cut_escaped(raw, limit) == expected


def test_links_and_split_helpers() -> None:
    assert link("https://x.example/a|b>c", "Ep | 1") == "<https://x.example/a%7Cb%3Ec|Ep ¦ 1>"
    assert escape("&lt;") == "&amp;lt;"  # already-escaped looking text is still escaped
    assert split_text("") == [""]


def test_a_button_whose_payload_is_refused_is_left_out_and_the_message_kept() -> None:
    long = Button("long", Action("follow", None, "é" * 40))  # over the 64-byte payload limit
    reply = Reply(parts=(Text("pick"), Buttons((long, Button("ok", Action("brief"))))))
    [message] = render_reply(reply)
    labels = [e["text"]["text"] for b in message.blocks if b["type"] == "actions"
              for e in b["elements"]]  # type: ignore[index]  # fmt: skip
    assert labels == ["ok"] and message.blocks[0]["type"] == "section"
    [alone] = render_reply(Reply(parts=(Text("pick"), Buttons((long,)))))
    assert [b["type"] for b in alone.blocks] == ["section"]  # no empty actions block
