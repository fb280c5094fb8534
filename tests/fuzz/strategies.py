"""Hypothesis strategies that build inputs near the shape each reader expects (so a small
budget reaches deep code), mixed with raw bytes (so the shallow paths are covered too)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import strategies as st

_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("PODBRIEF_SHARED_DATA", _ROOT.parent / "shared" / "data"))
if not SHARED.is_dir():  # a worktree under /work/wt/<name>: the data sits beside the main repo
    SHARED = Path("/work/shared/data")


def real_files(kind: str) -> list[bytes]:
    """The shared real feeds or transcripts: the seeds mutations start from."""
    return [p.read_bytes() for p in sorted((SHARED / kind).iterdir()) if p.is_file()]


def _mutate(seed: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    data = bytearray(seed)
    for at, cut, insert in edits:
        at %= len(data) + 1
        data[at : at + cut] = insert
    return bytes(data)


def mutated(kind: str) -> st.SearchStrategy[bytes]:
    """A real file with a few bytes cut and nasty pieces put in: deep paths, odd corners."""
    seeds = real_files(kind)
    pieces = st.sampled_from([p.encode() for p in NASTY + CLOCKS]) | st.binary(max_size=8)
    edits = st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 40), pieces), max_size=12)
    return st.tuples(st.sampled_from(seeds), edits).map(lambda p: _mutate(*p))


NASTY = [
    "<",
    ">",
    "&",
    "&amp;",
    "<b>",
    "</i>",
    "*",
    "_",
    "`",
    "|",
    "#",
    "\\",
    "\u202e",
    "\x00",
    "\ufeff",
    "🎙",
    "é",
    "\r\n",
    "\t",
    "  ",
    ":",
    "-->",
    "[",
    "]",
    "{",
    "}",
    '"',
    "'",
]
WORDS = [
    "the",
    "pricing",
    "you",
    "should",
    "always",
    "because",
    "reason",
    "is",
    "that",
    "we",
    "learned",
    "12%",
    "$200",
    "teams",
    "build",
    "product",
    "most",
    "important",
    "leads",
    "to",
    "growth",
    "customers",
    "ten",
    "times",
    "data",
    "security",
    "cloud",
]
CLOCKS = [
    "00:00:01,000",
    "00:00:02.500",
    "1:02:03",
    "99:99",
    "00:00",
    "-1:00",
    "1e9",
    "NaN",
    "4:33",
    "00:00:00,000 --> 00:00:01,000",
    "[04:33]",
    "\\[01:06:22.12\\]",
]

token = st.one_of(
    st.sampled_from(NASTY), st.sampled_from(WORDS), st.sampled_from(CLOCKS), st.text(max_size=6)
)
line = st.lists(token, max_size=12).map(" ".join)
text_block = st.lists(line, max_size=25).map("\n".join)


def _srt(cues: list[tuple[int, str, str, str]]) -> str:
    return "\n\n".join(f"{n}\n{a} --> {b}\n{t}" for n, a, b, t in cues)


srt = st.lists(
    st.tuples(st.integers(-2, 99), st.sampled_from(CLOCKS), st.sampled_from(CLOCKS), line),
    max_size=8,
).map(_srt)
vtt = st.builds(lambda body: "WEBVTT\n\n" + body, srt.map(lambda s: s.replace(",", ".")))
vtt_voices = st.lists(st.tuples(st.sampled_from(CLOCKS), line, line), max_size=6).map(
    lambda cues: "WEBVTT\n\n" + "\n\n".join(f"{c} --> {c}\n<v {v}>{t}" for c, v, t in cues)
)
json_value = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "segments",
                    "speakers",
                    "speaker",
                    "startTime",
                    "endTime",
                    "body",
                    "start",
                    "end",
                    "text",
                    "speakerLabel",
                    "spk_0",
                    "version",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)
podcast_json = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "speaker": st.text(max_size=8) | st.none() | st.integers(),
            "startTime": st.floats() | st.integers() | st.text(max_size=5) | st.none(),
            "endTime": st.floats() | st.integers() | st.text(max_size=5) | st.none(),
            "body": line | st.none() | st.integers(),
        },
    ),
    max_size=8,
).map(lambda segs: json.dumps({"version": "1.0.0", "segments": segs}))
podwhisper_json = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "speakerLabel": st.sampled_from(["spk_0", "spk_1", ""]) | st.integers(),
            "start": st.floats() | st.integers(-5, 10**12) | st.text(max_size=5),
            "end": st.floats() | st.integers(-5, 10**12) | st.text(max_size=5),
            "text": line | st.none(),
        },
    ),
    max_size=8,
).map(lambda segs: json.dumps({"speakers": {"spk_0": "Eoin"}, "segments": segs}))
markdown = st.lists(
    st.tuples(
        st.sampled_from(["**Ann:**", "**Break:**", "**:**", "", "**"]),
        st.sampled_from(CLOCKS),
        line,
    ),
    max_size=10,
).map(lambda turns: "\n\n".join(f"{a} \\[{c}\\] {t}" for a, c, t in turns))
bracketed = st.lists(st.tuples(line, st.sampled_from(CLOCKS), line), max_size=10).map(
    lambda rows: "\n".join(f"[{s}] [{c}] {t}" for s, c, t in rows)
)
html = st.lists(st.tuples(line, st.sampled_from(CLOCKS), line), max_size=8).map(
    lambda rows: (
        "<html><body>"
        + "".join(f"<cite>{s}:</cite> <time>{c}</time> <p>{t}</p>" for s, c, t in rows)
        + "</body></html>"
    )
)
transcript_text = st.one_of(
    srt, vtt, vtt_voices, podcast_json, podwhisper_json, markdown, bracketed, html, text_block
)

DATES = [
    "Mon, 02 Jan 2006 15:04:05 GMT",
    "2006-01-02T15:04:05Z",
    "Tue, 31 Feb 2024 25:61:61 +9999",
    "0000-00-00",
    "99999-01-01",
    "Mon, 01 Jan 0001 00:00:00 GMT",
    "yesterday",
    "",
    "Sun, 32 Dec 9999 23:59:59 -2400",
    "2024-13-45T99:99:99+99:99",
]
DURATIONS = [
    "3600",
    "59:59",
    "1:02:03.5",
    "0",
    "-5",
    "1" * 400,
    "9" * 320 + ".5",
    ":",
    "1:2:3:4",
    "NaN",
    "inf",
    "١٢٣",
]


def _item(title: str, date: str, dur: str, url: str, guid: str) -> str:
    return (
        f"<item><title>{title}</title><guid>{guid}</guid><pubDate>{date}</pubDate>"
        f"<itunes:duration>{dur}</itunes:duration>"
        f'<enclosure url="{url}" type="audio/mpeg" length="1"/>'
        f'<podcast:transcript url="{url}" type="text/vtt" language="en"/>'
        f'<podcast:person role="host" href="{url}">{title}</podcast:person>'
        f'<podcast:chapters url="{url}" type="application/json+chapters"/></item>'
    )


feed_xml = st.lists(
    st.tuples(
        line,
        st.sampled_from(DATES),
        st.sampled_from(DURATIONS),
        st.sampled_from(
            [
                "https://x.example/a.mp3",
                "/rel/a.vtt",
                "file:///etc/passwd",
                "javascript:alert(1)",
                "",
                "http://[::1",
                "a" * 3000,
            ]
        ),
        st.text(max_size=5),
    ),
    max_size=6,
).map(
    lambda items: (
        '<?xml version="1.0"?><rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
        ' xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>T</title>'
        + "".join(_item(*i) for i in items)
        + "</channel></rss>"
    )
)
opml_xml = st.lists(
    st.tuples(
        st.sampled_from(["xmlUrl", "xmlurl", "htmlUrl"]),
        st.sampled_from(
            [
                "https://a.example/f",
                "http://127.0.0.1/x",
                "file:///etc/passwd",
                "feed://b.example/",
                " ",
                "http://169.254.169.254/",
                "&amp;",
                "ftp://x",
            ]
        ),
    ),
    max_size=6,
).map(
    lambda outlines: (
        "<opml version='2.0'><body><outline text='x'>"
        + "".join(f'<outline {k}="{v}"/>' for k, v in outlines)
        + "</outline></body></opml>"
    )
)
phrases = st.one_of(
    line,
    st.tuples(
        st.sampled_from(
            [
                "related",
                "source",
                "more like #",
                "👍",
                "👎",
                "follow",
                "mute",
                "/start@bot",
                "<@U1>",
                "subscribe",
                "time",
                "timezone",
                "what did they say about",
                "anything about",
                "less about",
            ]
        ),
        st.text(max_size=20),
    ).map(" ".join),
)
telegram_json = st.fixed_dictionaries(
    {"update_id": st.integers() | st.text(max_size=3)},
    optional={
        "message": st.fixed_dictionaries(
            {},
            optional={
                "message_id": st.integers() | st.none(),
                "date": st.integers() | st.text(max_size=3),
                "chat": json_value
                | st.fixed_dictionaries(
                    {
                        "id": st.integers(),
                        "type": st.sampled_from(
                            ["private", "group", "supergroup", "channel", "weird"]
                        ),
                    }
                ),
                "text": phrases,
                "from": json_value,
                "location": json_value,
                "reply_to_message": json_value,
                "entities": json_value,
            },
        ),
        "callback_query": st.fixed_dictionaries(
            {},
            optional={
                "id": st.text(max_size=3),
                "data": st.text(max_size=80),
                "from": json_value,
                "message": json_value,
                "chat_instance": st.text(max_size=3),
            },
        ),
        "my_chat_member": json_value,
    },
).map(lambda d: json.dumps(d).encode())
slack_json = st.dictionaries(
    st.sampled_from(
        [
            "type",
            "team",
            "team_id",
            "user",
            "channel",
            "container",
            "message",
            "actions",
            "event",
            "view",
            "enterprise",
            "token",
        ]
    ),
    json_value
    | st.fixed_dictionaries(
        {},
        optional={
            "id": json_value,
            "team_id": json_value,
            "channel_id": json_value,
            "ts": json_value,
            "thread_ts": json_value,
            "text": phrases,
        },
    ),
    max_size=6,
).map(json.dumps)
slack_body = st.one_of(
    slack_json.map(str.encode),
    slack_json.map(lambda p: ("payload=" + __import__("urllib.parse").parse.quote(p)).encode()),
)
buttons = st.one_of(
    st.tuples(st.text(max_size=12), st.text(max_size=6), st.text(max_size=50)).map("|".join),
    st.text(max_size=70),
)
TEMPLATES = [
    "The reason is that {a} teams should always measure {b} before they {c}.",
    "What we learned is that {a} pricing leads to 12% more {b} growth.",
    "You should make sure your {a} customers see {b} value within ten days.",
    "The most important {a} lesson is that {b} security beats {c} speed.",
    "So, yeah, I think {a} is {b}, you know, {c}.",
    "Do you think {a} matters for {b}?",
    "This episode is brought to you by {a}, use code {b} for $200 off.",
    "Links are in the show notes, {a} {b}.",
]
_word = st.one_of(st.sampled_from(WORDS), st.sampled_from(WORDS), st.sampled_from(WORDS), token)
speech_sentence = st.tuples(st.sampled_from(TEMPLATES), _word, _word, _word).map(
    lambda t: t[0].format(a=t[1], b=t[2], c=t[3])
)
speech = st.lists(speech_sentence, min_size=60, max_size=160).map(" ".join)


STRATEGIES = {
    "feed": st.one_of(feed_xml.map(str.encode), mutated("feeds")),
    "duration": st.sampled_from(DURATIONS).map(str.encode),
    "transcript": st.tuples(st.integers(0, 255), transcript_text).map(
        lambda p: bytes([p[0]]) + p[1].encode("utf-8", "surrogatepass")
    )
    | st.tuples(st.integers(0, 255), mutated("transcripts")).map(lambda p: bytes([p[0]]) + p[1]),
    "transcript_reader": st.tuples(st.integers(0, 255), transcript_text).map(
        lambda p: bytes([p[0]]) + p[1].encode("utf-8", "surrogatepass")
    )
    | st.tuples(st.integers(0, 255), mutated("transcripts")).map(lambda p: bytes([p[0]]) + p[1]),
    "opml": opml_xml.map(str.encode),
    "intent": phrases.map(lambda s: s.encode("utf-8", "surrogatepass")),
    "telegram_update": telegram_json,
    "slack_payload": slack_body,
    "button": buttons.map(lambda s: s.encode("utf-8", "surrogatepass")),
    "insights": st.one_of(mutated("transcripts"), speech.map(str.encode)),
}
