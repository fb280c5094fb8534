"""The conversation engine: neutral messages in, neutral replies out (being built: issue 3)."""

from __future__ import annotations

from core.chat.types import ChatRef, IncomingMessage, Reply


class ConversationEngine:
    """Platform-neutral follow-ups. Adapters translate to/from it and hold no product logic.

    Understands commands and plain English: brief, related #N / "show related insights",
    more from this episode, source #N, topics / follow X / mute X, shows, subscribe URL,
    feedback (up/down #N, more like #N, less about X), search ("anything about pricing?"),
    onboarding (start, topic buttons, time HH:MM, timezone NAME or city or shared location),
    pause, resume, forget (after a confirmation button), help. Button presses arrive as
    ``IncomingMessage.action`` with the ``Action`` the engine itself put on the button.
    """

    async def handle(self, message: IncomingMessage) -> Reply:
        raise NotImplementedError

    async def brief_for(self, chat: ChatRef) -> Reply:
        """Today's brief for a chat (the same one if already composed today)."""
        raise NotImplementedError

    def commands(self) -> list[tuple[str, str]]:
        """(command, description) pairs an adapter can register (setMyCommands, help)."""
        raise NotImplementedError
