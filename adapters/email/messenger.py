"""The email ``Messenger``: a brief reply becomes one mail to the recipient's address.

Email is a platform like Telegram or Slack to the delivery engine: the chat id is the
address, and the errors of ``adapters.email.smtp`` tell the engine to retry, stop or give up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from adapters.email.links import MailLinks
from adapters.email.render import MailRenderer
from adapters.email.smtp import SmtpMailer
from core.chat.types import ChatRef, Reply
from core.db import Sessions
from core.delivery.errors import RecipientGone
from core.email.subscriptions import PLATFORM, record_bounce
from core.ports import Clock
from core.signing.links import LinkSigner

SignerSource = Callable[[], Awaitable[LinkSigner]]


class EmailMessenger:
    def __init__(
        self,
        mailer: SmtpMailer,
        signer: SignerSource,
        public_url: str,
        sessions: Sessions,
        clock: Clock,
    ) -> None:
        self.mailer, self._signer, self.public_url = mailer, signer, public_url
        self.sessions, self.clock = sessions, clock

    @property
    def platform(self) -> str:
        return PLATFORM

    async def renderer(self) -> MailRenderer:
        links = MailLinks(await self._signer(), self.public_url)
        return MailRenderer(links, self.mailer.config.sender)

    async def send(self, chat: ChatRef, reply: Reply) -> list[str]:
        address = chat.chat_id
        message = (await self.renderer()).brief(address, reply, self.clock.now())
        try:
            await self.mailer.send(message, address)
        except RecipientGone as exc:
            await record_bounce(self.sessions, address, exc.reason, self.clock.now())
            raise
        return [str(message["Message-ID"])]
