"""The Bolt ``AsyncApp`` (HTTP events on /slack/events, OAuth, or Socket Mode) and the
runtime component `podbrief run` starts and stops, as ``adapters/telegram/app.py`` for Telegram."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.listener.async_builtins import AsyncTokenRevocationListeners
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.slack.config import SlackConfig, SlackConfigError
from adapters.slack.delivery import (
    ChannelPacer,
    Poster,
    SlackMessenger,
    Sleep,
    TokenSource,
    make_client,
)
from adapters.slack.errors import error_code
from adapters.slack.handlers import SlackHandlers, UserDirectory
from adapters.slack.home import AppHome
from adapters.slack.oauth import (
    WORKSPACE_REASON,
    StaticToken,
    StoreTokens,
    installation_store,
    oauth_settings,
)
from adapters.slack.payloads import body_problem
from adapters.slack.translate import PLATFORM, team_of
from core.db import Sessions
from core.people.status import deactivate_workspace, reactivate_workspace
from core.ports import ChatEngine

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


@dataclass
class SlackBot:
    """The built app with what `podbrief run` and the scheduler need from it."""

    config: SlackConfig
    app: AsyncApp
    messenger: SlackMessenger
    installations: AsyncSQLAlchemyInstallationStore | None

    def routes(self) -> list[BaseRoute]:
        if self.config.mode != "http" and not self.config.oauth:
            return []
        handler = AsyncSlackRequestHandler(self.app)

        async def endpoint(request: Request) -> Response:
            if request.method == "POST":
                problem = body_problem(
                    await request.body(), request.headers.get("content-type", "")
                )
                if problem is not None:
                    log.info("refused a Slack request: %s", problem)
                    return PlainTextResponse(f"bad Slack request: {problem}", status_code=400)
            response: Response = await handler.handle(request)
            return response

        routes: list[BaseRoute] = []
        if self.config.mode == "http":
            routes.append(Route(EVENTS_PATH, endpoint, methods=["POST"]))
        if self.config.oauth:
            routes += [
                Route(INSTALL_PATH, endpoint, methods=["GET"]),
                Route(REDIRECT_PATH, endpoint, methods=["GET"]),
            ]
        return routes


class SlackComponent:
    """Socket Mode connects out to Slack; HTTP mode serves routes on the shared server."""

    name = "slack"

    def __init__(self, bot: SlackBot, sessions: Sessions) -> None:
        self.bot = bot
        self.sessions = sessions
        self._socket: AsyncSocketModeHandler | None = None

    @property
    def messenger(self) -> SlackMessenger:
        return self.bot.messenger

    def routes(self) -> list[BaseRoute]:
        return self.bot.routes()

    async def start(self) -> None:
        config = self.bot.config
        if config.bot_token and not config.oauth:
            await self._check_token()
        if config.mode == "socket":
            await self._check_app_token()
            self._socket = AsyncSocketModeHandler(self.bot.app, config.app_token)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("slack: connected in Socket Mode")
        else:
            log.info("slack: serving events on /slack/events")

    async def _check_token(self) -> None:
        """Fail at start, in plain words, rather than on the first message."""
        try:
            answer = await self.bot.app.client.auth_test()
        except SlackApiError as exc:
            error = error_code(exc)
            raise SlackConfigError(f"Slack refused SLACK_BOT_TOKEN ({error})") from exc
        log.info("slack: connected to workspace %s as %s", answer.get("team"), answer.get("user"))
        # The token works: lift a workspace-wide pause a dead token (or an uninstall) left.
        team = str(answer.get("team_id") or "")
        if team and await reactivate_workspace(
            self.sessions, PLATFORM, team, reason_prefix=WORKSPACE_REASON
        ):
            log.info("slack: deliveries to workspace %s resume", team)

    async def _check_app_token(self) -> None:
        # slack_sdk's Socket Mode client retries a refused token forever: check it first.
        token = self.bot.config.app_token or ""
        try:
            await self.bot.app.client.apps_connections_open(app_token=token)
        except SlackApiError as exc:
            error = error_code(exc)
            raise SlackConfigError(f"Slack refused SLACK_APP_TOKEN ({error})") from exc

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None


def build_slack_bot(
    config: SlackConfig,
    engine: ChatEngine,
    sessions: Sessions,
    db_engine: AsyncEngine,
    *,
    sleep: Sleep = asyncio.sleep,
    pacer: ChannelPacer | None = None,
) -> SlackBot:
    """Wire Bolt to the conversation engine; raises ``SlackConfigError`` on a bad setup."""
    config.mode  # noqa: B018 - validates the combination before anything is built
    store = installation_store(config.client_id or "", db_engine) if config.oauth else None
    client = make_client(None if store else config.bot_token, config.base_url, sleep=sleep)
    app = AsyncApp(
        client=client,
        signing_secret=config.signing_secret or "",
        request_verification_enabled=bool(config.signing_secret),
        installation_store=store,
        oauth_settings=(
            oauth_settings(
                client_id=config.client_id or "",
                client_secret=config.client_secret or "",
                engine=db_engine,
                sessions=sessions,
                store=store,
            )
            if store is not None
            else None
        ),
    )
    poster = Poster(sessions, pacer or ChannelPacer(sleep=sleep))
    users = UserDirectory()
    handlers = SlackHandlers(engine, poster, sessions, users=users)
    handlers.register(app)
    AppHome(sessions, users).register(app)
    _register_revocations(app, sessions, store)
    handlers.register_fallback(app)  # last: Bolt runs the first listener that matches
    tokens: TokenSource = StoreTokens(store) if store else StaticToken(config.bot_token or "")
    messenger = SlackMessenger(tokens, poster, config.base_url, sleep=sleep)
    return SlackBot(config=config, app=app, messenger=messenger, installations=store)


def _register_revocations(
    app: AsyncApp, sessions: Sessions, store: AsyncSQLAlchemyInstallationStore | None
) -> None:
    """Uninstall / revoked tokens: delete that workspace's tokens and stop its deliveries.

    Done in a middleware, before Slack gets its answer, so a retry never finds a half-done
    cleanup; both are a few quick deletes and updates.
    """
    listeners = AsyncTokenRevocationListeners(store) if store is not None else None

    async def on_revocation(body: dict[str, Any], context: Any, next: Any) -> Any:
        event = body.get("event") or {}
        kind = event.get("type") if body.get("type") == "event_callback" else None
        team = context.team_id or team_of(body)
        if kind == "app_uninstalled":
            if listeners is not None:
                await listeners.handle_app_uninstalled_events(context)
            reason = WORKSPACE_REASON + "app uninstalled"
            await deactivate_workspace(sessions, PLATFORM, team, reason)
        elif kind == "tokens_revoked":
            if listeners is not None:
                await listeners.handle_tokens_revoked_events(event, context)
            if (event.get("tokens") or {}).get("bot"):
                reason = WORKSPACE_REASON + "tokens revoked"
                await deactivate_workspace(sessions, PLATFORM, team, reason)
        return await next()

    async def done() -> None:
        """The middleware did the work; a listener must exist or Bolt answers 404."""

    app.middleware(on_revocation)
    app.event("app_uninstalled")(done)
    app.event("tokens_revoked")(done)
