"""Bolt listeners: Slack commands, messages and button presses go to the conversation engine."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import translate as tr
from adapters.slack.blocks import ACTION_ID_PREFIX, render_reply
from adapters.slack.delivery import PostedMessage, Poster
from adapters.slack.errors import error_code
from core.chat.channels import (
    CHANNEL_HELP,
    ensure_channel,
    handle_channel_command,
    is_channel_command,
)
from core.chat.ids import brief_of_message
from core.chat.types import ChatRef, IncomingMessage, Reply, Text
from core.db import Sessions
from core.delivery.errors import SendError
from core.people.status import reactivate_recipient
from core.ports import ChatEngine

log = logging.getLogger(__name__)

Ack = Callable[..., Awaitable[None]]
Respond = Callable[..., Awaitable[Any]]
SORRY = "Sorry, something went wrong on my side; please try again in a moment."
UNKNOWN_BUTTON = (
    "That button isn't one I recognise (it may be from an old message). "
    "Say 'brief' for today's insights or 'help'."
)


class UserDirectory:
    """Time zones and names from users.info, asked once per person (needs users:read)."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], tuple[str | None, str | None]] = {}

    async def lookup(
        self, client: AsyncWebClient, team_id: str, user_id: str
    ) -> tuple[str | None, str | None]:
        key = (team_id, user_id)
        if key not in self._known:
            try:
                response = await client.users_info(user=user_id)
                user = response.get("user") or {}
                profile = user.get("profile") or {}
                name = profile.get("display_name") or user.get("real_name") or user.get("name")
                self._known[key] = (user.get("tz"), name)
            except SlackApiError as exc:
                log.info("users.info failed for %s: %s", user_id, error_code(exc))
                return None, None
        return self._known[key]


class SlackHandlers:
    """Translate, call the engine, render: the whole adapter, one listener per Slack surface."""

    def __init__(
        self,
        engine: ChatEngine,
        poster: Poster,
        sessions: Sessions,
        *,
        users: UserDirectory | None = None,
        command: str = "/podbrief",
    ) -> None:
        self.engine = engine
        self.poster = poster
        self.sessions = sessions
        self.users = users or UserDirectory()
        self.command = command

    def register(self, app: AsyncApp) -> None:
        app.command(self.command)(self.on_command)
        app.event("message")(self.on_message)
        app.event("app_mention")(self.on_mention)
        app.action(re.compile("^" + re.escape(ACTION_ID_PREFIX)))(self.on_button)

    def register_fallback(self, app: AsyncApp) -> None:
        """A button none of ours (an old app version's, a forged one): a polite word, not the
        error icon Slack shows when nothing acknowledges it."""
        app.action(re.compile(".*"))(self.on_unknown_button)

    async def on_unknown_button(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        await ack()
        action_id = str(((body.get("actions") or [{}])[0]).get("action_id", ""))
        log.info("unknown Slack button %r", action_id[:80])
        await _respond(respond, Reply.text(UNKNOWN_BUTTON))

    # --- the slash command ---------------------------------------------------------------

    async def on_command(
        self, ack: Ack, command: dict[str, Any], client: AsyncWebClient, respond: Respond
    ) -> None:
        await ack()  # within Slack's 3 s; the work follows
        team, user = str(command.get("team_id", "")), str(command.get("user_id", ""))
        channel = str(command.get("channel_id", ""))
        text = tr.unescape(tr.plain_links(str(command.get("text") or ""))).strip() or "help"
        tz, name = await self.users.lookup(client, team, user)
        if is_channel_command(text):
            chat = tr.chat_for(team, channel, user, None)
            await self._talking(chat)
            reply = await handle_channel_command(self.sessions, chat, text, timezone_hint=tz)
            await _respond(respond, reply)
            return
        chat = tr.person_chat(team, user)  # the engine lifts an "unreachable" mark
        message = IncomingMessage(chat, tr.sender(user, name), text, timezone_hint=tz)
        reply = await self._ask(message)
        if text.lower() == "help":  # Slack's own extra: team briefs for a channel
            reply = replace(reply, parts=(*reply.parts, Text(CHANNEL_HELP, "note")))
        if tr.is_dm(channel):
            await self._post(client, chat, reply, channel=channel)
        elif reply.cards or reply.brief_id is not None:
            # Briefs go to the person's DM, to be followed up in a thread there.
            await self._post(client, chat, reply, channel=user)
            await _respond(respond, Reply.text("Sent to our DM (Apps › podbrief)."))
        else:
            await _respond(respond, reply)

    # --- messages: DMs, threads and @mentions -------------------------------------------

    async def on_message(self, event: dict[str, Any], body: dict[str, Any], client: Any) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id"):
            return  # channel chatter is not for us unless it @mentions the app
        if event.get("subtype") not in (None, "file_share"):
            return  # edits, deletions, joins: nothing was said to us
        await self._on_text(event, body, client)

    async def on_mention(self, event: dict[str, Any], body: dict[str, Any], client: Any) -> None:
        await self._on_text(event, body, client)

    async def _on_text(self, event: dict[str, Any], body: dict[str, Any], client: Any) -> None:
        team = tr.team_of(body) or str(event.get("team") or "")  # the installed workspace
        user, channel = str(event.get("user", "")), str(event.get("channel", ""))
        thread = event.get("thread_ts")
        text = tr.message_text(str(event.get("text") or ""))
        if not user or not (text or event.get("subtype") == "file_share"):
            return  # a bare file still gets an answer: what we do understand
        tz, name = await self.users.lookup(client, team, user)
        chat = tr.chat_for(team, channel, user, thread)
        await ensure_channel(self.sessions, chat)
        if is_channel_command(text) and chat.is_group:
            await self._talking(chat)  # elsewhere the engine lifts an "unreachable" mark
            reply = await handle_channel_command(self.sessions, chat, text, timezone_hint=tz)
        else:
            message = IncomingMessage(
                chat,
                tr.sender(user, name),
                text,
                reply_to_brief_id=await self._brief_of(chat, thread),
                timezone_hint=tz,
            )
            reply = await self._ask(message)
        await self._post(client, chat, reply, channel=channel, thread_ts=thread)

    # --- buttons ---------------------------------------------------------------------------

    async def on_button(
        self,
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        client: Any,
        respond: Respond,
    ) -> None:
        await ack()  # acknowledged at once; the engine works after
        origin = tr.action_origin(body)
        if not origin.channel_id:  # a card on the App Home: answer in the DM
            origin = tr.ActionOrigin(origin.team_id, origin.user_id, origin.user_id, None, None)
        if origin.ephemeral:  # only the presser sees it: it is theirs, and so is the answer
            chat = tr.person_chat(origin.team_id, origin.user_id)
        else:
            chat = tr.chat_for(origin.team_id, origin.channel_id, origin.user_id, origin.thread_ts)
        await ensure_channel(self.sessions, chat)
        message = IncomingMessage(  # the engine lifts an "unreachable" mark
            chat,
            tr.sender(origin.user_id),
            # Undecoded: the engine answers a forged or stale payload politely.
            action_data=str(action.get("value", "")),
            reply_to_brief_id=await self._brief_of(chat, origin.thread_ts),
        )
        reply = await self._ask(message)
        if origin.ephemeral:
            await _respond(respond, reply if reply.parts else Reply.text(reply.notice or "Done."))
        elif reply.parts:
            thread = _answer_thread(origin, reply)
            where = replace(chat, thread_id=thread)
            await self._post(client, where, reply, channel=origin.channel_id, thread_ts=thread)
        elif reply.notice:  # Slack has no toast: a note only the presser sees
            await self._ephemeral(
                client,
                origin.channel_id,
                origin.user_id,
                Reply.text(reply.notice),
                thread_ts=origin.thread_ts,
            )

    # --- helpers ---------------------------------------------------------------------------

    async def _ask(self, message: IncomingMessage) -> Reply:
        try:
            reply = await self.engine.handle(message)
        except Exception:
            log.exception("the conversation engine failed on a Slack message")
            return Reply.text(SORRY)
        if not reply.parts and reply.notice and message.action_data is None:
            # A typed message deserves a visible answer even when the engine only has a toast.
            return Reply.text(reply.notice)
        return reply

    async def _post(
        self,
        client: AsyncWebClient,
        chat: ChatRef,
        reply: Reply,
        *,
        channel: str,
        thread_ts: str | None = None,
    ) -> list[PostedMessage]:
        if not reply.parts:
            return []
        try:
            posted = await self.poster.post(
                client, chat, reply, channel=channel, thread_ts=thread_ts
            )
        except (SlackApiError, SendError) as exc:
            log.warning("could not answer in %s: %s", channel, exc)
            return []
        return posted

    async def _talking(self, chat: ChatRef) -> None:
        """Someone reached us from this chat: a pause Slack's refusal put on it is lifted (the
        next delivery tries again once; a refusal pauses it again, no retry storm)."""
        if await reactivate_recipient(self.sessions, chat.platform, chat.workspace, chat.chat_id):
            log.info("slack chat %s/%s is reachable again", chat.workspace, chat.chat_id)

    async def _brief_of(self, chat: ChatRef, thread_ts: str | None) -> int | None:
        """The brief a thread hangs off, if its parent message showed one."""
        if not thread_ts:
            return None
        return await brief_of_message(self.sessions, chat, thread_ts)

    async def _ephemeral(
        self,
        client: AsyncWebClient,
        channel: str,
        user: str,
        reply: Reply,
        *,
        thread_ts: str | None = None,
    ) -> None:
        for message in render_reply(reply):
            try:
                await client.chat_postEphemeral(
                    channel=channel,
                    user=user,
                    text=message.text,
                    blocks=message.blocks,
                    thread_ts=thread_ts,
                )
            except SlackApiError as exc:
                log.info("ephemeral to %s failed: %s", channel, error_code(exc))
                return


def _answer_thread(origin: tr.ActionOrigin, reply: Reply) -> str | None:
    """Follow-ups to a message stay in its thread; a brief (onboarding's Done, "Today's brief")
    pressed on a top-level message is a message of its own, with its own thread."""
    if reply.brief_id is not None and not origin.in_thread:
        return None
    return origin.thread_ts


async def _respond(respond: Respond, reply: Reply) -> None:
    """An ephemeral answer through the command's response_url (works in any channel)."""
    for message in render_reply(reply):
        try:
            await respond(text=message.text, blocks=message.blocks, response_type="ephemeral")
        except Exception as exc:  # the response_url expired or Slack is unreachable
            log.info("response_url answer failed: %s", exc)
            return
