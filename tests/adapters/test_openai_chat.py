"""Follow-ups through the model: tool-calling routes and cited answers, over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.openai_llm import OpenAILLM
from adapters.openai_retry import RetryPolicy
from core.chat.engine import ConversationEngine
from core.chat.types import Buttons, ChatRef, IncomingMessage, Reply, Sender, Text
from core.db import Sessions, transaction
from core.domain import SegmentData
from core.llm.budget import LlmBudget
from core.llm.router import LlmAnswerer, LlmRouter
from core.models import Insight
from tests.fakes.clock import FakeClock
from tests.fakes.llm_stack import add_episode
from tests.fakes.openai_server import FakeOpenAI, Status, running
from tests.fakes.openai_server import Reply as Scripted
from tests.fakes.sleeps import RecordedSleeps

SEGMENTS = [
    SegmentData(0.0, 6.0, "Welcome to the SaaS show, today we talk about money.", "Host"),
    SegmentData(754.0, 760.0, "We raised our pricing twice and nobody complained.", "Dana"),
    SegmentData(760.0, 766.0, "Usage based pricing made our revenue far less lumpy.", "Dana"),
    SegmentData(900.0, 905.0, "Kubernetes is overkill for a team of three.", "Host"),
]


@pytest.fixture
def fake() -> FakeOpenAI:
    return FakeOpenAI()


@pytest.fixture
async def engine_llm(
    sessions: Sessions, clock: FakeClock, fake: FakeOpenAI
) -> AsyncIterator[ConversationEngine]:
    episode_id = await add_episode(sessions, "SaaS Show", "Pricing without fear", SEGMENTS)
    async with transaction(sessions) as session:
        from core.models import Episode

        episode = await session.get(Episode, episode_id)
        assert episode is not None
        session.add(
            Insight(
                episode_id=episode_id, feed_id=episode.feed_id,
                headline="Raising pricing twice cost no customers",
                body="Dana raised prices twice. Nobody complained.",
                quote="We raised our pricing twice and nobody complained.",
                speaker="Dana", start_seconds=754.0, end_seconds=760.0,
                topics=["pricing"], score=0.8, created_at=clock.now(),
            )
        )  # fmt: skip
    async with running(fake) as base_url:
        llm = OpenAILLM(
            api_key="sk-test", base_url=base_url, model="gpt-4o-mini",
            retry=RetryPolicy(attempts=2, sleep=RecordedSleeps()),
        )  # fmt: skip
        budget = LlmBudget(sessions, clock)
        yield ConversationEngine(
            sessions, clock, router=LlmRouter(llm, budget), answerer=LlmAnswerer(llm, budget)
        )
        await llm.aclose()


def said(text: str, *, group: bool = False, admin: bool = True) -> IncomingMessage:
    return IncomingMessage(
        chat=ChatRef("console", "room" if group else "ann", is_group=group),
        sender=Sender("ann", "Ann", is_admin=admin),
        text=text,
    )


def texts(reply: Reply) -> str:
    return "\n".join(p.text for p in reply.parts if isinstance(p, Text))


async def test_free_text_the_rules_miss_is_routed_by_a_tool_call(
    engine_llm: ConversationEngine, fake: FakeOpenAI
) -> None:
    fake.script.append(Scripted(tool_calls=[("follow", '{"topic": "kubernetes"}')]))
    reply = await engine_llm.handle(said("I would love to hear way more on kubernetes stuff"))
    assert texts(reply).startswith("Following “kubernetes”")
    sent = fake.chat_requests()[0]
    assert "forget" not in {t["function"]["name"] for t in sent["tools"]}
    assert sent["messages"][1]["content"] == "I would love to hear way more on kubernetes stuff"


async def test_rules_that_understand_do_not_call_the_model(
    engine_llm: ConversationEngine, fake: FakeOpenAI
) -> None:
    await engine_llm.handle(said("help"))
    assert fake.chat_requests() == []


async def test_a_tool_never_offered_is_ignored(
    engine_llm: ConversationEngine, fake: FakeOpenAI
) -> None:
    fake.script.append(Scripted(tool_calls=[("forget", "{}")]))
    reply = await engine_llm.handle(said("erase all my data right now"))
    assert texts(reply).startswith("Sorry, I didn't understand")


async def test_a_routed_action_still_needs_a_group_admin(
    engine_llm: ConversationEngine, fake: FakeOpenAI
) -> None:
    fake.script.append(Scripted(tool_calls=[("pause", "{}")]))
    message = said("let's have some quiet for a bit", group=True, admin=False)
    reply = await engine_llm.handle(message)
    assert "Only this group's admins can pause the briefs" in texts(reply)


async def test_when_the_model_is_down_the_rules_answer(
    engine_llm: ConversationEngine, fake: FakeOpenAI
) -> None:
    fake.script += [Status(500), Status(500)]
    reply = await engine_llm.handle(said("hmm whatever you think works"))
    assert texts(reply).startswith("Sorry, I didn't understand")


async def test_a_question_is_answered_citing_only_what_was_retrieved(
    engine_llm: ConversationEngine, fake: FakeOpenAI
) -> None:
    answer = {
        "answer": "Guests raised prices without losing customers [I1] and moved to usage "
        "based pricing [P2]. Everyone doubled revenue [I7].",
        "citations": ["I1", "P2", "I7", "X3"],
    }
    fake.script.append(Scripted(content=json.dumps(answer)))
    reply = await engine_llm.handle(said("what did guests say about pricing?"))
    body = texts(reply)
    assert "[I1]" in body and "[P2]" in body and "[I7]" not in body and "X3" not in body
    assert "[I1] SaaS Show — “Pricing without fear” at 12:34" in body
    assert "[P2] SaaS Show — “Pricing without fear” at 12:40" in body
    buttons = [b for p in reply.parts if isinstance(p, Buttons) for b in p.buttons]
    assert [b.action.name for b in buttons] == ["source"]
    user = fake.chat_requests()[0]["messages"][1]["content"]
    assert "[I1] (Dana, SaaS Show" in user and "Usage based pricing" in user


async def test_an_answer_citing_nothing_retrieved_is_not_shown(
    engine_llm: ConversationEngine, fake: FakeOpenAI
) -> None:
    answer = {"answer": "Pricing is dead [I9].", "citations": ["I9"]}
    fake.script.append(Scripted(content=json.dumps(answer)))
    reply = await engine_llm.handle(said("what did guests say about pricing?"))
    assert "Pricing is dead" not in texts(reply)
    assert reply.cards and reply.cards[0].headline == "Raising pricing twice cost no customers"


async def test_a_question_in_free_text_reaches_the_answer_through_the_router(
    engine_llm: ConversationEngine, fake: FakeOpenAI
) -> None:
    fake.script += [
        Scripted(tool_calls=[("answer_question", '{"question": "pricing changes"}')]),
        Scripted(content=json.dumps({"answer": "Prices went up twice [I1].", "citations": []})),
    ]
    reply = await engine_llm.handle(said("summarise the pricing changes people mentioned"))
    assert texts(reply).startswith("Prices went up twice [I1].")


async def test_a_throttled_model_never_keeps_a_chat_reply_waiting(
    tmp_path: Path, fake: FakeOpenAI
) -> None:
    from bot.settings import Secrets, Settings
    from bot.wiring import build_engine, open_services

    fake.script.append(Status(429, retry_after="30"))  # far longer than a person waits
    async with running(fake) as base_url:
        services = await open_services(
            Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", embedder="lsa"),
            Secrets(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=base_url),
            FakeClock(),
        )
        try:
            engine = build_engine(services)
            started = time.monotonic()
            reply = await engine.handle(said("hmm whatever you think works"))
        finally:
            await services.aclose()
    assert time.monotonic() - started < 10  # no 30-second wait
    assert texts(reply).startswith("Sorry, I didn't understand")
    assert len(fake.chat_requests()) == 1
