"""Search over stored insights: the entry point the chat, the LLM's retrieval and the web page
call. The work is done in ``core/search`` (query syntax, full-text index per database, fusion
with embedding neighbours, the vector index)."""

from __future__ import annotations

from core.db import Sessions
from core.ports import Embedder
from core.search.query import parse_query
from core.search.service import SearchResult, search
from core.search.vectors import VectorLibrary

__all__ = ["SearchResult", "query_terms", "search_insights"]


def query_terms(query: str) -> list[str]:
    """The plain words of a query (no stop words, phrases or filters)."""
    parsed = parse_query(query)
    return [*parsed.terms, *(w for p in parsed.phrases for w in p)]


async def search_insights(
    sessions: Sessions,
    embedder: Embedder | None,
    query: str,
    *,
    limit: int = 5,
    library: VectorLibrary | None = None,
) -> SearchResult:
    """Insights for a query in the search syntax ("exact phrase", -word, show:NAME, topic:X,
    after:2026-01-01, before:...), best first. A query that cannot be run comes back with
    ``problem`` set to a plain-words answer, never an exception."""
    return await search(sessions, embedder, query, limit=limit, library=library)
