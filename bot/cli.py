"""The `podbrief` command line."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import ArgumentError, DBAPIError

from bot import cli_brief, cli_deliveries, cli_feeds, cli_llm, cli_run, cli_search, cli_web
from bot.asyncrun import run_async
from bot.settings import load_settings, user_config_file
from bot.wiring import open_services

console = Console()
errors = Console(stderr=True)
# What a bad setting, config file, database URL or data dir raises before any command runs.
STARTUP_ERRORS = (ValidationError, tomllib.TOMLDecodeError, ArgumentError, DBAPIError, OSError)


def db_upgrade() -> None:
    """Apply pending database migrations (every start does this too)."""

    async def _run() -> None:
        services = await open_services()
        await services.aclose()

    run_async(_run())
    console.print("database is up to date")


def config_path() -> None:
    """Print the user config file's path (it may not exist yet)."""
    console.print(str(user_config_file()))


def config_show() -> None:
    """Print the effective settings (no secrets) as JSON."""
    settings = load_settings()
    data = settings.model_dump()
    data["resolved_database_url"] = settings.resolved_database_url
    print(json.dumps(data, indent=2, default=str))


def build() -> typer.Typer:
    """A new `podbrief` app with every command (nothing is shared between two builds)."""
    app = typer.Typer(
        help="podbrief: podcast episodes in, a grounded daily top-5 brief out.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
    db_app.command("upgrade")(db_upgrade)
    config_app = typer.Typer(help="Show where settings come from.", no_args_is_help=True)
    config_app.command("path")(config_path)
    config_app.command("show")(config_show)
    app.add_typer(db_app, name="db")
    app.add_typer(config_app, name="config")
    for module in (cli_feeds, cli_brief, cli_llm, cli_run, cli_deliveries, cli_search, cli_web):
        module.register(app)
    return app


def _shown_input(error: Any) -> str:
    """The wrong value, unless it may be a secret put in the wrong place (logs keep stderr)."""
    name = ".".join(str(part) for part in error["loc"]).lower()
    if any(word in name for word in ("token", "secret", "key", "password")):
        return "a value not shown: secrets are read from the environment only"
    return repr(error["input"])


def plain_error(exc: BaseException) -> str:
    """One line for the operator instead of a traceback."""
    if isinstance(exc, ValidationError):
        wrong = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']} (got {_shown_input(e)})"
            for e in exc.errors()
        )
        return f"a setting is not valid: {wrong}"
    if isinstance(exc, tomllib.TOMLDecodeError):
        return f"the config file {user_config_file()} is not valid TOML: {exc}"
    if isinstance(exc, DBAPIError):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return f"the database cannot be used: {reason}"
    if isinstance(exc, ArgumentError):
        return f"the database URL is not valid: {exc}"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or exc}: {exc.filename}"
    return str(exc)


def main() -> None:
    try:
        build()()
    except STARTUP_ERRORS as exc:
        errors.print(f"[red]error:[/red] {escape(plain_error(exc))}", soft_wrap=True)
        raise SystemExit(1) from None
