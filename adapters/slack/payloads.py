"""Checks a request body's shape before Bolt parses it: Bolt answers a malformed body with a
500 and a traceback; we answer 400 and say what is wrong, and nothing reaches the engine."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

# Parts of a payload Bolt and our listeners read as objects when present.
_OBJECTS = ("event", "user", "team", "channel", "container", "message", "view", "enterprise")


def body_problem(body: bytes, content_type: str) -> str | None:
    """What is wrong with an events/interactivity/command body, in plain words; None if fine."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8 text"
    if content_type.startswith("application/json"):
        return _json_problem(text, "the body")
    form = parse_qs(text, keep_blank_values=True)
    if "payload" in form:
        return _json_problem(form["payload"][0], "the 'payload' field")
    if "command" in form and not (form.get("user_id", [""])[0] and form.get("team_id", [""])[0]):
        return "a slash command needs user_id and team_id"
    return None


def _json_problem(text: str, what: str) -> str | None:
    try:
        data = json.loads(text)
    except ValueError as exc:
        return f"{what} is not JSON ({str(exc)[:200]})"
    except RecursionError:  # found by fuzzing: Bolt would have answered a 500
        return f"{what} is nested too deeply"
    if not isinstance(data, dict):
        return f"{what} must be a JSON object"
    return _shape_problem(data, what)


def _shape_problem(data: dict[str, Any], what: str) -> str | None:
    for key in _OBJECTS:
        if key in data and data[key] is not None and not isinstance(data[key], dict):
            return f"{what}: '{key}' must be an object"
    actions = data.get("actions")
    if actions is not None and not (
        isinstance(actions, list) and all(isinstance(a, dict) for a in actions)
    ):
        return f"{what}: 'actions' must be a list of objects"
    if data.get("type") == "block_actions" and not (data.get("user") or {}).get("id"):
        return f"{what}: a button press needs user.id"
    return None
