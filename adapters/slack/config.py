"""Which Slack setup the SLACK_* variables make (a module of its own: `podbrief run` decides
whether Slack is on without loading Bolt and the Slack SDK, a second of imports)."""

from __future__ import annotations

from dataclasses import dataclass


class SlackConfigError(ValueError):
    """Slack variables that do not make a working setup; the message says what is missing."""


@dataclass(frozen=True, slots=True)
class SlackConfig:
    bot_token: str | None = None
    app_token: str | None = None
    signing_secret: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    api_url: str = ""  # Web API base URL override (tests)

    @property
    def oauth(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @property
    def mode(self) -> str | None:
        """ "socket", "http", or None when Slack is not configured at all."""
        if not (self.bot_token or self.oauth or self.app_token or self.signing_secret):
            return None
        if self.app_token:
            mode = "socket"
        elif self.signing_secret:
            mode = "http"
        else:
            raise SlackConfigError(
                "Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)"
            )
        if not (self.bot_token or self.oauth):
            raise SlackConfigError(
                "Slack needs SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for "
                "installs to many workspaces"
            )
        if self.oauth and not self.signing_secret:
            raise SlackConfigError("the Slack install flow needs SLACK_SIGNING_SECRET as well")
        return mode

    @property
    def base_url(self) -> str:
        url = self.api_url.strip()
        return url if not url or url.endswith("/") else url + "/"
