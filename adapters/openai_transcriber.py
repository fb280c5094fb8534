"""``OpenAITranscriber``: the Transcriber port over the audio transcription endpoint.

Audio above the endpoint's upload limit (25 MB) is split between MP3 frames; each part's
segment times are shifted by where the part starts. Off unless ``transcription_enabled``.
"""

from __future__ import annotations

import openai

from adapters.openai_llm import make_client
from adapters.openai_retry import RetryPolicy, with_retries
from core.domain import SegmentData
from core.llm.mp3 import NotMp3, split
from core.llm.types import LlmBadAnswer, Transcription

UPLOAD_LIMIT = 24 * 1024 * 1024  # below the endpoint's 25 MB, leaving room for the form


class OpenAITranscriber:
    def __init__(
        self,
        *,
        api_key: str,
        model: str = "whisper-1",
        base_url: str | None = None,
        upload_limit: int = UPLOAD_LIMIT,
        timeout: float = 600.0,
        retry: RetryPolicy | None = None,
        client: openai.AsyncOpenAI | None = None,
    ) -> None:
        self._client = client or make_client(api_key, base_url, timeout)
        self._model = model
        self._limit = upload_limit
        self._retry = retry or RetryPolicy()

    @property
    def model(self) -> str:
        return self._model

    async def aclose(self) -> None:
        await self._client.close()

    async def transcribe(
        self, audio: bytes, filename: str, content_type: str | None
    ) -> Transcription:
        if len(audio) <= self._limit:
            parts = [(audio, 0.0)]
        else:
            try:
                parts = split(audio, self._limit)
            except NotMp3:
                raise LlmBadAnswer(
                    f"the audio is {len(audio) // 1_000_000} MB and not MP3, so it cannot be "
                    "split below the upload limit"
                ) from None
        segments: list[SegmentData] = []
        seconds = 0.0
        for n, (data, offset) in enumerate(parts):
            part_segments, part_seconds = await self._part(data, f"{n}-{filename}", content_type)
            segments += [
                SegmentData(s.start + offset, s.end + offset, s.text, s.speaker)
                for s in part_segments
            ]
            seconds += part_seconds
        return Transcription(segments=segments, seconds=seconds)

    async def _part(
        self, data: bytes, name: str, content_type: str | None
    ) -> tuple[list[SegmentData], float]:
        response = await with_retries(
            self._retry,
            lambda: self._client.audio.transcriptions.create(
                model=self._model,
                file=(name, data, content_type or "audio/mpeg"),
                response_format="verbose_json",
                timestamp_granularities=["segment"],
            ),
            "transcription",
        )
        found = [
            SegmentData(float(s.start), float(s.end), " ".join(s.text.split()))
            for s in response.segments or []
            if s.text.strip()
        ]
        if not found and response.text.strip():
            found = [SegmentData(0.0, float(response.duration), response.text.strip())]
        return found, float(response.duration)
