"""What `podbrief run` runs: every configured chat platform, the web pages and the scheduler."""

from __future__ import annotations

import sys

from rich.console import Console

from adapters.slack.config import SlackConfigError
from adapters.telegram.errors import TelegramConfigError
from bot import run_slack
from bot.cli_search import open_index
from bot.run_email import BriefFeedService, EmailService, SmtpConfigError, email_component
from bot.run_scheduler import role_components
from bot.run_telegram import telegram_component
from bot.run_web import web_component
from bot.runtime import Component, HttpServerError, freeze_start_up_objects, run_components
from bot.wiring import Services, build_embedder, build_engine, open_services
from core.chat.engine import ConversationEngine

console = Console(stderr=True)


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


async def run_all(role: str) -> int:
    """Run until stopped; the exit code (1: a platform is not set up right or would not start)."""
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
    except Exception as exc:
        refused = telegram_refused(exc)
        if refused is None:
            raise
        console.print(refused)
        return 1
    finally:
        await services.aclose()


def telegram_refused(exc: Exception) -> str | None:
    """What to say when Telegram refused to start the bot; None for any other error.
    python-telegram-bot is loaded only when a token is set, so without it no error of its
    can have been raised."""
    errors = sys.modules.get("telegram.error")
    if errors is None:
        return None
    if isinstance(exc, errors.InvalidToken):
        return "Telegram refused PODBRIEF_TELEGRAM_TOKEN: check the token @BotFather gave."
    if isinstance(exc, errors.TelegramError):
        return f"Could not start the Telegram bot: {exc}"
    return None
