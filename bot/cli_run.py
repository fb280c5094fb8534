"""CLI command: `podbrief run`, the long-running bot on every configured chat platform."""

from __future__ import annotations

import logging

import typer
from rich.console import Console
from telegram.error import InvalidToken, TelegramError

from adapters.slack.app import SlackConfigError
from adapters.telegram.app import TelegramConfigError
from bot import run_slack
from bot.asyncrun import run_async
from bot.cli_search import open_index
from bot.run_email import BriefFeedService, EmailService, SmtpConfigError, email_component
from bot.run_scheduler import ROLES, role_components
from bot.run_telegram import telegram_component
from bot.run_web import web_component
from bot.runtime import Component, HttpServerError, freeze_start_up_objects, run_components
from bot.wiring import Services, build_embedder, build_engine, open_services
from core.chat.engine import ConversationEngine

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


def collect_components(services: Services, engine: ConversationEngine) -> list[Component]:
    """The platform sides the environment switches on."""
    components: list[Component] = []
    telegram = telegram_component(services, engine)
    if telegram is not None:
        components.append(telegram)
    slack = run_slack.slack_component(services, engine)
    if slack is not None:
        components.append(slack)
    email = email_component(services)
    if email is not None:
        components.append(email)
    return components


async def _run(role: str) -> int:
    services = await open_services()
    try:
        try:
            # One model for chat and ingest: the API's when OPENAI_API_KEY is set (as elsewhere)
            embedder = build_embedder(services.settings, services)
            await open_index(services, embedder)  # built or caught up from the database
            platforms = collect_components(services, build_engine(services, embedder=embedder))
        except SlackConfigError as exc:
            console.print(f"Slack is not set up completely: {exc}")
            return 1
        except TelegramConfigError as exc:
            console.print(f"Telegram is not set up right: {exc}")
            return 1
        except SmtpConfigError as exc:
            console.print(f"Email is not set up completely: {exc}")
            return 1
        email = next((c for c in platforms if isinstance(c, EmailService)), None)
        signup = email.pages if email is not None else None
        web = web_component(services, embedder, signup) if role != "worker" else None
        if not platforms and web is None and role != "worker":
            console.print(
                "Nothing to run: set PODBRIEF_TELEGRAM_TOKEN, SLACK_BOT_TOKEN and/or "
                "PODBRIEF_SMTP_HOST, or PODBRIEF_PUBLIC_URL for the web pages "
                "(see `podbrief run --help`); "
                "`podbrief run --role worker` only polls feeds."
            )
            return 2
        if not platforms and role != "chat":  # ingest only, but it should not look like it delivers
            console.print(
                "No chat platform is set up (PODBRIEF_TELEGRAM_TOKEN, SLACK_BOT_TOKEN): this "
                "worker polls feeds and extracts insights, but sends no daily briefs."
            )
        components: list[Component] = role_components(services, platforms, role, embedder)
        if web is not None:
            components.append(web)
        if role != "worker":  # every recipient's private Atom feed of their briefs
            components.append(BriefFeedService(services))
        settings = services.settings
        freeze_start_up_objects()
        await run_components(components, host=settings.http_host, port=settings.http_port)
        return 0
    except HttpServerError as exc:
        console.print(f"Could not start the HTTP server: {exc}")
        return 1
    except SlackConfigError as exc:  # e.g. Slack refused the token at start
        console.print(f"Could not start the Slack app: {exc}")
        return 1
    except InvalidToken:
        console.print("Telegram refused PODBRIEF_TELEGRAM_TOKEN: check the token @BotFather gave.")
        return 1
    except TelegramError as exc:
        console.print(f"Could not start the Telegram bot: {exc}")
        return 1
    finally:
        await services.aclose()


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
    code = run_async(_run(role))
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("run", help=RUN_HELP)(run)
