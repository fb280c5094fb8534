"""OpenAILLM through the real openai client over HTTP to a scripted local server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from pydantic import BaseModel, ConfigDict

from adapters.openai_llm import OpenAILLM
from adapters.openai_retry import RetryPolicy
from core.llm.types import LlmBadAnswer, LlmUnavailable, ToolSpec
from tests.fakes.openai_server import FakeOpenAI, Hang, Reply, Status, running
from tests.fakes.sleeps import RecordedSleeps


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str
    cited: list[int]


@pytest.fixture
def fake() -> FakeOpenAI:
    return FakeOpenAI()


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture
async def llm(fake: FakeOpenAI, sleeps: RecordedSleeps) -> AsyncIterator[OpenAILLM]:
    async with running(fake) as base_url:
        client = OpenAILLM(
            api_key="sk-test",
            base_url=base_url,
            model="gpt-4o-mini",
            timeout=0.5,
            retry=RetryPolicy(attempts=3, base_delay=1.0, sleep=sleeps),
        )
        yield client
        await client.aclose()


async def ask(llm: OpenAILLM) -> Answer:
    parsed = await llm.complete_structured(
        system="Answer.", user="Question?", output=Answer, schema_name="answer"
    )
    return parsed.value


async def test_a_structured_answer_is_parsed_with_its_usage(
    llm: OpenAILLM, fake: FakeOpenAI
) -> None:
    fake.script.append(Reply(content=json.dumps({"answer": "yes", "cited": [1, 2]})))
    parsed = await llm.complete_structured(
        system="Answer.", user="Question?", output=Answer, schema_name="answer"
    )
    assert parsed.value == Answer(answer="yes", cited=[1, 2])
    assert parsed.usage.prompt_tokens > 0 and parsed.usage.completion_tokens > 0
    sent = fake.chat_requests()[0]
    schema = sent["response_format"]["json_schema"]
    assert sent["response_format"]["type"] == "json_schema" and schema["strict"] is True
    assert schema["schema"]["additionalProperties"] is False
    assert schema["schema"]["required"] == ["answer", "cited"]
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"answer": "yes", "cited": [1', "invalid JSON"),
        ('{"answer": "yes"}', "does not fit the schema"),
        ('{"answer": "yes", "cited": [], "extra": 1}', "does not fit the schema"),
        ("", "empty answer"),
    ],
)
async def test_a_bad_answer_raises_with_the_tokens_it_cost(
    llm: OpenAILLM, fake: FakeOpenAI, content: str, words: str
) -> None:
    fake.script.append(Reply(content=content))
    with pytest.raises(LlmBadAnswer, match=words) as caught:
        await ask(llm)
    assert caught.value.usage.prompt_tokens > 0


async def test_an_answer_cut_off_at_the_length_limit_is_bad(
    llm: OpenAILLM, fake: FakeOpenAI
) -> None:
    fake.script.append(Reply(content='{"answer": "yes", "cited": []}', finish_reason="length"))
    with pytest.raises(LlmBadAnswer, match="cut off"):
        await ask(llm)


async def test_429_waits_exactly_as_long_as_retry_after_says(
    llm: OpenAILLM, fake: FakeOpenAI, sleeps: RecordedSleeps
) -> None:
    fake.script += [
        Status(429, retry_after="7"),
        Status(429, retry_after_ms="250"),
        Reply(content='{"answer": "ok", "cited": []}'),
    ]
    assert (await ask(llm)).answer == "ok"
    assert sleeps.delays == [7.0, 0.25]
    assert len(fake.chat_requests()) == 3


async def test_500_is_retried_with_growing_backoff(
    llm: OpenAILLM, fake: FakeOpenAI, sleeps: RecordedSleeps
) -> None:
    fake.script += [Status(500), Status(503), Reply(content='{"answer": "ok", "cited": []}')]
    assert (await ask(llm)).answer == "ok"
    first, second = sleeps.delays
    assert 0.75 <= first <= 1.0 and 1.5 <= second <= 2.0


async def test_a_server_that_keeps_failing_is_unavailable_in_plain_words(
    llm: OpenAILLM, fake: FakeOpenAI, sleeps: RecordedSleeps
) -> None:
    fake.script += [Status(500)] * 3
    with pytest.raises(LlmUnavailable, match=r"answered with an error \(500\); try again later"):
        await ask(llm)
    assert len(fake.chat_requests()) == 3 and len(sleeps.delays) == 2


async def test_a_retry_after_beyond_the_limit_gives_up_at_once(
    llm: OpenAILLM, fake: FakeOpenAI, sleeps: RecordedSleeps
) -> None:
    fake.script.append(Status(429, retry_after="86400"))
    with pytest.raises(LlmUnavailable, match="rate limiting"):
        await ask(llm)
    assert sleeps.delays == []


async def test_a_hanging_server_times_out_and_is_retried(
    llm: OpenAILLM, fake: FakeOpenAI, sleeps: RecordedSleeps
) -> None:
    fake.script += [Hang(), Reply(content='{"answer": "late", "cited": []}')]
    assert (await ask(llm)).answer == "late"
    assert len(sleeps.delays) == 1


async def test_a_refused_key_and_an_unsupported_request_are_not_retried(
    llm: OpenAILLM, fake: FakeOpenAI, sleeps: RecordedSleeps
) -> None:
    fake.script.append(Status(401))
    with pytest.raises(LlmUnavailable, match="OPENAI_API_KEY"):
        await ask(llm)
    fake.supports_json_schema = False
    with pytest.raises(LlmBadAnswer, match=r"refused by the server \(400\).*json_schema"):
        await ask(llm)
    assert sleeps.delays == []


async def test_tool_calls_come_back_parsed_and_malformed_ones_are_ignored(
    llm: OpenAILLM, fake: FakeOpenAI
) -> None:
    fake.script.append(Reply(tool_calls=[("related", '{"position": 3}'), ("follow", '{"topic": ')]))
    tools = [
        ToolSpec("related", "Related insights", {"type": "object", "properties": {}}),
        ToolSpec("follow", "Follow a topic", {"type": "object", "properties": {}}),
    ]
    result = await llm.chat_with_tools(system="Route.", user="similar stuff to 3", tools=tools)
    assert [(c.name, c.arguments) for c in result.tool_calls] == [("related", {"position": 3})]
    sent = fake.chat_requests()[0]
    assert [t["function"]["name"] for t in sent["tools"]] == ["related", "follow"]


async def test_the_models_are_listed(llm: OpenAILLM) -> None:
    assert await llm.list_models() == ["gpt-4o-mini", "text-embedding-3-small"]
