"""The far side of the LLM port: a scriptable OpenAI-compatible server on 127.0.0.1.

Chat completions answer from a queue of scripted steps (a reply, an HTTP error with
Retry-After, a hang) and, when the queue is empty, from ``responder`` (by default a model that
quotes the transcript it was sent, word for word). Usage is counted as characters / 4.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiohttp import web

from core.llm.mp3 import duration_seconds
from tests.http_server import serve

Json = dict[str, Any]


@dataclass
class Reply:
    content: str | None = None
    tool_calls: list[tuple[str, str]] = field(default_factory=list)  # (name, arguments JSON)
    finish_reason: str = "stop"


@dataclass
class Status:
    status: int
    retry_after: str | None = None
    retry_after_ms: str | None = None
    message: str = "scripted failure"


@dataclass
class Hang:
    """Never answer: the client's timeout must fire."""


@dataclass
class Answer:
    """Answer this request with ``responder``, whichever request it is."""


Step = Reply | Status | Hang | Answer
Responder = Callable[[Json], Reply]


def tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def transcript_of(request: Json) -> str:
    user = next(m["content"] for m in request["messages"] if m["role"] == "user")
    match = re.search(r"<transcript>\n(.*)\n</transcript>", user, re.DOTALL)
    return match.group(1) if match else ""


def limit_of(request: Json) -> int:
    system = next(m["content"] for m in request["messages"] if m["role"] == "system")
    match = re.search(r"at most (\d+) insights", system)
    return int(match.group(1)) if match else 3


_NOT_SUBJECTS = frozenset(
    [
        "their",
        "there",
        "these",
        "those",
        "which",
        "where",
        "while",
        "about",
        "again",
        "maybe",
        "other",
        "hello",
        "thanks",
        "welcome",
        "think",
        "thing",
        "things",
        "really",
        "actually",
        "basically",
        "something",
        "because",
        "would",
        "could",
        "should",
    ]
)


def claim_from(line: str) -> str:
    """A headline shaped like a claim from a line's longer words ("Fargate beats containers
    for pricing"), different for every line, as a model's would be."""
    found = [w.lower() for w in re.findall(r"[A-Za-z]{5,}", line)]
    picked = [w for w in dict.fromkeys(found) if w not in _NOT_SUBJECTS][:3]
    first, second, third = [*picked, "care", "teams", "results"][:3]
    return f"{first.capitalize()} beats {second} for {third}"


def quoting_responder(request: Json) -> Reply:
    """A well-behaved model: up to ``limit`` insights, each quoting a transcript line exactly."""
    lines = [line.split(": ", 1)[-1] for line in transcript_of(request).splitlines()]
    candidates = [line for line in lines if len(line.split()) >= 14]
    limit = limit_of(request)
    step = max(1, len(candidates) // max(1, limit))
    insights: list[Json] = []
    for line in candidates[::step][:limit]:
        words = line.split()
        quote = " ".join(words[2:16])  # cut mid-sentence, as models do: the gate widens it
        insights.append(
            {
                "headline": claim_from(line),
                "body": f"The speaker explains this. {' '.join(words[:12])}.",
                "quote": quote,
                "topics": [words[3].lower().strip(".,?!")],
                "score": 0.5 + (len(insights) % 5) / 10,
            }
        )
    return Reply(content=json.dumps({"insights": insights}))


class FakeOpenAI:
    def __init__(self, models: tuple[str, ...] = ("gpt-4o-mini", "text-embedding-3-small")):
        self.models = list(models)
        self.script: list[Step] = []
        self.responder: Responder = quoting_responder
        self.requests: list[tuple[str, Json]] = []  # (path, body) of every request
        self.embedding_calls = 0
        self.dim = 64
        self.supports_json_schema = True
        self.transcription_text = "Hello from the audio. This part was transcribed."
        self._release = asyncio.Event()
        self.hung = asyncio.Event()  # set when a Hang step starts: a request is being held

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/v1/models", self.models_list)
        app.router.add_get("/v1/models/{model}", self.model_get)
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_post("/v1/embeddings", self.embeddings)
        app.router.add_post("/v1/audio/transcriptions", self.transcriptions)
        app.on_shutdown.append(self._on_shutdown)
        return app

    def chat_requests(self) -> list[Json]:
        return [body for path, body in self.requests if path == "/v1/chat/completions"]

    async def _on_shutdown(self, app: web.Application) -> None:
        self._release.set()

    async def models_list(self, request: web.Request) -> web.Response:
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models]
        return web.json_response({"object": "list", "data": data})

    async def model_get(self, request: web.Request) -> web.Response:
        model = request.match_info["model"]
        if model not in self.models:
            return _error(404, f"The model '{model}' does not exist")
        return web.json_response({"id": model, "object": "model", "created": 0, "owned_by": "x"})

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append((request.path, body))
        step: Step = self.script.pop(0) if self.script else Answer()
        if isinstance(step, Answer):
            step = self.responder(body)
        if isinstance(step, Hang):
            self.hung.set()
            await self._release.wait()
            return _error(500, "released")
        if isinstance(step, Status):
            return _error(step.status, step.message, step.retry_after, step.retry_after_ms)
        if "response_format" in body and not self.supports_json_schema:
            return _error(400, "response_format json_schema is not supported by this model")
        return web.json_response(self._completion(body, step))

    def _completion(self, body: Json, reply: Reply) -> Json:
        sent = "".join(str(m.get("content") or "") for m in body["messages"])
        message: Json = {"role": "assistant", "content": reply.content, "refusal": None}
        if reply.tool_calls:
            message["tool_calls"] = [
                {"id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": a}}
                for i, (n, a) in enumerate(reply.tool_calls)
            ]
        completion = tokens(reply.content or "") + sum(tokens(a) for _, a in reply.tool_calls)
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
            "usage": {
                "prompt_tokens": tokens(sent),
                "completion_tokens": completion,
                "total_tokens": tokens(sent) + completion,
            },
        }

    async def embeddings(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append((request.path, body))
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, Status):
                return _error(step.status, step.message, step.retry_after, step.retry_after_ms)
        self.embedding_calls += 1
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": self.vector(text).tolist()}
            for i, text in enumerate(inputs)
        ]
        used = sum(tokens(t) for t in inputs)
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": used, "total_tokens": used},
            }
        )

    def vector(self, text: str) -> np.ndarray:
        """Hashed bag of words: texts sharing words are close, as real embeddings would be."""
        v = np.zeros(self.dim, dtype=np.float64)
        for word in re.findall(r"\w+", text.lower()):
            v[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        v[0] += 0.01
        return v * 3.0  # deliberately not normalised: the client must normalise

    async def transcriptions(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form["file"]
        data = upload.file.read() if isinstance(upload, web.FileField) else b""
        self.requests.append((request.path, {"model": form.get("model"), "bytes": len(data)}))
        return web.json_response(
            {
                "text": self.transcription_text,
                "language": "english",
                "duration": duration_seconds(data),
                "segments": [
                    {"id": 0, "start": 0.0, "end": 4.0, "text": "Hello from the audio."},
                    {"id": 1, "start": 4.0, "end": 9.5, "text": "This part was transcribed."},
                ],
            }
        )


def _error(
    status: int, message: str, retry_after: str | None = None, retry_after_ms: str | None = None
) -> web.Response:
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    if retry_after_ms is not None:
        headers["Retry-After-Ms"] = retry_after_ms
    body = {"error": {"message": message, "type": "fake_error", "code": str(status)}}
    return web.json_response(body, status=status, headers=headers)


@asynccontextmanager
async def running(fake: FakeOpenAI) -> AsyncIterator[str]:
    """Serve ``fake``; yields the base URL an OpenAI client takes (ending in /v1)."""
    async with serve(fake.app()) as url:
        yield f"{url}/v1"
