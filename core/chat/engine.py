"""The conversation engine: neutral messages in, neutral replies out."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.chat.context import user_and_context
from core.chat.handlers import brief as brief_h
from core.chat.handlers import feed as feed_h
from core.chat.handlers import help as help_h
from core.chat.handlers import insights as insights_h
from core.chat.handlers import prefs as prefs_h
from core.chat.handlers import settings as settings_h
from core.chat.handlers import shows as shows_h
from core.chat.intents import Intent, IntentRouter, RuleRouter, parse_intent
from core.chat.page_links import with_page_urls
from core.chat.timezones import timezone_from_text
from core.chat.turn import Deps, Handler, Refusal, Turn
from core.chat.types import Action, ChatRef, IncomingMessage, InvalidAction, Reply, Sender
from core.feeds.errors import FeedError
from core.models import User
from core.people import users as people
from core.people.status import reactivate_recipient
from core.ports import Clock, Embedder, Fetcher
from core.search.vectors import VectorLibrary

log = logging.getLogger(__name__)


class Answerer(Protocol):
    """Optional: answers a search question in words (the LLM's, with citations); None leaves
    it to the keyword search."""

    async def answer(self, deps: Deps, turn: Turn) -> Reply | None: ...


HANDLERS: dict[str, Handler] = {
    "start": settings_h.start,
    "onboard_done": settings_h.onboard_done,
    "help": help_h.show_help,
    "brief": brief_h.brief,
    "show_item": insights_h.show_item,
    "related": insights_h.related,
    "more_episode": insights_h.more_from_episode,
    "source": insights_h.source,
    "search": insights_h.search,
    "topics": prefs_h.topics,
    "follow": prefs_h.follow,
    "mute": prefs_h.mute,
    "unfollow": prefs_h.unfollow,
    "unmute": prefs_h.unfollow,
    "up": prefs_h.thumbs_up,
    "down": prefs_h.thumbs_down,
    "more_like": prefs_h.more_like,
    "less_about": prefs_h.less_about,
    "shows": shows_h.shows,
    "subscribe": shows_h.subscribe,
    "time": settings_h.set_time,
    "timezone": settings_h.set_timezone,
    "location": settings_h.set_timezone_from_location,
    "pause": settings_h.pause,
    "resume": settings_h.resume,
    "compact": settings_h.compact,
    "feed": feed_h.feed,
    "feed_reset": feed_h.feed_reset,
    "forget": settings_h.forget,
    "confirm": settings_h.confirm_forget,
    "confirm_forget": settings_h.confirm_forget,
    "cancel": settings_h.cancel,
    "unknown": help_h.not_understood,
}

# In a group only admins change what the whole group gets (what each is about, for the refusal).
ADMIN_ONLY: dict[str, str] = {
    "onboard_done": "finish the setup",
    "follow": "follow topics for this chat",
    "mute": "mute topics for this chat",
    "unfollow": "change this chat's topics",
    "unmute": "change this chat's topics",
    "less_about": "change this chat's topics",
    "subscribe": "add shows",
    "time": "change the delivery time",
    "timezone": "change the time zone",
    "location": "change the time zone",
    "pause": "pause the briefs",
    "resume": "resume the briefs",
    "compact": "change how briefs look",
    "forget": "delete this chat's data",
    "confirm": "delete this chat's data",
    "confirm_forget": "delete this chat's data",
}

# Button actions the engine itself puts on buttons; anything else is forged or stale.
BUTTON_ACTIONS = {
    "related", "source", "up", "down", "more_episode", "follow", "mute", "unmute", "unfollow",
    "onboard_done", "confirm_forget", "cancel", "brief", "topics", "help",
}  # fmt: skip

UNKNOWN_BUTTON = (
    "That button isn't one I recognise (it may be from an old message). "
    "Say 'brief' for today's insights or 'help'."
)
FAILURE = "Sorry, something went wrong on my side. Please try again in a moment."


class ConversationEngine:
    """Platform-neutral follow-ups. Adapters translate to/from it and hold no product logic.

    Understands commands and plain English: brief, related #N / "show related insights",
    more from this episode, source #N, topics / follow X / mute X, shows, subscribe URL,
    feedback (up/down #N, more like #N, less about X), search ("anything about pricing?"),
    onboarding (start, topic buttons, time HH:MM, timezone NAME or city or shared location),
    pause, resume, forget (after a confirmation button), help. Button presses arrive as
    ``IncomingMessage.action`` (or undecoded as ``action_data``) with the ``Action`` the engine
    itself put on the button.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        embedder: Embedder | None = None,
        fetcher: Fetcher | None = None,
        router: IntentRouter | None = None,
        answerer: Answerer | None = None,
        vectors: VectorLibrary | None = None,
        public_url: str = "",
    ) -> None:
        self._deps = Deps(
            sessions=sessions,
            clock=clock,
            embedder=embedder,
            fetcher=fetcher,
            public_url=public_url,
            vectors=vectors,
        )
        self._router = router or RuleRouter()
        self._answerer = answerer
        self._public_url = public_url  # set: cards carry their insight page's URL

    async def handle(self, message: IncomingMessage) -> Reply:
        """Answer one message or button press. Never raises: failures become polite replies."""
        try:
            return with_page_urls(await self._handle(message), self._public_url)
        except Refusal as exc:
            return Reply.text(str(exc), notice=_toast(str(exc)))
        except (people.PeopleError, FeedError) as exc:
            text = _sentence(str(exc))
            return Reply.text(text, notice=_toast(text))
        except Exception:
            log.exception("chat message from %s failed", message.chat)
            return Reply.text(FAILURE, notice="Something went wrong")

    async def brief_for(self, chat: ChatRef, *, kind: str = "daily") -> Reply:
        """Today's brief for a chat (the same one if already composed today)."""
        user = await self._user(chat, Sender(user_id=chat.chat_id), None)
        reply = await brief_h.brief_reply_for(self._deps, user, chat, kind=kind)
        return with_page_urls(reply, self._public_url)

    def commands(self) -> list[tuple[str, str]]:
        """(command, description) pairs an adapter can register (setMyCommands, help)."""
        return list(help_h.COMMANDS)

    async def _handle(self, message: IncomingMessage) -> Reply:
        chat, sender = message.chat, message.sender
        # One read for who is talking and what "#2" means; a chat that talks to us again
        # gets its deliveries back, whatever it says (the platform had refused us).
        known, context = await user_and_context(self._deps.sessions, chat)
        if known is not None and not known.active:
            await self._reachable_again(chat)
        if message.action is None and message.action_data is not None:
            try:
                message = replace(message, action=Action.decode(message.action_data))
            except InvalidAction:
                return Reply.text(UNKNOWN_BUTTON, notice="Unknown button")
        intent = await self._understand(message)
        if intent is None:
            return Reply.text(UNKNOWN_BUTTON, notice="Unknown button")
        if chat.is_group and not sender.is_admin and intent.kind in ADMIN_ONLY:
            return help_h.refused_by_group(ADMIN_ONLY[intent.kind])
        # Made only for a message we understood (a forged button creates nobody).
        user = known or await self._user(chat, sender, message.timezone_hint)
        turn = Turn(message=message, user=user, context=context, intent=intent)
        if intent.kind == "confirm" and not settings_h.awaiting_confirmation(
            turn, self._deps.clock.now()
        ):
            return Reply.text("There is nothing waiting for a yes. Say 'help' for what I can do.")
        if self._answerer is not None and intent.kind == "search":
            answered = await self._answerer.answer(self._deps, turn)
            if answered is not None:
                return answered
        return _as_chosen(await HANDLERS[intent.kind](self._deps, turn), user)

    async def _understand(self, message: IncomingMessage) -> Intent | None:
        """The intent of a message; None for a button the engine never made (forged or old)."""
        if message.action is not None:
            if message.action.name not in BUTTON_ACTIONS:
                return None
            return Intent(message.action.name, arg=message.action.value)
        if message.location is not None:
            return Intent("location")
        text = message.text or ""
        try:
            intent = await self._router.route(text)
        except Exception:  # a remote router failing must not cost the user an answer
            log.warning("intent router failed; using the rules", exc_info=True)
            intent = parse_intent(text)
        if intent.kind not in HANDLERS:
            intent = Intent("unknown", arg=text)
        if intent.kind == "unknown" and _is_place(text):  # "Berlin" typed during onboarding
            return Intent("timezone", arg=text.strip())
        return intent

    async def _reachable_again(self, chat: ChatRef) -> None:
        sessions = self._deps.sessions
        if await reactivate_recipient(sessions, chat.platform, chat.workspace, chat.chat_id):
            log.info("%s chat %s/%s is reachable again", chat.platform, chat.workspace,
                     chat.chat_id)  # fmt: skip

    async def _user(self, chat: ChatRef, sender: Sender, timezone_hint: str | None) -> User:
        hint = timezone_from_text(timezone_hint) if timezone_hint else None
        return await people.get_or_create_user(
            self._deps.sessions,
            chat.platform,
            chat.workspace,
            chat.chat_id,
            kind="group" if chat.is_group else "person",
            display_name=None if chat.is_group else sender.display_name,
            timezone=hint,
        )


def _as_chosen(reply: Reply, user: User) -> Reply:
    """A list of insights (related, search, more from an episode) in the form the chat chose
    for its briefs: one compact message instead of one per card. On Telegram each message to a
    chat takes a second of its pace, so a five-card list would hold the chat's next reply for
    five seconds."""
    if reply.cards and not reply.compact and (user.settings or {}).get("compact"):
        return replace(reply, compact=True)
    return reply


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return FAILURE
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _is_place(text: str) -> bool:
    """A short text that is nothing but a known city or zone name."""
    return len(text.split()) <= 3 and timezone_from_text(text) is not None


def _toast(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "…"
