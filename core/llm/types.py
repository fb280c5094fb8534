"""What the LLM port (``core.ports.LLM``) speaks: structured output, tool calls, token usage.

Adapters (``adapters/openai_llm.py``) implement the port; core never sees an SDK type. Every failure
surfaces as one of the exception types below, worded for a person.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from core.domain import SegmentData, TryLater

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class Parsed(Generic[T]):
    """A structured answer, validated against its pydantic model."""

    value: T
    usage: Usage
    model: str


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments


@dataclass(frozen=True, slots=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChatResult:
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    model: str = ""


class LlmError(Exception):
    """Base of every LLM failure; the message is plain words."""


class LlmUnavailable(LlmError, TryLater):
    """The server could not be reached or kept failing (after retries): try again later."""


class LlmBadAnswer(LlmError):
    """The model answered, but not in the shape asked for (invalid JSON, schema violation)."""

    def __init__(self, message: str, usage: Usage | None = None) -> None:
        super().__init__(message)
        self.usage = usage or Usage()


class BudgetExhausted(LlmError, TryLater):
    """Today's token or cost budget is spent; work resumes the next day."""


DEFERRED_PREFIX = "deferred: "


class ExtractionDeferred(LlmError, TryLater):
    """An episode could not be extracted now (budget spent, server unavailable): it is not a
    failure of the episode; the insight service leaves it pending and stops the run."""

    def __init__(self, cause: LlmError) -> None:
        super().__init__(DEFERRED_PREFIX + str(cause))
        self.cause = cause


def parse_structured(content: str | None, output: type[T], usage: Usage) -> T:
    """Validate a model's JSON answer; a bad one raises ``LlmBadAnswer`` carrying the usage."""
    if not content or not content.strip():
        raise LlmBadAnswer("the model returned an empty answer", usage)
    try:
        return output.model_validate_json(content)
    except ValidationError as exc:
        kind = "invalid JSON" if _is_json_error(content) else "JSON that does not fit the schema"
        raise LlmBadAnswer(f"the model returned {kind}: {exc.errors()[0]['msg']}", usage) from exc


def _is_json_error(content: str) -> bool:
    try:
        json.loads(content)
    except ValueError:
        return True
    return False


def strict_schema(output: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema in the form strict structured output accepts.

    Strict mode wants every property required and no additional properties, at every level.
    """
    schema = output.model_json_schema()
    _tighten(schema)
    for definition in schema.get("$defs", {}).values():
        _tighten(definition)
    return schema


def _tighten(node: dict[str, Any]) -> None:
    if node.get("type") == "object" and "properties" in node:
        node["additionalProperties"] = False
        node["required"] = list(node["properties"])
        for prop in node["properties"].values():
            prop.pop("default", None)
            prop.pop("title", None)
            if isinstance(prop.get("items"), dict):
                _tighten(prop["items"])
            _tighten(prop)
    node.pop("title", None)


@dataclass(frozen=True, slots=True)
class Transcription:
    segments: list[SegmentData]
    seconds: float  # audio transcribed (what is paid for)
