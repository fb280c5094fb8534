"""No reader takes more than 2 s on input of 1 MB or less, on inputs built to hurt: long runs
of the characters its regular expressions repeat on, deep nesting, entity expansion, one endless
line, a million tiny cues. (CPU time of this process, so other work on the machine does not
count; a catastrophic regex or a quadratic loop takes minutes on these, not seconds.)"""

from __future__ import annotations

import json
import time

import pytest

from core.feeds.parse import parse_feed
from tests.fuzz.targets import KINDS, TARGETS

MB = 1_000_000
LIMIT_SECONDS = 2.0


def _fill(piece: str | bytes, size: int = MB) -> bytes:
    raw = piece.encode() if isinstance(piece, str) else piece
    return (raw * (size // len(raw) + 1))[:size]


def _laughs() -> bytes:
    """The "billion laughs": ten levels of entities, each ten of the one below."""
    entities = ['<!ENTITY l0 "lol">']
    entities += [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)]
    doctype = f"<!DOCTYPE r [{''.join(entities)}]>"
    return (
        f'<?xml version="1.0"?>{doctype}<opml><body><outline xmlUrl="&l9;"/></body></opml>'.encode()
    )


TEXT_BOMBS = {
    "letters": "a",
    "spaces": " ",
    "newlines": "\n",
    "brackets": "[",
    "stars": "**",
    "colons": "0:",
    "angles": "<",
    "arrows": "-->",
    "hashes": "#",
    "digits": "9",
    "mentions": "@x ",
    "escaped-stamps": "\\[0",
    "words": "word ",
    "srt-cues": "1\n00:00:01,000 --> 00:00:02,000\nA: hi\n\n",
    "vtt-voices": "00:01.000 --> 00:02.000\n<v A>hi</v>\n\n",
    "bracketed-lines": "[Speaker 1] [00:01] hi\n",
    "markdown-turns": "**Ann:** \\[00:01\\] hi\n\n",
    "html-cites": "<cite>A:</cite><time>0:01</time><p>hi</p>",
    "unclosed-tags": "<p><cite><time>",
    "tag-openers": "<a",  # HTMLParser rescanned the rest at each one: 64 KB took 5 s
    "attribute-openers": '<a b="',
    "name-prefixes": "Ann: Bo: ",
    "link-openers": "[a](",
    "link-titles": '[a](b "',
}


def _cases() -> list[tuple[str, str, bytes]]:
    cases: list[tuple[str, str, bytes]] = []
    for name, piece in TEXT_BOMBS.items():
        for target in ("transcript", "intent", "button", "duration"):
            cases.append((target, name, _fill(piece)))
        for k, kind in enumerate(KINDS):
            cases.append(("transcript_reader", f"{kind}-{name}", bytes([k]) + _fill(piece, MB - 1)))
    cases += [
        ("transcript", "vtt-header-then-arrows", b"\x00" + b"WEBVTT\n\n" + _fill("-->", MB - 9)),
        ("transcript_reader", "json-deep-lists", bytes([KINDS.index("json")]) + _fill("[", MB - 1)),
        (
            "transcript_reader",
            "json-million-segments",
            bytes([KINDS.index("json")])
            + json.dumps(
                {
                    "segments": [
                        {"startTime": i, "endTime": i + 1, "body": "w", "speaker": "A"}
                        for i in range(18000)
                    ]
                }
            ).encode()[: MB - 1],
        ),
        ("feed", "entity-expansion", _laughs().replace(b"opml", b"rss")),
        ("feed", "one-huge-title", b"<rss><channel><item><title>" + _fill("a&amp;", MB - 50)),
        ("opml", "entity-expansion", _laughs()),
        ("opml", "deep-nesting", b"<opml><body>" + _fill("<outline>", MB - 20)),
        (
            "opml",
            "many-outlines",
            b"<opml><body>" + _fill('<outline xmlUrl="http://a.example/f"/>', MB - 30),
        ),
        ("telegram_update", "deep-json", _fill("[", MB)),
        (
            "telegram_update",
            "long-text",
            json.dumps(
                {
                    "update_id": 1,
                    "message": {
                        "message_id": 1,
                        "date": 1,
                        "chat": {"id": 1, "type": "private"},
                        "text": "related " * (MB // 9),
                    },
                }
            ).encode(),
        ),
        ("slack_payload", "deep-json", b"{" + _fill('"a":{', MB - 1)),
        ("slack_payload", "form-fields", _fill("a=b&")),
        ("slack_payload", "payload-field", b"payload=" + _fill("%5B", MB - 8)),
    ]
    return cases


@pytest.mark.parametrize(
    ("target", "name", "data"), _cases(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_a_1mb_worst_case_parses_within_2_seconds(target: str, name: str, data: bytes) -> None:
    assert len(data) <= MB
    # The best of up to three runs: CPU time still swells when the suite's other worker and
    # the fault tests' processes share the two cores (a 1.1 s parse read 2.3 s once), while a
    # quadratic parse, the thing looked for, is slow every time.
    used = float("inf")
    for _ in range(3):
        started = time.process_time()
        TARGETS[target](data)
        used = min(used, time.process_time() - started)
        if used < LIMIT_SECONDS:
            break
    assert used < LIMIT_SECONDS, f"{target} took {used:.1f} s of CPU on {name}"


@pytest.mark.parametrize(
    "piece", ["<item><title>x</title></item>", "<a>"], ids=["tiny-items", "deep-nesting"]
)
def test_feed_parsing_grows_linearly_on_element_dense_input(piece: str) -> None:
    """feedparser spends several microseconds per element, so a megabyte of nothing but tiny
    elements costs seconds (it runs in the parse worker pool, off the event loop); what must not
    happen is worse than linear growth."""
    head = b"<rss><channel>"

    def cpu(size: int) -> float:
        started = time.process_time()
        parse_feed(head + _fill(piece, size), feed_url="https://feeds.example.org/f.xml")
        return time.process_time() - started

    # 64 kB and 256 kB: thousands of elements each, so the parse (0.2-2 s of CPU) dwarfs any
    # fixed cost, and the ratio that tells linear (4x) from quadratic (16x) growth is the one
    # the megabyte-sized inputs showed, at a quarter of their CPU time.
    # Linear is 4x, quadratic 16x: the line is drawn between them on a log scale (8x), and
    # the best of up to three timings of each is taken, as above. Alone the deep nesting reads
    # 3.7-4.9x (the garbage collector's share grows with the open elements); under the
    # suite's load it read 7.3x (one 256 kB parse 5.3 s of CPU against 3.7-4.1 s alone) and,
    # once feedparser's base URIs were memoised (a 64 kB parse 0.3 s instead of 1.0 s), 7.5x.
    small = large = float("inf")
    for _ in range(3):
        small, large = min(small, cpu(MB // 16)), min(large, cpu(MB // 4))
        if large < 4 * small * 2 + 0.2:
            break
    assert large < 4 * small * 2 + 0.2, f"4x the input took {large / small:.1f}x the time"
