"""CLI command: `podbrief deliveries [--json]`, the state of the last day's daily briefs."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.asyncrun import run_async
from bot.wiring import open_services
from core.delivery.status import DeliveryStatus, delivery_status

console = Console()
ORDER = ("queued", "claimed", "sent", "failed", "skipped", "missed")


async def _status(limit: int) -> DeliveryStatus:
    services = await open_services()
    try:
        return await delivery_status(services.sessions, services.clock.now(), limit=limit)
    finally:
        await services.aclose()


def _when(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def print_status(status: DeliveryStatus) -> None:
    counts = ", ".join(f"{status.counts.get(name, 0)} {name}" for name in ORDER)
    console.print(f"Briefs due in the last 24 hours: {counts}")
    console.print(
        f"Coming up in the next 24 hours: {status.upcoming_24h}; "
        f"paused recipients: {status.paused}; unreachable (deactivated): {status.inactive}"
    )
    if not status.rows:
        console.print("No deliveries in the last 24 hours.")
        return
    table = Table("due", "platform", "chat", "day", "status", "tries", "sent", "ms", "error")
    for row in status.rows:
        table.add_row(
            _when(row.due_at),
            row.platform,
            escape(row.chat_id),
            row.local_date.isoformat(),
            row.status,
            str(row.attempts),
            _when(row.sent_at),
            "" if row.last_latency_ms is None else str(row.last_latency_ms),
            escape(row.error or ""),
        )
    console.print(table)


def deliveries(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Rows to list.")] = 50,
) -> None:
    """Today's daily briefs: counts by status, the latest deliveries, what is coming up."""
    status = run_async(_status(limit))
    if as_json:
        print(json.dumps(status.as_json(), indent=2))
    else:
        print_status(status)


def register(app: typer.Typer) -> None:
    app.command("deliveries")(deliveries)
