"""``OpenAIEmbedder``: the Embedder port over the embeddings endpoint, batched.

Its name is ``openai:<model>``: vectors of another model are another space and never compared
(``core.llm.reembed`` re-embeds stored insights when the model changes).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import numpy as np
import openai

from adapters.openai_llm import make_client
from adapters.openai_retry import RetryPolicy, with_retries
from core.llm.types import LlmBadAnswer, Usage
from core.ports import Vectors

UsageSink = Callable[[str, Usage], Awaitable[None]]  # (model, usage) of each call


class OpenAIEmbedder:
    def __init__(
        self,
        *,
        api_key: str,
        model: str = "text-embedding-3-small",
        base_url: str | None = None,
        batch_size: int = 128,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        on_usage: UsageSink | None = None,
        client: openai.AsyncOpenAI | None = None,
    ) -> None:
        self._client = client or make_client(api_key, base_url, timeout)
        self._model = model
        self._batch = max(1, batch_size)
        self._retry = retry or RetryPolicy()
        self._on_usage = on_usage

    @property
    def name(self) -> str:
        return f"openai:{self._model}"

    async def aclose(self) -> None:
        await self._client.close()

    async def embed(self, texts: Sequence[str]) -> Vectors:
        rows: list[Vectors] = []
        for start in range(0, len(texts), self._batch):
            rows.append(await self._embed_batch(list(texts[start : start + self._batch])))
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack(rows)

    async def _embed_batch(self, texts: list[str]) -> Vectors:
        # The endpoint rejects empty strings; a blank text gets a blank-ish vector instead.
        inputs = [" ".join(t.split()) or "." for t in texts]
        response = await with_retries(
            self._retry,
            lambda: self._client.embeddings.create(
                model=self._model, input=inputs, encoding_format="float"
            ),
            "embedding",
        )
        if self._on_usage is not None and response.usage is not None:
            await self._on_usage(self._model, Usage(response.usage.prompt_tokens, 0))
        by_index = sorted(response.data, key=lambda d: d.index)
        if len(by_index) != len(inputs):
            raise LlmBadAnswer(
                f"the embeddings endpoint returned {len(by_index)} vectors for {len(inputs)} texts"
            )
        matrix = np.asarray([d.embedding for d in by_index], dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        normalised: Vectors = (matrix / norms).astype(np.float32, copy=False)
        return normalised
