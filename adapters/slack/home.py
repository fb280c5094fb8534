"""App Home: publish a person's settings and save each change the moment it is made."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from adapters.slack import translate as tr
from adapters.slack.errors import error_code
from adapters.slack.handlers import Ack, UserDirectory
from adapters.slack.home_view import HOME_PREFIX, HomeSettings, home_view, offered
from core.brief.compose import latest_brief
from core.chat.cards import cards_for
from core.db import Sessions
from core.models import User
from core.people import users as people
from core.people.settings import settings_view, subscribed_feeds, topic_preferences

log = logging.getLogger(__name__)
KNOWN_TOPICS_MAX = 60


class AppHome:
    def __init__(self, sessions: Sessions, users: UserDirectory) -> None:
        self.sessions = sessions
        self.users = users

    def register(self, app: AsyncApp) -> None:
        app.event("app_home_opened")(self.on_opened)
        app.action(re.compile("^" + re.escape(HOME_PREFIX)))(self.on_change)

    async def on_opened(self, event: dict[str, Any], body: dict[str, Any], client: Any) -> None:
        if event.get("tab", "home") != "home":
            return
        await self.publish(client, tr.team_of(body), str(event.get("user", "")))

    async def on_change(
        self, ack: Ack, body: dict[str, Any], action: dict[str, Any], client: Any
    ) -> None:
        await ack()
        team = tr.team_of(body)
        user_id = str((body.get("user") or {}).get("id", ""))
        user = await self._user(client, team, user_id)
        name = str(action.get("action_id", "")).removeprefix(HOME_PREFIX)
        try:
            notice = await self._save(user, name, action)
        except people.PeopleError as exc:
            notice = f"Not saved: {exc}"
        await self.publish(client, team, user_id, notice=notice)

    async def publish(
        self, client: Any, team: str, user_id: str, *, notice: str | None = None
    ) -> None:
        user = await self._user(client, team, user_id)
        settings = await self._settings(user)
        try:
            await client.views_publish(user_id=user_id, view=home_view(settings, notice))
        except SlackApiError as exc:
            log.warning("views.publish for %s failed: %s", user_id, error_code(exc))

    async def _user(self, client: Any, team: str, user_id: str) -> User:
        tz, name = await self.users.lookup(client, team, user_id)
        try:
            return await people.get_or_create_user(
                self.sessions, tr.PLATFORM, team, user_id, display_name=name, timezone=tz
            )
        except people.PeopleError:  # a profile time zone we don't know: keep the default
            return await people.get_or_create_user(
                self.sessions, tr.PLATFORM, team, user_id, display_name=name
            )

    async def _save(self, user: User, name: str, action: dict[str, Any]) -> str:
        s, uid = self.sessions, user.id
        if name == "time":
            return f"Delivery time saved: {await people.set_delivery_time(s, uid, _time(action))}."
        if name == "days":
            value = str((action.get("selected_option") or {}).get("value", ""))
            return f"Delivery days saved: {await people.set_days(s, uid, value)}."
        if name == "timezone":
            return f"Time zone saved: {await people.set_timezone(s, uid, _value(action))}."
        if name == "pause":
            paused = action.get("value") == "pause"
            await (people.pause(s, uid) if paused else people.resume(s, uid))
            return "Briefs paused." if paused else "Briefs resumed."
        if name == "add_topic":
            return f"Following {await people.follow_topic(s, uid, _value(action))}."
        if name in ("topics", "muted", "shows"):
            shown = offered(await self._settings(user), name)
            chosen = _selected(action) & shown  # nothing the Home did not offer
            if name == "shows":
                return await self._save_shows(uid, chosen, shown)
            return await self._save_topics(uid, name == "muted", chosen, shown)
        return "Nothing to save."

    async def _save_topics(
        self, user_id: int, muted: bool, chosen: set[str], shown: set[str]
    ) -> str:
        prefs = await topic_preferences(self.sessions, user_id)
        current = prefs["mute" if muted else "follow"]
        for topic in chosen - set(current):
            await (people.mute_topic if muted else people.follow_topic)(
                self.sessions, user_id, topic
            )
        for topic in (set(current) & shown) - chosen:
            await people.unfollow(self.sessions, user_id, topic)
        return "Muted topics saved." if muted else "Topics saved."

    async def _save_shows(self, user_id: int, chosen: set[str], shown: set[str]) -> str:
        current = {str(feed_id) for feed_id in await subscribed_feeds(self.sessions, user_id)}
        for feed_id in chosen - current:
            await people.follow_show(self.sessions, user_id, int(feed_id))
        for feed_id in (current & shown) - chosen:
            await people.unfollow_show(self.sessions, user_id, int(feed_id))
        return "Shows saved."

    async def _settings(self, user: User) -> HomeSettings:
        view = await settings_view(self.sessions, user, known_topics_max=KNOWN_TOPICS_MAX)
        brief = await latest_brief(self.sessions, user.id)
        items = brief.items if brief is not None else []
        cards = await cards_for(
            self.sessions,
            [item.insight_id for item in items],
            positions=[item.position for item in items],
            older=[item.is_older for item in items],
        )
        return HomeSettings(
            timezone=view.timezone,
            delivery_time=view.delivery_time,
            delivery_days=view.delivery_days,
            paused=view.paused,
            followed=view.followed,
            muted=view.muted,
            known_topics=view.known_topics,
            shows=view.shows,
            subscribed=view.subscribed,
            inactive_reason=view.inactive_reason,
            last_brief=tuple(cards),
        )


def _time(action: dict[str, Any]) -> str:
    return str(action.get("selected_time") or "")


def _value(action: dict[str, Any]) -> str:
    return str(action.get("value") or "")


def _selected(action: dict[str, Any]) -> set[str]:
    return {str(o.get("value", "")) for o in action.get("selected_options") or []}
