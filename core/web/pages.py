"""What each public page shows, read from the database as plain dataclasses.

Every page is one or two indexed queries (an insight page is one: the insight and its
precomputed related insights, each with its episode and show, by primary key), selected as
columns rather than ORM objects because a page only reads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Select, bindparam, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncEngine

from core.chat.search import search_insights
from core.db import inline_reads, session_factory
from core.models import Episode, Feed, Insight, InsightTopic, RelatedEdge
from core.ports import Clock, Embedder
from core.web.urls import topic_from_slug

MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL; a bigger one cannot exist
RELATED_ON_PAGE = 6
HOME_SIZE = 10
HOME_PER_SHOW = 2  # "across all shows": one loud show does not fill the page
TOPIC_SIZE = 20
TOPIC_POOL = 300  # newest insights on a topic, of which the best are shown
SHOW_EPISODES = 10
PER_EPISODE_ON_SHOW = 3
SEARCH_SIZE = 20
SITEMAP_MAX_URLS = 50_000  # the sitemap protocol's limit per file
AUDIO_SUFFIXES = (".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wav", ".flac")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"'(])")


@dataclass(frozen=True, slots=True)
class InsightSummary:
    """An insight as a list item: enough for a headline link with its show and episode."""

    id: int
    headline: str
    body: str
    score: float
    show_id: int
    show_title: str
    episode_id: int
    episode_title: str
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class InsightDetail:
    summary: InsightSummary
    quote: str
    speaker: str | None
    start_seconds: float
    end_seconds: float | None
    topics: tuple[str, ...]
    moment_url: str | None  # the episode's page at the quote's second
    audio_url: str | None  # the enclosure at the quote's second (a media fragment)
    audio_type: str | None
    created_at: datetime
    related: tuple[InsightSummary, ...]  # other shows first


@dataclass(frozen=True, slots=True)
class EpisodeDetail:
    id: int
    title: str
    show_id: int
    show_title: str
    published_at: datetime | None
    link: str | None
    description: str | None
    insights: tuple[InsightSummary, ...]


@dataclass(frozen=True, slots=True)
class ShowDetail:
    id: int
    title: str
    description: str | None
    link: str | None
    episodes: tuple[EpisodeDetail, ...]  # newest first, each with its best insights


@dataclass(frozen=True, slots=True)
class TopicDetail:
    topic: str
    insights: tuple[InsightSummary, ...]


@dataclass(frozen=True, slots=True)
class SearchDetail:
    query: str
    exact: bool  # False: nothing had the words; these are only close in meaning
    insights: tuple[InsightSummary, ...]


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    kind: str  # home | show | episode | topic | insight
    key: str  # the id, or the topic
    modified: datetime | None


def parse_id(raw: str) -> int | None:
    """A page id from the URL: a positive 32-bit integer, else None (the page is not found)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def first_sentence(text: str, limit: int = 200) -> str:
    """The first sentence (for link previews), cut at a word when it is long."""
    text = " ".join(text.split())
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0] if text else ""
    if len(sentence) <= limit:
        return sentence
    return sentence[: limit - 1].rsplit(" ", 1)[0] + "…"


def safe_link(url: str | None) -> str | None:
    """Only http(s) links from feeds are shown: a feed may carry ``javascript:`` or worse."""
    if url and url.strip().lower().startswith(("https://", "http://")):
        return url.strip()
    return None


def moment_link(url: str | None, seconds: float) -> str | None:
    link = safe_link(url)
    return f"{link.split('#')[0]}#t={int(seconds)}" if link else None


def is_audio(url: str | None, mime_type: str | None) -> bool:
    if not safe_link(url):
        return False
    if mime_type:
        return mime_type.lower().startswith("audio/")
    path = (url or "").split("?")[0].split("#")[0].lower()
    return path.endswith(AUDIO_SUFFIXES)


_SUMMARY_COLUMNS = (
    Insight.id,
    Insight.headline,
    Insight.body,
    Insight.score,
    Insight.feed_id,
    Feed.title,
    Insight.episode_id,
    Episode.title,
    Episode.published_at,
)


def _summaries() -> Select[int, str, str, float, int, str | None, int, str, datetime | None]:
    return (
        select(*_SUMMARY_COLUMNS)
        .join(Episode, Episode.id == Insight.episode_id)
        .join(Feed, Feed.id == Insight.feed_id)
    )


def _summary(row: Sequence[Any]) -> InsightSummary:
    return InsightSummary(
        id=row[0],
        headline=row[1],
        body=row[2],
        score=row[3] or 0.0,
        show_id=row[4],
        show_title=row[5] or "Untitled show",
        episode_id=row[6],
        episode_title=row[7],
        published_at=row[8],
    )


def _insight_page_query() -> Select[Any]:
    """One query for an insight page: the insight (rank 0) and its precomputed related insights
    (rank 1..), each joined to its episode and show by primary key."""
    wanted_id = bindparam("insight_id", type_=Integer)
    related_ids = (
        select(RelatedEdge.related_id.label("id"), RelatedEdge.rank.label("rank"))
        .where(RelatedEdge.insight_id == wanted_id)
        .order_by(RelatedEdge.rank)
        .limit(RELATED_ON_PAGE * 2)
        .subquery()
    )
    wanted = union_all(
        select(wanted_id.label("id"), literal(0).label("rank")),
        select(related_ids.c.id, related_ids.c.rank),
    ).subquery()
    return (
        select(*_SUMMARY_COLUMNS)
        .add_columns(
            Insight.quote,
            Insight.speaker,
            Insight.start_seconds,
            Insight.end_seconds,
            Insight.topics,
            Insight.created_at,
            Episode.link,
            Episode.enclosure_url,
            Episode.enclosure_type,
            wanted.c.rank,
        )
        .select_from(wanted)
        .join(Insight, Insight.id == wanted.c.id)
        .join(Episode, Episode.id == Insight.episode_id)
        .join(Feed, Feed.id == Insight.feed_id)
        .order_by(wanted.c.rank)
    )


def other_shows_first(
    show_id: int, related: Sequence[InsightSummary]
) -> tuple[InsightSummary, ...]:
    """Related insights from other shows, then the same show's; each group keeps its rank."""
    others = [r for r in related if r.show_id != show_id]
    same = [r for r in related if r.show_id == show_id]
    return tuple(others + same)


def best_per_show(
    summaries: Sequence[InsightSummary], size: int, per_show: int
) -> list[InsightSummary]:
    """The highest scored, at most ``per_show`` from any one show."""
    taken: dict[int, int] = {}
    out: list[InsightSummary] = []
    for item in sorted(summaries, key=lambda s: -s.score):
        if taken.get(item.show_id, 0) >= per_show:
            continue
        taken[item.show_id] = taken.get(item.show_id, 0) + 1
        out.append(item)
        if len(out) == size:
            break
    return out


class WebPages:
    """The queries behind the public pages."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        *,
        embedder: Embedder | None = None,
    ) -> None:
        # Pages only read: plain connections, not ORM sessions, which cost twice as much per
        # request (the chat's search still gets its sessions).
        self.engine, self.clock, self.embedder = engine, clock, embedder
        self.sessions = session_factory(engine)
        self.reads = inline_reads(self.sessions)

    async def insight(self, insight_id: int) -> InsightDetail | None:
        """Read afresh every time (no cache here, so a page never shows old data; the web
        adapter keeps rendered pages and reuses one only while its data is equal)."""
        # Built and compiled once; on SQLite run on the loop (an indexed read of seven rows costs
        # less than one hand-off to aiosqlite's thread, and a page made five: see InlineReads).
        rows = await self.reads.rows(_insight_page_query, {"insight_id": insight_id})
        if not rows or rows[0][-1] != 0:
            return None
        row = rows[0]
        summary = _summary(row)
        quote, speaker, start, end, topics, created, link, enclosure, enclosure_type = row[9:18]
        audio = is_audio(enclosure, enclosure_type)
        related = [_summary(r) for r in rows[1:]]
        return InsightDetail(
            summary=summary,
            quote=quote,
            speaker=speaker,
            start_seconds=start,
            end_seconds=end,
            topics=tuple(topics or ()),
            moment_url=moment_link(link or enclosure, start),
            audio_url=moment_link(enclosure, start) if audio else None,
            audio_type=(enclosure_type or None) if audio else None,
            created_at=created,
            related=other_shows_first(summary.show_id, related)[:RELATED_ON_PAGE],
        )

    async def episode(self, episode_id: int) -> EpisodeDetail | None:
        head = (
            select(
                Episode.id, Episode.title, Feed.id, Feed.title, Episode.published_at,
                Episode.link, Episode.description,
            )
            .join(Feed, Feed.id == Episode.feed_id)
            .where(Episode.id == episode_id)
        )  # fmt: skip
        items = _summaries().where(Insight.episode_id == episode_id).order_by(Insight.start_seconds)
        async with self.engine.connect() as conn:
            row = (await conn.execute(head)).first()
            if row is None:
                return None
            insights = [_summary(r) for r in (await conn.execute(items)).all()]
        return EpisodeDetail(
            id=row[0],
            title=row[1],
            show_id=row[2],
            show_title=row[3] or "Untitled show",
            published_at=row[4],
            link=safe_link(row[5]),
            description=row[6],
            insights=tuple(insights),
        )

    async def show(self, feed_id: int) -> ShowDetail | None:
        episodes = (
            select(Episode.id, Episode.title, Episode.published_at, Episode.link)
            .where(Episode.feed_id == feed_id, Episode.insight_status == "done")
            .order_by(Episode.published_at.desc().nulls_last(), Episode.id.desc())
            .limit(SHOW_EPISODES)
        )
        async with self.engine.connect() as conn:
            feed = (
                await conn.execute(
                    select(Feed.id, Feed.title, Feed.description, Feed.link).where(
                        Feed.id == feed_id
                    )
                )
            ).first()
            if feed is None:
                return None
            episode_rows = (await conn.execute(episodes)).all()
            ids = [r[0] for r in episode_rows]
            insight_rows = (
                (await conn.execute(_summaries().where(Insight.episode_id.in_(ids)))).all()
                if ids
                else []
            )
        by_episode: dict[int, list[InsightSummary]] = {}
        for r in insight_rows:
            item = _summary(r)
            by_episode.setdefault(item.episode_id, []).append(item)
        title = feed[1] or "Untitled show"
        return ShowDetail(
            id=feed[0],
            title=title,
            description=feed[2],
            link=safe_link(feed[3]),
            episodes=tuple(
                EpisodeDetail(
                    id=ep_id, title=ep_title, show_id=feed[0], show_title=title,
                    published_at=published, link=safe_link(link), description=None,
                    insights=tuple(
                        sorted(by_episode.get(ep_id, []), key=lambda s: -s.score)[
                            :PER_EPISODE_ON_SHOW
                        ]
                    ),
                )
                for ep_id, ep_title, published, link in episode_rows
            ),
        )  # fmt: skip

    async def topic(self, slug: str) -> TopicDetail | None:
        topic = topic_from_slug(slug)
        if not topic or len(topic) > 100:
            return None
        newest = (
            _summaries()
            .join(InsightTopic, InsightTopic.insight_id == Insight.id)
            .where(InsightTopic.topic == topic)
            .order_by(Insight.created_at.desc())
            .limit(TOPIC_POOL)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(newest)).all()
        if not rows:
            return None
        best = sorted((_summary(r) for r in rows), key=lambda s: -s.score)[:TOPIC_SIZE]
        return TopicDetail(topic=topic, insights=tuple(best))

    async def home(self) -> list[InsightSummary]:
        """Today's best across all shows; the newest best when nothing came today."""
        since = self.clock.now() - timedelta(days=1)
        today = _summaries().where(Insight.created_at >= since).order_by(Insight.score.desc())
        newest = _summaries().order_by(Insight.created_at.desc()).limit(TOPIC_POOL)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(today.limit(TOPIC_POOL))).all()
            if not rows:
                rows = (await conn.execute(newest)).all()
        return best_per_show([_summary(r) for r in rows], HOME_SIZE, HOME_PER_SHOW)

    async def search(self, query: str) -> SearchDetail:
        """The chat's own search (core.chat.search), shown as a list."""
        query = " ".join(query.split())[:200]
        if not query:
            return SearchDetail(query="", exact=False, insights=())
        found = await search_insights(self.sessions, self.embedder, query, limit=SEARCH_SIZE)
        if not found.insight_ids:
            return SearchDetail(query=query, exact=found.exact, insights=())
        async with self.engine.connect() as conn:
            rows = (await conn.execute(_summaries().where(Insight.id.in_(found.insight_ids)))).all()
        by_id = {r[0]: _summary(r) for r in rows}
        ordered = tuple(by_id[i] for i in found.insight_ids if i in by_id)
        return SearchDetail(query=query, exact=found.exact, insights=ordered)

    async def sitemap(self) -> list[SitemapEntry]:
        """Home, shows, episodes with insights, topics, then the newest insights (to the limit)."""
        async with self.engine.connect() as conn:
            shows = (await conn.execute(select(Feed.id, Feed.last_polled_at))).all()
            episodes = (
                await conn.execute(
                    select(Episode.id, Episode.published_at).where(
                        Episode.id.in_(select(Insight.episode_id).distinct())
                    )
                )
            ).all()
            topics = (await conn.execute(select(InsightTopic.topic).distinct())).all()
            room = max(0, SITEMAP_MAX_URLS - 1 - len(shows) - len(episodes) - len(topics))
            insights = (
                await conn.execute(
                    select(Insight.id, Insight.created_at)
                    .order_by(Insight.created_at.desc())
                    .limit(room)
                )
            ).all()
        entries = [SitemapEntry("home", "", None)]
        entries += [SitemapEntry("show", str(i), when) for i, when in shows]
        entries += [SitemapEntry("episode", str(i), when) for i, when in episodes]
        entries += [SitemapEntry("topic", t, None) for (t,) in sorted(topics)]
        entries += [SitemapEntry("insight", str(i), when) for i, when in insights]
        return entries[:SITEMAP_MAX_URLS]
