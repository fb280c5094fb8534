"""Multi-workspace install: slack_sdk's SQLAlchemy stores in podbrief's own database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import Sessions
from core.people.status import reactivate_workspace

# The scopes the app asks for on install (also in the README's manifest).
BOT_SCOPES = (
    "app_mentions:read",
    "chat:write",
    "commands",
    "im:history",
    "im:write",
    "users:read",
)
STATE_EXPIRY_SECONDS = 600


def installation_store(client_id: str, engine: AsyncEngine) -> AsyncSQLAlchemyInstallationStore:
    """Tables come from migration 0003_slack, never from ``create_tables``."""
    return AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=engine)


class StoreTokens:
    """Bot tokens per workspace from the installation store."""

    def __init__(self, store: AsyncSQLAlchemyInstallationStore) -> None:
        self._store = store

    async def bot_token(self, team_id: str) -> str | None:
        bot = await self._store.async_find_bot(enterprise_id=None, team_id=team_id or None)
        token = getattr(bot, "bot_token", None) if bot is not None else None
        return str(token) if token else None


class StaticToken:
    """A single-workspace app: one bot token for every chat."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def bot_token(self, team_id: str) -> str | None:
        return self._token


def oauth_settings(
    *,
    client_id: str,
    client_secret: str,
    engine: AsyncEngine,
    sessions: Sessions,
    store: AsyncSQLAlchemyInstallationStore,
) -> AsyncOAuthSettings:
    return AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=store,
        state_store=AsyncSQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_EXPIRY_SECONDS, engine=engine
        ),
        callback_options=AsyncCallbackOptions(success=_on_success(sessions), failure=_on_failure),
    )


WORKSPACE_REASON = "slack workspace: "  # prefix of reasons a re-install lifts


def _on_success(sessions: Sessions) -> Callable[[AsyncSuccessArgs], Awaitable[BoltResponse]]:
    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        team_id = args.installation.team_id or ""
        # A re-install lifts the pause an uninstall or a dead token put on the workspace.
        await reactivate_workspace(sessions, "slack", team_id, reason_prefix=WORKSPACE_REASON)
        response: BoltResponse = await args.default.success(args)
        return response

    return success


async def _on_failure(args: AsyncFailureArgs) -> BoltResponse:
    response: BoltResponse = await args.default.failure(args)
    return response
