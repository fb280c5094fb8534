"""The extraction cache: grounded drafts by (content hash, model), so text is never re-sent."""

from __future__ import annotations

import json
from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import transaction
from core.domain import InsightDraft
from core.models.llm import ExtractionCache
from core.ports import Clock


class ExtractionStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def get(self, content_hash: str, model: str) -> list[InsightDraft] | None:
        async with self._sessions() as session:
            raw = await session.scalar(
                select(ExtractionCache.result_json).where(
                    ExtractionCache.content_hash == content_hash, ExtractionCache.model == model
                )
            )
        if raw is None:
            return None
        return [InsightDraft(**item) for item in json.loads(raw)]

    async def put(self, content_hash: str, model: str, drafts: list[InsightDraft]) -> None:
        payload = json.dumps([asdict(d) for d in drafts])
        try:
            async with transaction(self._sessions) as session:
                session.add(
                    ExtractionCache(
                        content_hash=content_hash,
                        model=model,
                        result_json=payload,
                        created_at=self._clock.now(),
                    )
                )
        except IntegrityError:
            pass  # another worker stored the same text's result first: equal by construction
