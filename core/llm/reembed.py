"""Re-embedding after an embedding model change: vector spaces are never mixed.

Insights without a vector under the current embedder's name get one; the related-insight edges
are then rebuilt from the current model's vectors alone.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import transaction
from core.embeddings.lsa import LsaNotFitted
from core.insights.related import RelatedConfig, link_new_insights
from core.models.insights import Insight, InsightEmbedding, RelatedEdge
from core.ports import Embedder
from core.search.vectors import VectorLibrary


async def missing_embeddings(sessions: async_sessionmaker[AsyncSession], model: str) -> list[int]:
    has = select(InsightEmbedding.insight_id).where(InsightEmbedding.model == model)
    async with sessions() as session:
        rows = await session.execute(
            select(Insight.id).where(Insight.id.not_in(has)).order_by(Insight.id)
        )
        return list(rows.scalars())


async def reembed_insights(
    sessions: async_sessionmaker[AsyncSession],
    embedder: Embedder,
    *,
    batch: int = 256,
    related_config: RelatedConfig | None = None,
    library: VectorLibrary | None = None,
) -> int:
    """Embed every insight the current model has no vector for; returns how many. The edges
    are rebuilt through the vector ``library`` of the new model when given (each batch reads
    its neighbours, not the whole library)."""
    model = embedder.name
    ids = await missing_embeddings(sessions, model)
    for start in range(0, len(ids), batch):
        await _embed_batch(sessions, embedder, ids[start : start + batch])
    if ids:
        await _relink(sessions, model, batch, related_config, library)
    return len(ids)


async def reembed_after_model_change(
    sessions: async_sessionmaker[AsyncSession],
    embedder: Embedder,
    library: VectorLibrary | None = None,
) -> int:
    """``reembed_insights``, unless the embedder cannot name its vector space yet (an LSA
    embedder not fitted: it has embedded nothing, so there is nothing to compare with)."""
    try:
        model = embedder.name
    except LsaNotFitted:
        return 0
    if not await missing_embeddings(sessions, model):
        return 0  # the usual case: one cheap query
    return await reembed_insights(sessions, embedder, library=library)


async def _embed_batch(
    sessions: async_sessionmaker[AsyncSession], embedder: Embedder, ids: list[int]
) -> None:
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Insight.id, Insight.headline, Insight.body).where(Insight.id.in_(ids))
            )
        ).all()
    vectors = await embedder.embed([f"{headline}. {body}" for _, headline, body in rows])
    try:
        async with transaction(sessions) as session:
            session.add_all(
                InsightEmbedding(
                    insight_id=row[0], model=embedder.name, dim=int(v.shape[0]), vector=v.tobytes()
                )
                for row, v in zip(rows, vectors, strict=True)
            )
    except IntegrityError:
        # Another process re-embedded this batch first, or an insight was deleted meanwhile:
        # whatever is still missing is found and embedded by the next run.
        return


async def _relink(
    sessions: async_sessionmaker[AsyncSession],
    model: str,
    batch: int,
    config: RelatedConfig | None,
    library: VectorLibrary | None,
) -> None:
    async with transaction(sessions) as session:
        await session.execute(delete(RelatedEdge))
        await session.execute(update(Insight).values(group_id=None))
        ids = list(
            (
                await session.execute(
                    select(InsightEmbedding.insight_id)
                    .where(InsightEmbedding.model == model)
                    .order_by(InsightEmbedding.insight_id)
                )
            ).scalars()
        )
        for start in range(0, len(ids), batch):
            await link_new_insights(
                session, ids[start : start + batch], model, config, library=library
            )
