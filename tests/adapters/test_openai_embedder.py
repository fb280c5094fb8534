"""OpenAIEmbedder over HTTP: batching, normalising, naming, spend; re-embedding on a change."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest
from sqlalchemy import select

from adapters.openai_embedder import OpenAIEmbedder, UsageSink
from adapters.openai_retry import RetryPolicy
from core.db import Sessions
from core.llm.budget import LlmBudget
from core.llm.reembed import missing_embeddings, reembed_insights
from core.llm.types import LlmUnavailable, Usage
from core.models import InsightEmbedding, LlmCall
from tests.fakes.clock import FakeClock
from tests.fakes.openai_server import FakeOpenAI, Status, running
from tests.fakes.sleeps import RecordedSleeps


@pytest.fixture
def fake() -> FakeOpenAI:
    return FakeOpenAI()


@pytest.fixture
async def base_url(fake: FakeOpenAI) -> AsyncIterator[str]:
    async with running(fake) as url:
        yield url


def embedder_for(
    base_url: str,
    model: str = "text-embedding-3-small",
    batch_size: int = 128,
    on_usage: UsageSink | None = None,
) -> OpenAIEmbedder:
    return OpenAIEmbedder(
        api_key="sk-test",
        base_url=base_url,
        model=model,
        batch_size=batch_size,
        on_usage=on_usage,
        retry=RetryPolicy(attempts=2, sleep=RecordedSleeps()),
    )


async def test_texts_are_embedded_in_batches_normalised_and_in_order(
    fake: FakeOpenAI, base_url: str
) -> None:
    embedder = embedder_for(base_url, batch_size=2)
    texts = ["pricing and churn", "kubernetes clusters", "", "pricing and churn", "rust"]
    vectors = await embedder.embed(texts)
    await embedder.aclose()
    assert fake.embedding_calls == 3 and vectors.shape == (5, fake.dim)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], vectors[3]) and not np.allclose(vectors[0], vectors[1])
    assert embedder.name == "openai:text-embedding-3-small"
    sent = [body["input"] for path, body in fake.requests if path == "/v1/embeddings"]
    assert sent == [texts[0:2], [".", "pricing and churn"], ["rust"]]  # no empty input sent


async def test_spend_of_each_call_is_reported(fake: FakeOpenAI, base_url: str) -> None:
    seen: list[tuple[str, Usage]] = []

    async def sink(model: str, usage: Usage) -> None:
        seen.append((model, usage))

    embedder = embedder_for(base_url, on_usage=sink)
    await embedder.embed(["one text", "another text"])
    await embedder.aclose()
    assert len(seen) == 1 and seen[0][0] == "text-embedding-3-small"
    assert seen[0][1].prompt_tokens > 0


async def test_a_server_that_keeps_throttling_is_unavailable(
    fake: FakeOpenAI, base_url: str
) -> None:
    fake.script += [Status(429, retry_after="1"), Status(429, retry_after="1")]
    embedder = embedder_for(base_url)
    with pytest.raises(LlmUnavailable, match="rate limiting"):
        await embedder.embed(["x y z"])
    await embedder.aclose()


async def test_changing_the_model_re_embeds_instead_of_mixing_vector_spaces(
    sessions: Sessions, clock: FakeClock, fake: FakeOpenAI, base_url: str
) -> None:
    from tests.integration.test_related import add_insights, anchor, make_episode, vector

    where = await make_episode(sessions, "show", "ep")
    ids = await add_insights(sessions, where, [anchor(), vector(0.9, 1), vector(0.2, 2)])
    budget = LlmBudget(sessions, clock)

    async def record(model: str, usage: Usage) -> None:
        await budget.record(purpose="embed", model=model, usage=usage)

    new = embedder_for(base_url, model="text-embedding-3-large", on_usage=record)
    assert await missing_embeddings(sessions, new.name) == ids
    assert await reembed_insights(sessions, new) == 3
    assert await reembed_insights(sessions, new) == 0  # nothing left to do
    await new.aclose()
    async with sessions() as session:
        rows = (await session.execute(select(InsightEmbedding))).scalars().all()
        calls = (await session.execute(select(LlmCall))).scalars().all()
    by_model: dict[str, set[int]] = {}
    for row in rows:
        by_model.setdefault(row.model, set()).add(row.insight_id)
    assert by_model["openai:text-embedding-3-large"] == set(ids)
    assert all(len(v) == 3 for v in by_model.values())  # the old space is kept whole, apart
    assert [(c.purpose, c.model) for c in calls] == [("embed", "text-embedding-3-large")]
