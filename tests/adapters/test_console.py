"""The console adapter: rich cards, and a chat loop over piped lines with the real engine."""

from __future__ import annotations

import io

from rich.console import Console
from sqlalchemy import func, select

from adapters.console.chat import chat_loop, console_chat
from adapters.console.render import render_reply
from core.chat.engine import ConversationEngine
from core.chat.types import Action, Button, Buttons, InsightCard, Reply, Text
from core.db import Sessions
from core.models import User
from tests.fakes.chat_library import build_library
from tests.fakes.clock import FakeClock


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=120, force_terminal=False, color_system=None), out


class _Piped(io.StringIO):
    def isatty(self) -> bool:
        return False


def test_a_card_shows_number_headline_quote_speaker_time_topics_and_source() -> None:
    console, out = _console()
    card = InsightCard(
        insight_id=7, position=2, headline="Annual plans cut churn", body="Body text here.",
        quote="They stick around.", speaker="Maya Chen", start_seconds=3725.0,
        show_title="The Pricing Pod", episode_title="Churn", episode_url="https://x.example/e",
        topics=("pricing", "saas metrics"), is_older=True,
    )  # fmt: skip
    render_reply(console, Reply(parts=(Text("Your brief", "heading"), card)))
    text = out.getvalue()
    for expected in ("#2 Annual plans cut churn", "(older)", "Body text here.",
                     "“They stick around.”  — Maya Chen, 1:02:05", "#pricing  #saas-metrics",
                     "The Pricing Pod · Churn", "https://x.example/e"):  # fmt: skip
        assert expected in text


def test_buttons_and_a_bare_notice_are_shown() -> None:
    console, out = _console()
    render_reply(console, Reply(parts=(Buttons((Button("Follow sleep", Action("follow")),)),)))
    render_reply(console, Reply(notice="👍 Thanks, noted"))
    assert "[Follow sleep]" in out.getvalue() and "👍 Thanks, noted" in out.getvalue()


async def test_chat_loop_answers_piped_lines_and_presses_buttons_by_label(
    sessions: Sessions, clock: FakeClock
) -> None:
    lib = await build_library(sessions, clock.now())
    engine = ConversationEngine(sessions, clock, embedder=lib.embedder)
    console, out = _console()
    lines = "brief\nsource 1\n\nforget\nyes, forget everything\nquit\nbrief\n"
    answered = await chat_loop(engine, console_chat("carol"), console, stream=_Piped(lines))
    text = out.getvalue()
    assert answered == 4  # the empty line is skipped, nothing after 'quit' is read
    assert "you> source 1" in text and "Show: " in text and "top 5" in text
    assert "deleted everything" in text
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(User))).scalar_one() == 0


async def test_chat_loop_ends_at_end_of_input(sessions: Sessions, clock: FakeClock) -> None:
    engine = ConversationEngine(sessions, clock)
    console, out = _console()
    answered = await chat_loop(engine, console_chat("dave"), console, stream=_Piped("help"))
    assert answered == 1 and "What you can say" in out.getvalue()
