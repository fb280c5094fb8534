"""CLI commands: `search QUERY [--json]`, `index status`, `index rebuild`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from bot.asyncrun import with_services
from bot.wiring import Services, build_embedder, open_vector_library
from core.chat.cards import load_rows
from core.chat.search import SearchResult, search_insights
from core.ports import Embedder
from core.search.vectors import Progress as IndexProgress
from core.search.vectors import VectorLibrary

console = Console()
errors = Console(stderr=True)

SEARCH_HELP = (
    'Words match all of them; "exact phrase"; -word or -"phrase" excludes; show:NAME (part of '
    "the show's title), topic:X, after:2026-01-01, before:2026-02-01."
)


@contextmanager
def index_progress() -> Iterator[IndexProgress]:
    """A progress bar for building or catching up the index (on stderr, gone when done)."""
    with Progress(
        TextColumn("indexing vectors"),
        BarColumn(),
        MofNCompleteColumn(),
        console=errors,
        transient=True,
    ) as progress:
        task = progress.add_task("index", total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


async def open_index(services: Services, embedder: Embedder) -> VectorLibrary | None:
    """The vector index of ``embedder``, with a progress bar while it is built or caught up."""
    with index_progress() as progress:
        return await open_vector_library(services, embedder, progress)


async def search_rows(services: Services, query: str, limit: int) -> tuple[SearchResult, list[Any]]:
    embedder = build_embedder(services.settings, services)
    library = await open_index(services, embedder)
    result = await search_insights(services.sessions, embedder, query, limit=limit, library=library)
    rows = await load_rows(services.sessions, result.insight_ids)
    return result, [rows[i] for i in result.insight_ids if i in rows]


def register(app: typer.Typer) -> None:
    index_app = typer.Typer(help="The vector index of related insights and search.")
    app.add_typer(index_app, name="index")

    @app.command("search", help=f"Search the stored insights. {SEARCH_HELP}")
    def search(
        query: Annotated[str, typer.Argument(help="What to look for (quote it in the shell).")],
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 10,
    ) -> None:
        result, rows = with_services(lambda services: search_rows(services, query, limit))
        if as_json:
            print(json.dumps(search_json(query, result, rows), indent=2, ensure_ascii=False))
        elif result.problem:
            errors.print(escape(result.problem))
        elif not rows:
            console.print(f"Nothing in the stored insights matches “{escape(query)}”.")
        else:
            if not result.exact:
                console.print("[dim]No insight has these words; the closest in meaning:[/dim]")
            for n, row in enumerate(rows, 1):
                console.print(
                    f"[bold]{n}. {escape(row.insight.headline)}[/bold] "
                    f"[dim]#{row.insight.id} · {escape(row.feed.title or 'Untitled show')} · "
                    f"{escape(row.episode.title)}[/dim]"
                )
                console.print(f"   {escape(row.insight.body)}")
        if result.problem:
            raise typer.Exit(2)

    @index_app.command("status")
    def status() -> None:
        """The index of the current embedder: vectors, high-water mark, file."""

        async def work(services: Services) -> dict[str, Any]:
            library = await open_index(services, build_embedder(services.settings, services))
            if library is None:
                return {"vector_index": "off"}
            return _status(library)

        print(json.dumps(with_services(work), indent=2))

    @index_app.command("rebuild")
    def rebuild() -> None:
        """Build the index again from the database (the source of truth)."""

        async def work(services: Services) -> dict[str, Any]:
            embedder = build_embedder(services.settings, services)
            library = await open_vector_library(services, embedder)
            if library is None:
                return {"vector_index": "off"}
            with index_progress() as progress:
                await library.rebuild(progress)
            return _status(library)

        print(json.dumps(with_services(work), indent=2))


def _status(library: VectorLibrary) -> dict[str, Any]:
    s = library.status()
    return {
        "model": s.model,
        "kind": s.kind,
        "vectors": s.vectors,
        "high_water": s.high_water,
        "gaps": s.gaps,
        "manifest": s.path,
    }


def search_json(query: str, result: SearchResult, rows: list[Any]) -> dict[str, Any]:
    return {
        "query": query,
        "problem": result.problem,
        "exact": result.exact,
        "results": [
            {
                "insight_id": row.insight.id,
                "headline": row.insight.headline,
                "body": row.insight.body,
                "quote": row.insight.quote,
                "speaker": row.insight.speaker,
                "start_seconds": row.insight.start_seconds,
                "topics": row.insight.topics,
                "show": row.feed.title,
                "episode": row.episode.title,
            }
            for row in rows
        ],
    }
