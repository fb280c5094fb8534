"""What a ``SlackApiError`` says, whatever slack_sdk put in it.

Usually its ``response`` is a ``SlackResponse`` with Slack's JSON; but when the body is not
JSON at all (a proxy's page, a cut-off answer) slack_sdk puts the raw aiohttp response there,
which has no ``get``: reading ``exc.response.get("error")`` would then fail with an
AttributeError instead of saying what happened.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError


def error_code(exc: SlackApiError) -> str:
    """Slack's ``error`` field ("channel_not_found", …); "" when the answer had none."""
    data: Any = getattr(exc.response, "data", None)
    if isinstance(data, dict):
        return str(data.get("error") or "")
    return ""


def http_status(exc: SlackApiError) -> int:
    response = exc.response
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return int(status or 200)


def http_header(exc: SlackApiError, name: str) -> str | None:
    headers: Any = getattr(exc.response, "headers", None) or {}
    value = headers.get(name) or headers.get(name.lower())
    return str(value) if value is not None else None
