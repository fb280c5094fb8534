"""The Slack side of `podbrief run`, switched on by Bolt's usual SLACK_* variables."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from adapters.slack.config import SlackConfig
from bot.wiring import Services
from core.ports import ChatEngine

if TYPE_CHECKING:
    from adapters.slack.app import SlackComponent

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


def slack_component(services: Services, engine: ChatEngine) -> SlackComponent | None:
    """None when no Slack variable is set; a ``SlackConfigError`` names what is missing."""
    config = slack_config(services)
    if config.mode is None:
        return None
    from adapters.slack.app import SlackComponent, build_slack_bot  # Bolt: only for Slack

    bot = build_slack_bot(config, engine, services.sessions, services.engine)
    return SlackComponent(bot, services.sessions)
