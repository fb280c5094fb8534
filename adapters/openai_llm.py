"""``OpenAILLM``: the LLM port over the official ``openai`` client.

Works with OpenAI and any OpenAI-compatible server (Ollama, vLLM, LM Studio, Azure OpenAI's
/openai/v1 endpoint) through ``base_url``. The SDK's own retries are off (``max_retries=0``):
``adapters/openai_retry.py`` retries instead, honouring Retry-After, so waits are testable.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

from adapters.openai_retry import RetryPolicy, with_retries
from core.llm.chunking import estimate_tokens
from core.llm.types import (
    ChatResult,
    LlmBadAnswer,
    Parsed,
    T,
    ToolCall,
    ToolSpec,
    Usage,
    parse_structured,
    strict_schema,
)

R = TypeVar("R")


def make_client(api_key: str, base_url: str | None, timeout: float) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)


class OpenAILLM:
    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout: float = 120.0,
        concurrency: int = 4,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._client = make_client(api_key, base_url, timeout)
        self._model = model
        self._retry = retry or RetryPolicy()
        self._slots = asyncio.Semaphore(concurrency)

    @property
    def model(self) -> str:
        return self._model

    @property
    def client(self) -> openai.AsyncOpenAI:
        return self._client

    async def aclose(self) -> None:
        await self._client.close()

    async def complete_structured(
        self, *, system: str, user: str, output: type[T], schema_name: str
    ) -> Parsed[T]:
        messages = _messages(system, user)
        response = await self._call(
            lambda: self._client.chat.completions.create(
                model=self._model,
                messages=messages,
                response_format={
                    "type": "json_schema",
                    "json_schema": {
                        "name": schema_name,
                        "schema": strict_schema(output),
                        "strict": True,
                    },
                },
            ),
            "the structured completion",
        )
        usage = _usage(response, system + user)
        choice = _first_choice(response, usage)
        if choice.message.refusal:
            raise LlmBadAnswer(f"the model refused: {choice.message.refusal[:200]}", usage)
        if choice.finish_reason == "length":
            raise LlmBadAnswer("the model's answer was cut off at its length limit", usage)
        value = parse_structured(choice.message.content, output, usage)
        return Parsed(value=value, usage=usage, model=response.model or self._model)

    async def chat_with_tools(
        self, *, system: str, user: str, tools: Sequence[ToolSpec]
    ) -> ChatResult:
        messages = _messages(system, user)
        response = await self._call(
            lambda: self._client.chat.completions.create(
                model=self._model,
                messages=messages,
                tools=[
                    {
                        "type": "function",
                        "function": {
                            "name": t.name,
                            "description": t.description,
                            "parameters": t.parameters,
                        },
                    }
                    for t in tools
                ],
            ),
            "the chat completion",
        )
        usage = _usage(response, system + user)
        choice = _first_choice(response, usage)
        calls = [_tool_call(c) for c in choice.message.tool_calls or []]
        return ChatResult(
            text=choice.message.content or "",
            tool_calls=[c for c in calls if c is not None],
            usage=usage,
            model=response.model or self._model,
        )

    async def list_models(self) -> list[str]:
        async def listing() -> list[str]:
            return [m.id async for m in self._client.models.list()]

        return await self._call(listing, "listing the models")

    async def _call(self, make: Callable[[], Awaitable[R]], what: str) -> R:
        async def limited() -> R:
            async with self._slots:
                return await make()

        return await with_retries(self._retry, limited, what)


def _messages(system: str, user: str) -> list[ChatCompletionMessageParam]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _usage(response: ChatCompletion, sent: str) -> Usage:
    if response.usage is not None:
        return Usage(response.usage.prompt_tokens, response.usage.completion_tokens)
    # Some compatible servers report no usage: estimate, so the budget still holds.
    answer = "".join(c.message.content or "" for c in response.choices)
    return Usage(estimate_tokens(sent), estimate_tokens(answer))


def _first_choice(response: ChatCompletion, usage: Usage) -> Any:
    if not response.choices:
        raise LlmBadAnswer("the server returned no answer at all", usage)
    return response.choices[0]


def _tool_call(call: Any) -> ToolCall | None:
    if getattr(call, "type", "function") != "function":
        return None
    try:
        arguments = json.loads(call.function.arguments or "{}")
    except ValueError:
        return None  # malformed arguments: as if the model had not called it
    if not isinstance(arguments, dict):
        return None
    return ToolCall(name=call.function.name, arguments=arguments)
