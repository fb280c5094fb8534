"""CLI commands: `demo`, `brief --user NAME [--json]`, `chat --user NAME`, `insights list`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from adapters.console.chat import chat_loop, console_chat
from adapters.console.render import render_reply
from bot.asyncrun import with_services
from bot.cli_search import open_index
from bot.run_web import web_app
from bot.runtime import HttpServerError, listening_socket, serving_on
from bot.settings import CONFIG_DIR
from bot.wiring import (
    Services,
    build_embedder,
    build_engine,
    policy_of,
    run_ingest_pipeline,
)
from core.chat.types import InsightCard, Reply
from core.feeds.errors import FeedError
from core.feeds.service import add_feed
from core.ingest.pipeline import PipelineReport
from core.insights.listing import list_insights
from core.ports import Embedder
from core.web.urls import PageUrls

SAMPLES_DIR = CONFIG_DIR / "samples"
DEMO_USER = "demo"
USER_NAME_MAX = 100  # users.external_id is a String(100)
console = Console()
errors = Console(stderr=True)
insights_app = typer.Typer(help="Look at the stored insights.", no_args_is_help=True)
T = TypeVar("T")


def user_name(name: str) -> str:
    """A console user's name, checked here so a bad one is a usage error, not a traceback."""
    name = name.strip()
    if not name:
        raise typer.BadParameter("give a name, e.g. --user alice")
    if len(name) > USER_NAME_MAX:
        raise typer.BadParameter(f"a name has at most {USER_NAME_MAX} characters")
    return name


def sample_feeds(directory: Path = SAMPLES_DIR) -> list[Path]:
    return sorted(directory.glob("*.xml"))


async def ingest_samples(
    services: Services, embedder: Embedder, directory: Path = SAMPLES_DIR
) -> PipelineReport:
    """Add the bundled sample shows (once) and run the pipeline over whatever is pending."""
    feeds = sample_feeds(directory)
    if not feeds:
        raise FeedError(f"no sample feeds found in {directory}")
    for path in feeds:
        await add_feed(  # a file:// URL
            services.sessions, services.clock, str(path), policy=policy_of(services)
        )
    with Progress(
        TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total or None)
            progress.update(tasks[stage], completed=done, total=total or None)

        report = await run_ingest_pipeline(services, embedder, on_progress=on_progress)
        for task in progress.tasks:  # stages with nothing to do show 0/0, not 0/?
            progress.update(task.id, total=task.completed)
        return report


async def _demo(services: Services) -> None:
    console.print("[bold]podbrief demo[/bold]: ingesting the sample shows in config/samples …")
    embedder = build_embedder(services.settings, services)
    report = await ingest_samples(services, embedder)
    console.print(f"[dim]{escape(report.summary())}[/dim]\n")
    async with demo_pages(services, embedder) as public_url:
        engine = build_engine(services, embedder=embedder, public_url=public_url)
        chat = console_chat(DEMO_USER)
        reply = await engine.brief_for(chat, kind="on_demand")
        render_reply(console, reply)
        console.print()
        if public_url:
            console.print(
                f"[bold]Insight pages:[/bold] {escape(public_url)}/ "
                "[dim](served until you type quit)[/dim]"
            )
        await chat_loop(engine, chat, console, last_reply=reply)


@asynccontextmanager
async def demo_pages(services: Services, embedder: Embedder) -> AsyncIterator[str]:
    """Serve the insight pages on 127.0.0.1 for the demo; yields their base URL ("" when no
    port could be had: the demo goes on without pages)."""
    port = services.settings.http_port
    try:
        sock = listening_socket("127.0.0.1", port)
    except HttpServerError:  # e.g. 8080 taken: any free port does for a local demo
        try:
            sock = listening_socket("127.0.0.1", 0)
        except HttpServerError as exc:
            errors.print(f"The insight pages are not served: {escape(str(exc))}")
            yield ""
            return
    public_url = services.settings.public_url or f"http://127.0.0.1:{sock.getsockname()[1]}"
    pages = web_app(services, embedder, public_url)
    async with serving_on(pages.routes(), sock, front=pages):
        yield public_url


def card_json(card: InsightCard) -> dict[str, Any]:
    return {
        "position": card.position,
        "insight_id": card.insight_id,
        "headline": card.headline,
        "body": card.body,
        "quote": card.quote,
        "speaker": card.speaker,
        "start": card.start_seconds,
        "topics": list(card.topics),
        "show": card.show_title,
        "episode": card.episode_title,
        "link": card.episode_url,
        "page_url": card.page_url,
        "is_older": card.is_older,
    }


def brief_json(reply: Reply) -> dict[str, Any]:
    return {"brief_id": reply.brief_id, "items": [card_json(c) for c in reply.cards]}


async def _insights(services: Services, episode: int | None, limit: int) -> list[dict[str, Any]]:
    rows = await list_insights(services.sessions, episode_id=episode, limit=limit)
    public_url = services.settings.public_url
    urls = PageUrls(public_url) if public_url else None
    return [
        {
            "id": ins.id,
            "headline": ins.headline,
            "body": ins.body,
            "quote": ins.quote,
            "speaker": ins.speaker,
            "start": ins.start_seconds,
            "end": ins.end_seconds,
            "topics": list(ins.topics or []),
            "score": ins.score,
            "episode": {"id": ep.id, "title": ep.title, "link": ep.link},
            "show": {"id": feed.id, "title": feed.title},
            "page_url": urls.insight(ins.id) if urls else None,
        }
        for ins, ep, feed in rows
    ]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""

    @app.command("demo")
    def demo() -> None:
        """Ingest the bundled sample shows, print the demo user's brief, then chat ('quit')."""
        with_services(_demo)

    @app.command("brief")
    def brief(
        user: Annotated[
            str, typer.Option("--user", help="The console user's name.", callback=user_name)
        ],
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Today's brief for a console user (the same one all day)."""

        async def work(services: Services) -> Reply:
            embedder = build_embedder(services.settings, services)
            await open_index(services, embedder)
            engine = build_engine(services, embedder=embedder)
            return await engine.brief_for(console_chat(user), kind="on_demand")

        reply = with_services(work)
        if as_json:
            print(json.dumps(brief_json(reply), indent=2, ensure_ascii=False))
        else:
            render_reply(console, reply)

    @app.command("chat")
    def chat(
        user: Annotated[
            str, typer.Option("--user", help="The console user's name.", callback=user_name)
        ],
    ) -> None:
        """Chat with podbrief as a console user: line by line, 'quit' leaves."""

        async def work(services: Services) -> int:
            embedder = build_embedder(services.settings, services)
            await open_index(services, embedder)
            engine = build_engine(services, embedder=embedder)
            return await chat_loop(engine, console_chat(user), console)

        with_services(work)

    @insights_app.command("list")
    def insights_list(
        episode: Annotated[int | None, typer.Option("--episode", help="Episode id.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        limit: Annotated[int, typer.Option("--limit", min=1)] = 1000,
    ) -> None:
        """Stored insights (headline, body, quote, speaker, start, topics, episode)."""
        rows = with_services(lambda services: _insights(services, episode, limit))
        if as_json:
            print(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        for row in rows:
            console.print(
                f"[bold]{row['id']}[/bold] {escape(row['headline'])} "
                f"[dim]({escape(row['show']['title'] or '')} · {escape(row['episode']['title'])}"
                f", {row['speaker'] or '?'} @ {row['start']:.0f}s)[/dim]"
            )
        if not rows and episode is not None:
            console.print(f"No insights for episode {episode}.")
        elif not rows:
            console.print("No insights stored yet: `podbrief demo` or `podbrief ingest` adds some.")

    app.add_typer(insights_app, name="insights")
