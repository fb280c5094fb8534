"""CLI command: `podbrief run`, the long-running bot on every configured chat platform.

Only the command's options and help live here: what it runs (``bot.run_all``) loads the chat
platforms' libraries, which every other command would otherwise pay for at start (about a
second of CPU for Slack's and Telegram's alone)."""

from __future__ import annotations

import logging

import typer
from rich.console import Console

from bot.asyncrun import run_async
from bot.roles import ROLES

console = Console(stderr=True)

RUN_HELP = (
    "Run the chat bot on every platform whose keys are set, until Ctrl-C or SIGTERM.\n\n"
    "Telegram is on when PODBRIEF_TELEGRAM_TOKEN is set (the token from @BotFather). "
    "It uses long polling, or a webhook when PODBRIEF_TELEGRAM_WEBHOOK_URL is set (your public "
    "https URL; served on PODBRIEF_HTTP_HOST:PODBRIEF_HTTP_PORT, every request checked against "
    "PODBRIEF_TELEGRAM_WEBHOOK_SECRET, a random secret when unset). "
    "PODBRIEF_TELEGRAM_BASE_URL points it at a local Bot API server.\n\n"
    "Slack is on when SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) is set: "
    "Socket Mode with SLACK_APP_TOKEN, else HTTP events on the same server, checked with "
    "SLACK_SIGNING_SECRET.\n\n"
    "Email is on when PODBRIEF_SMTP_HOST is set (with PODBRIEF_SMTP_PORT, PODBRIEF_SMTP_SECURITY "
    "starttls|tls|none, PODBRIEF_SMTP_USER, PODBRIEF_SMTP_PASSWORD and PODBRIEF_SMTP_SENDER): "
    "the signup pages at /signup on the same server, and daily briefs by mail. Links in mails "
    "point at PODBRIEF_PUBLIC_URL. Every recipient's private Atom feed is at "
    "/feeds/<token>.atom (the chat command 'feed' gives it).\n\n"
    'The public web pages (an insight page each, see README "Web") are on when '
    "PODBRIEF_PUBLIC_URL is set (e.g. https://brief.example.org), served on the same server; "
    "chat cards then link to them.\n\n"
    "--role all (default) also runs the scheduler: feeds polled every "
    "PODBRIEF_POLL_INTERVAL_MINUTES, insights extracted, and each recipient's daily brief sent "
    "at their local time. --role chat runs only the chat side; --role worker only the "
    "scheduler and sending. Run several of each against one PostgreSQL database."
)


def run(
    role: str = typer.Option(
        "all", "--role", help="all: chat + scheduler; chat: chat only; worker: scheduler only."
    ),
) -> None:
    if role not in ROLES:
        console.print(f"--role must be one of {', '.join(ROLES)}, not {role!r}.")
        raise typer.Exit(2)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for ours in ("adapters", "bot", "core"):
        logging.getLogger(ours).setLevel(logging.INFO)
    from bot.run_all import run_all

    code = run_async(run_all(role))
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("run", help=RUN_HELP)(run)
