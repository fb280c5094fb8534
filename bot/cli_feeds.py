"""CLI commands: `feeds add|list|remove|import-opml|export-opml`, `ingest`, `stats`.

The operator runs the CLI, so its URLs skip the SSRF guard (file:// and local paths work too).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.status import Status
from rich.table import Table

from bot.asyncrun import with_services
from bot.wiring import Services, build_embedder, policy_of, run_ingest_pipeline
from core.feeds.opml import export_opml, import_opml
from core.feeds.poll import make_parse_pool
from core.feeds.service import (
    FeedSummary,
    PollReport,
    add_feed,
    list_feeds,
    remove_feed,
)
from core.ingest.stats import collect_stats
from core.insights.service import InsightReport
from core.transcripts.service import TranscriptReport

feeds_app = typer.Typer(help="Add, list, remove, import and export podcast feeds.")
console = Console()
errors = Console(stderr=True)
T = TypeVar("T")


@feeds_app.command("add")
def feeds_add(url: Annotated[str, typer.Argument(help="http(s) URL, file:// URL or path")]) -> None:
    """Fetch a feed, check it is one, and store it with its episodes."""

    async def work(services: Services) -> None:
        added = await add_feed(
            services.sessions,
            services.clock,
            url,
            fetcher=services.fetcher,
            policy=policy_of(services),
        )
        name = added.feed.title or added.feed.url
        if added.created:
            console.print(f"added feed {added.feed.id}: {name} ({added.new_episodes} episodes)")
        else:
            console.print(f"already there: feed {added.feed.id}: {name}")

    with_services(work)


@feeds_app.command("list")
def feeds_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
) -> None:
    """Every feed with its episode count, last poll and last error."""
    feeds = with_services(lambda services: list_feeds(services.sessions))
    if as_json:
        print(json.dumps([feed.to_json() for feed in feeds], indent=2))
        return
    if not feeds:
        console.print("no feeds yet: try `podbrief feeds add URL` or `feeds import-opml FILE`")
        return
    console.print(feeds_table(feeds))


def feeds_table(feeds: list[FeedSummary]) -> Table:
    table = Table("id", "title", "episodes", "last polled (UTC)", "status")
    for feed in feeds:
        polled = feed.last_polled_at.strftime("%Y-%m-%d %H:%M") if feed.last_polled_at else "never"
        status = (
            "ok"
            if not feed.error_count
            else f"[red]{feed.error_count}x: {escape(feed.last_error or '')}"
        )
        table.add_row(str(feed.id), feed.title or feed.url, str(feed.episodes), polled, status)
    return table


@feeds_app.command("remove")
def feeds_remove(
    feed_id: Annotated[int, typer.Argument(help="The id `feeds list` shows.")],
) -> None:
    """Delete a feed with its episodes, transcripts and insights."""
    removed = with_services(lambda services: remove_feed(services.sessions, feed_id))
    if removed is None:
        errors.print(f"[red]error:[/red] there is no feed {feed_id} (see `podbrief feeds list`)")
        raise typer.Exit(1)
    console.print(f"removed feed {removed.id}: {removed.title or removed.url}")


@feeds_app.command("import-opml")
def feeds_import_opml(file: Annotated[Path, typer.Argument(help="An OPML file.")]) -> None:
    """Store every feed an OPML file lists (the next `podbrief ingest` polls them)."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        errors.print(f"[red]error:[/red] cannot read {file}: {exc.strerror}")
        raise typer.Exit(1) from None
    base = file.resolve().parent
    report = with_services(lambda services: import_opml(services.sessions, data, base_dir=base))
    for url, why in report.invalid:
        errors.print(f"[yellow]skipped[/yellow] {escape(url)}: {escape(why)}")
    console.print(
        f"imported {len(report.added)} feeds ({len(report.already_present)} already there, "
        f"{len(report.invalid)} skipped)"
    )


@feeds_app.command("export-opml")
def feeds_export_opml(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write.")] = None,
) -> None:
    """Print (or write) every feed as OPML 2.0."""
    text = with_services(lambda services: export_opml(services.sessions))
    if output is None:
        print(text, end="")
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            errors.print(f"[red]error:[/red] cannot write {escape(str(output))}: {exc.strerror}")
            raise typer.Exit(1) from None
        console.print(f"wrote {escape(str(output))}")


def ingest(
    every: Annotated[
        bool, typer.Option("--all", help="Poll every feed, not only the due ones.")
    ] = False,
    transcripts: Annotated[
        bool, typer.Option("--transcripts/--no-transcripts", help="Then fetch transcripts.")
    ] = True,
    insights: Annotated[
        bool,
        typer.Option("--insights/--no-insights", help="Then extract and link insights."),
    ] = True,
) -> None:
    """Poll every due feed once, fetch the transcripts of new episodes, extract their insights."""
    with_services(
        lambda services: run_ingest(
            services, every=every, transcripts=transcripts, insights=insights
        )
    )


async def run_ingest(
    services: Services, *, every: bool = False, transcripts: bool = True, insights: bool = True
) -> PollReport:
    """The ingest pipeline with feeds parsed in a process pool; this only shows progress."""
    with make_parse_pool() as pool, IngestProgress() as progress:
        report = await run_ingest_pipeline(
            services,
            build_embedder(services.settings, services) if insights else None,
            insights=insights,
            on_progress=progress.update,
            parse_executor=pool,
            every_feed=every,
            transcripts=transcripts,
        )
    parts = [f"ingest: {report.feeds.summary()}"]
    if report.transcripts is not None:
        parts.append(transcripts_line(report.transcripts))
    if report.insights is not None:
        parts.append(insights_line(report.insights))
    # One line for the whole run (soft_wrap: a terminal may wrap it, we never split it).
    console.print("; ".join(parts), soft_wrap=True)
    for outcome in [o for o in report.feeds.outcomes if o.status == "failed"][:20]:
        errors.print(
            f"failed: feed {outcome.feed_id} {outcome.url}: {outcome.error}", soft_wrap=True
        )
    return report.feeds


STAGE_STATUS = {"transcripts": "fetching transcripts", "insights": "extracting insights"}


class IngestProgress:
    """A bar while feeds are polled, then a spinner per stage (nothing is left on screen)."""

    def __init__(self) -> None:
        self._bar = Progress(
            TextColumn("polling feeds"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._feeds = self._bar.add_task("feeds", total=None)
        self._status: Status | None = None
        self._stage = "feeds"

    def __enter__(self) -> IngestProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()
        self._end_status()

    def update(self, stage: str, done: int, total: int) -> None:
        if stage == "feeds":
            self._bar.update(self._feeds, completed=done, total=total)
            return
        if stage != self._stage:  # a stage starts
            self._stage = stage
            self._bar.stop()
            self._end_status()
            self._status = console.status(STAGE_STATUS.get(stage, stage))
            self._status.start()
        else:  # the pipeline reports a stage's start (0, 0), then its end
            self._end_status()

    def _end_status(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def transcripts_line(report: TranscriptReport) -> str:
    return (
        f"transcripts: {report.fetched} fetched, {report.fallback} from show notes, "
        f"{report.failed} failed ({report.segments} segments)"
    )


def insights_line(report: InsightReport) -> str:
    failed = f", {report.episodes_failed} episodes failed" if report.episodes_failed else ""
    gated = report.rejected_drafts
    rejected = f", {gated} drafts rejected by the quality gate" if gated else ""
    return (
        f"insights: {report.insights_created} from {report.episodes_done} episodes"
        f"{failed}{rejected}"
    )


def stats(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Counts: feeds, episodes, transcripts, segments, errors, quality-gate rejections."""
    counts = with_services(lambda services: collect_stats(services.sessions))
    if as_json:
        print(json.dumps(counts))
        return
    table = Table("what", "count")
    for key, value in counts.items():
        table.add_row(key.replace("_", " "), str(value))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.add_typer(feeds_app, name="feeds")
    app.command("ingest")(ingest)
    app.command("stats")(stats)
