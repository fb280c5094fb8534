"""The ports: what core needs from the outside world. Adapters implement them; tests fake them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeVar, runtime_checkable

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from core.chat.types import ChatRef, IncomingMessage, Reply
from core.domain import EpisodeInfo, FetchResult, InsightDraft, SegmentData
from core.llm.types import ChatResult, Parsed, ToolSpec, Transcription

Vectors = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]
T = TypeVar("T", bound=BaseModel)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware in UTC."""
        ...


class Timer(Protocol):
    """Monotonic seconds and a way to wait (send pacing); tests pass a fake that moves time by
    hand."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


@runtime_checkable
class Fetcher(Protocol):
    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
        untrusted: bool = False,
    ) -> FetchResult:
        """GET a URL (http(s), file:// or a local path).

        ``untrusted`` marks a URL a chat user typed: it must not reach the host's own network.
        Raises ``core.domain.FetchError`` with a plain-words message on any failure.
        """
        ...


class Embedder(Protocol):
    @property
    def name(self) -> str:
        """Identifies the vector space; vectors of different names are never compared."""
        ...

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised float32 row per text."""
        ...


class InsightExtractor(Protocol):
    @property
    def name(self) -> str: ...

    async def extract(
        self, episode: EpisodeInfo, segments: Sequence[SegmentData]
    ) -> list[InsightDraft]:
        """Grounded insights of one episode: every quote verbatim from ``segments``."""
        ...


class Messenger(Protocol):
    """Sends a neutral reply to a chat on one platform (used for scheduled delivery)."""

    @property
    def platform(self) -> str: ...

    async def send(self, chat: ChatRef, reply: Reply) -> list[str]:
        """Returns the platform's ids of the messages sent."""
        ...


class VectorIndex(Protocol):
    """Nearest neighbours by cosine over L2-normalised vectors, keyed by insight id.

    A cache of the database's ``insight_embeddings`` rows: it may be rebuilt at any time."""

    @property
    def dim(self) -> int: ...

    def __len__(self) -> int: ...

    def add(self, ids: Ids, vectors: Vectors) -> None:
        """Add rows; an id already present is replaced."""
        ...

    def search(self, queries: Vectors, k: int) -> tuple[Ids, Vectors]:
        """(len(queries), k) ids, best first (-1 where there are fewer), and their cosines."""
        ...

    def vectors(self, ids: Ids) -> tuple[Ids, Vectors]:
        """The index's copies of the vectors of those of ``ids`` present: (the ids found, in
        the order asked, their vectors as float32). A copy may be rounded to the index's
        precision."""
        ...

    def save(self, path: Path) -> None:
        """Write the whole index to ``path`` (the caller renames it into place)."""
        ...


class VectorIndexFactory(Protocol):
    @property
    def kind(self) -> str:
        """Names the file format: an index of another kind is rebuilt, not loaded."""
        ...

    def create(self, dim: int) -> VectorIndex: ...

    def load(self, path: Path, dim: int) -> VectorIndex:
        """Raises OSError or ValueError when the file cannot be read as an index."""


class ChatEngine(Protocol):
    """The conversation engine every chat adapter drives (``core.chat.engine``)."""

    async def handle(self, message: IncomingMessage) -> Reply:
        """The reply to one incoming message; never raises for what a person typed."""
        ...

    def commands(self) -> list[tuple[str, str]]:
        """(command, description) pairs a platform may list in its command menu."""
        ...


class LLM(Protocol):
    @property
    def model(self) -> str:
        """The chat model's name, as sent to the server (and stored with every call)."""
        ...

    async def complete_structured(
        self, *, system: str, user: str, output: type[T], schema_name: str
    ) -> Parsed[T]:
        """One completion constrained to ``output``'s JSON schema, parsed and validated.

        Raises ``LlmBadAnswer`` (with the usage spent) when the answer does not fit the schema,
        ``LlmUnavailable`` when the server keeps failing.
        """
        ...

    async def chat_with_tools(
        self, *, system: str, user: str, tools: Sequence[ToolSpec]
    ) -> ChatResult:
        """One chat turn in which the model may call any of ``tools`` instead of answering."""
        ...


class Transcriber(Protocol):
    @property
    def model(self) -> str: ...

    async def transcribe(
        self, audio: bytes, filename: str, content_type: str | None
    ) -> Transcription:
        """Raises LlmError in plain words; splits audio above the endpoint's limit itself."""
        ...
