"""Onboarding and a chat's settings: time, timezone, pause, resume, compact, forget."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.chat.context import save_context
from core.chat.handlers.brief import brief_reply_for
from core.chat.handlers.prefs import popular_topics, topic_button
from core.chat.timezones import time_from_text, timezone_from_location, timezone_from_text
from core.chat.turn import Deps, Refusal, Turn
from core.chat.types import Action, Button, Buttons, Reply, Text
from core.db import transaction
from core.models import User
from core.people import users as people

CONFIRM_TTL = timedelta(minutes=10)
_DEFAULT_TOPICS = ("ai", "startups", "pricing", "engineering", "product", "health")


async def _set_user(deps: Deps, user_id: int, **values: object) -> None:
    async with transaction(deps.sessions) as session:
        user = await session.get(User, user_id)
        if user is None:
            raise Refusal("I don't know this chat any more. Say 'start' to begin again.")
        for name, value in values.items():
            setattr(user, name, value)


async def start(deps: Deps, turn: Turn) -> Reply:
    """Welcome, topic buttons to pick from, and how to set time and timezone."""
    popular = [t for t, _ in await popular_topics(deps, 8)] or list(_DEFAULT_TOPICS)
    buttons = [b for t in popular if (b := topic_button(t, "follow", t)) is not None]
    await _set_user(deps, turn.user.id, onboarded=True)
    who = "this group" if turn.message.chat.is_group else "you"
    user = turn.user
    return Reply(
        parts=(
            Text("Welcome to podbrief", "heading"),
            Text(
                f"Every day I pick the 5 most useful insights from new podcast episodes for {who}:"
                " a headline, a short explanation and the exact quote with speaker and time."
            ),
            Text("Tap the topics you care about (you can change them any time):"),
            Buttons(tuple(buttons)),
            Buttons((Button("Done", Action("onboard_done")),)),
            Text(
                f"Your brief comes at {user.delivery_time} ({user.timezone}). Change it with "
                "'time 07:30' and 'timezone Europe/Berlin' (or a city, or share your location).",
                "note",
            ),
        )
    )


async def onboard_done(deps: Deps, turn: Turn) -> Reply:
    """Finish the setup with the first brief at once, not a day later."""
    await _set_user(deps, turn.user.id, onboarded=True)
    user = turn.user
    first = await brief_reply_for(deps, user, turn.message.chat, kind="on_demand")
    intro = Text(
        f"All set. Your daily brief comes at {user.delivery_time} ({user.timezone}); change it "
        "with 'time 07:30' or 'timezone Europe/Berlin'. Here is your first one:"
    )
    return replace(first, parts=(intro, *first.parts), notice="All set")


async def set_time(deps: Deps, turn: Turn) -> Reply:
    raw = turn.intent.arg
    if not raw.strip():
        raise Refusal("When should your brief arrive? Say it like 'time 08:00' or 'time 7pm'.")
    hhmm = time_from_text(raw)
    if hhmm is None:
        raise Refusal(f"“{raw}” isn't a time of day I understand. Try 'time 08:00' or 'time 7pm'.")
    stored = await people.set_delivery_time(deps.sessions, turn.user.id, hhmm)
    return Reply.text(
        f"Your brief will arrive at {stored} ({turn.user.timezone}).", notice=f"Time {stored}"
    )


async def set_timezone(deps: Deps, turn: Turn) -> Reply:
    raw = turn.intent.arg
    if not raw.strip():
        raise Refusal("Which time zone? Say it like 'timezone Europe/Berlin' or 'timezone Tokyo'.")
    zone = timezone_from_text(raw)
    if zone is None:
        raise Refusal(
            f"I don't know the time zone “{raw}”. Use a name like 'Europe/Berlin' or a big city "
            "near you, like 'timezone Berlin', or share your location."
        )
    return await _store_timezone(deps, turn, zone)


async def set_timezone_from_location(deps: Deps, turn: Turn) -> Reply:
    assert turn.message.location is not None
    latitude, longitude = turn.message.location
    zone = await timezone_from_location(latitude, longitude)
    if zone is None:
        raise Refusal(
            "I couldn't find a time zone for that place. Type one instead, like "
            "'timezone Europe/Berlin'."
        )
    return await _store_timezone(deps, turn, zone)


async def _store_timezone(deps: Deps, turn: Turn, zone: str) -> Reply:
    stored = await people.set_timezone(deps.sessions, turn.user.id, zone)
    local = deps.clock.now().astimezone(ZoneInfo(stored))
    return Reply.text(
        f"Time zone set to {stored} (it's {local:%H:%M} there). "
        f"Your brief arrives at {turn.user.delivery_time} local time.",
        notice=f"Time zone {stored}",
    )


async def pause(deps: Deps, turn: Turn) -> Reply:
    await people.pause(deps.sessions, turn.user.id)
    return Reply.text(
        "Paused: no daily briefs until you say 'resume'. You can still ask for 'brief'.",
        notice="Paused",
    )


async def resume(deps: Deps, turn: Turn) -> Reply:
    await people.resume(deps.sessions, turn.user.id)
    return Reply.text(
        f"Resumed: your next brief comes at {turn.user.delivery_time} ({turn.user.timezone}).",
        notice="Resumed",
    )


async def compact(deps: Deps, turn: Turn) -> Reply:
    current = bool((turn.user.settings or {}).get("compact", False))
    arg = turn.intent.arg.lower()
    wanted = (arg == "on") if arg in {"on", "off"} else not current
    await _set_user(deps, turn.user.id, settings={**(turn.user.settings or {}), "compact": wanted})
    if wanted:
        return Reply.text(
            "Briefs and lists of insights now come as one compact message. 'compact off' undoes it."
        )
    return Reply.text(
        "Briefs and lists of insights now come as one message per insight. "
        "'compact on' makes it one."
    )


async def forget(deps: Deps, turn: Turn) -> Reply:
    """Ask first: forgetting deletes this chat's settings, feedback and briefs for good."""
    token = secrets.token_hex(6)
    expires = deps.clock.now() + CONFIRM_TTL
    await save_context(
        deps.sessions,
        turn.message.chat,
        pending={"confirm": "forget", "token": token, "expires": expires.isoformat()},
    )
    return Reply(
        parts=(
            Text(
                "This deletes everything I know about this chat: topics, settings, feedback and "
                "briefs. It can't be undone. Are you sure? (type 'yes' or tap the button)"
            ),
            Buttons(
                (
                    Button("Yes, forget everything", Action("confirm_forget", None, token)),
                    Button("Cancel", Action("cancel")),
                )
            ),
        )
    )


def _pending_forget_token(turn: Turn, now: datetime) -> str | None:
    pending = turn.context.pending
    if pending.get("confirm") != "forget":
        return None
    try:
        expires = datetime.fromisoformat(str(pending.get("expires", "")))
    except ValueError:
        return None
    return str(pending.get("token", "")) if now <= expires else None


async def confirm_forget(deps: Deps, turn: Turn) -> Reply:
    token = _pending_forget_token(turn, deps.clock.now())
    given = turn.message.action.value if turn.message.action else token
    if token is None or not given or not secrets.compare_digest(given, token):
        raise Refusal("That confirmation has expired or isn't for this chat. Say 'forget' again.")
    await people.forget_user(deps.sessions, turn.user.id)
    return Reply.text(
        "Done: I've deleted everything about this chat. Say 'start' if you want to begin again.",
        notice="Forgotten",
    )


def awaiting_confirmation(turn: Turn, now: datetime) -> bool:
    return _pending_forget_token(turn, now) is not None


async def cancel(deps: Deps, turn: Turn) -> Reply:
    if turn.context.pending:
        await save_context(deps.sessions, turn.message.chat, pending={})
        return Reply.text("Cancelled. Nothing was deleted.", notice="Cancelled")
    return Reply.text("Nothing to cancel. Say 'help' to see what I can do.")
