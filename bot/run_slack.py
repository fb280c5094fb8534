"""The Slack side of `podbrief run`, switched on by Bolt's usual SLACK_* variables."""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError
from starlette.routing import BaseRoute

from adapters.slack.app import SlackBot, SlackConfig, SlackConfigError, build_slack_bot
from adapters.slack.delivery import Sessions, SlackMessenger
from adapters.slack.handlers import Engine
from adapters.slack.oauth import WORKSPACE_REASON
from adapters.slack.translate import PLATFORM
from bot.wiring import Services
from core.people_status import reactivate_workspace

log = logging.getLogger(__name__)


def slack_config(services: Services) -> SlackConfig:
    secrets = services.secrets
    return SlackConfig(
        bot_token=secrets.slack_bot_token,
        app_token=secrets.slack_app_token,
        signing_secret=secrets.slack_signing_secret,
        client_id=secrets.slack_client_id,
        client_secret=secrets.slack_client_secret,
        api_url=services.settings.slack_api_url,
    )


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
            error = exc.response.get("error")
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
            error = exc.response.get("error")
            raise SlackConfigError(f"Slack refused SLACK_APP_TOKEN ({error})") from exc

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None


def slack_component(services: Services, engine: Engine) -> SlackComponent | None:
    """None when no Slack variable is set; a ``SlackConfigError`` names what is missing."""
    config = slack_config(services)
    if config.mode is None:
        return None
    bot = build_slack_bot(config, engine, services.sessions, services.engine)
    return SlackComponent(bot, services.sessions)
