"""CLI commands: `llm check`, `llm extract`, `llm reembed`, `llm transcribe`."""

from __future__ import annotations

import json
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from bot.asyncrun import with_services
from bot.llm_check import run_llm_check
from bot.wiring import (
    Services,
    build_embedder,
    build_llm_budget,
    build_llm_extractor,
    build_transcriber,
    open_vector_library,
)

llm_app = typer.Typer(help="The LLM path (OpenAI or an OpenAI-compatible server).")
console = Console()
T = TypeVar("T")


@llm_app.command("check")
def check() -> None:
    """Check the connection, the models and structured-output support."""
    lines = with_services(run_llm_check)
    for line in lines:
        mark = "[green]ok[/green]  " if line.ok else "[red]no[/red]  "
        console.print(mark + escape(line.text))
    if not all(line.ok for line in lines):
        raise typer.Exit(1)


@llm_app.command("extract")
def extract(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Extract insights of pending episodes with the model, within today's budget."""

    async def work(services: Services) -> dict[str, object]:
        from core.llm.service import extract_with_llm

        extractor = build_llm_extractor(services)
        if extractor is None:
            raise typer.BadParameter("no OPENAI_API_KEY is set; `podbrief ingest` runs offline")
        embedder = build_embedder(services.settings, services)
        report = await extract_with_llm(services.sessions, extractor, embedder, services.clock)
        return {
            "episodes_done": report.insights.episodes_done,
            "insights_created": report.insights.insights_created,
            "episodes_failed": report.insights.episodes_failed,
            "quotes_dropped": report.quotes_dropped,
            "quotes_repaired": report.quotes_repaired,
            "offline_fallbacks": report.fallbacks,
            "deferred": len(report.deferred),
            "stopped": report.stopped,
        }

    result = with_services(work)
    if as_json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        console.print(f"{key.replace('_', ' ')}: {escape(str(value))}")


@llm_app.command("reembed")
def reembed() -> None:
    """Embed stored insights with the current embedding model (after changing it)."""

    async def work(services: Services) -> int:
        from core.llm.reembed import reembed_insights

        embedder = build_embedder(services.settings, services)
        # The new model's index (built from the vectors it has so far, caught up as they are
        # stored): the edges are then rebuilt through it instead of a full scan per batch.
        library = await open_vector_library(services, embedder)
        return await reembed_insights(services.sessions, embedder, library=library)

    console.print(f"re-embedded {with_services(work)} insights")


@llm_app.command("transcribe")
def transcribe(
    limit: Annotated[int, typer.Option(help="At most this many episodes.")] = 20,
) -> None:
    """Transcribe episodes without a transcript from their audio (transcription_enabled)."""

    async def work(services: Services) -> str:
        from core.llm.transcribe import transcribe_missing

        transcriber = build_transcriber(services)
        if transcriber is None:
            return (
                "Transcription is off: set transcription_enabled = true (it costs money) "
                "and OPENAI_API_KEY."
            )
        report = await transcribe_missing(
            services.sessions, services.fetcher, transcriber, build_llm_budget(services),
            services.clock, max_minutes=services.settings.transcription_max_minutes,
            limit=limit,
        )  # fmt: skip
        lines = [f"transcribed {report.transcribed} episodes ({report.minutes:.1f} minutes)"]
        lines += [f"episode {i} skipped: {why}" for i, why in report.skipped.items()]
        if report.stopped:
            lines.append(f"stopped: {report.stopped}")
        return "\n".join(lines)

    console.print(escape(with_services(work)))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.add_typer(llm_app, name="llm")
