"""Email and brief feeds in `podbrief run`: the email platform (on when PODBRIEF_SMTP_HOST is
set) with its signup pages, and the private Atom feeds of every recipient."""

from __future__ import annotations

from datetime import timedelta

from starlette.routing import BaseRoute

from adapters.email.messenger import EmailMessenger
from adapters.email.smtp import SmtpConfig, SmtpMailer
from adapters.web.feeds import BriefFeedPages
from adapters.web.signup import EmailPages
from bot.wiring import Services, public_url_of
from core.email.throttle import Limit
from core.signing.keys import stored_secret
from core.signing.links import LinkSigner


class SmtpConfigError(ValueError):
    """Email is switched on but not set up completely; the message says what is missing."""


def smtp_config(services: Services) -> SmtpConfig | None:
    s = services.settings
    if not s.smtp_host:
        return None
    if not s.smtp_sender:
        raise SmtpConfigError("set PODBRIEF_SMTP_SENDER (the From address) with PODBRIEF_SMTP_HOST")
    return SmtpConfig(
        host=s.smtp_host,
        port=s.smtp_port,
        security=s.smtp_security,
        user=s.smtp_user,
        password=services.secrets.smtp_password or "",
        sender=s.smtp_sender,
        timeout=s.smtp_timeout_seconds,
        ca_file=s.smtp_ca_file,
    )


class Signers:
    """The link signer, its key read (or made) once on first use."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._signer: LinkSigner | None = None

    async def __call__(self) -> LinkSigner:
        if self._signer is None:
            key = self.services.secrets.secret_key or await stored_secret(self.services.sessions)
            self._signer = LinkSigner(key)
        return self._signer


class EmailService:
    """The email platform: a ``Messenger`` for the delivery engine and the signup pages."""

    name = "email"

    def __init__(self, services: Services, config: SmtpConfig) -> None:
        settings = services.settings
        public_url = public_url_of(settings)
        signers = Signers(services)
        mailer = SmtpMailer(config)
        self.messenger = EmailMessenger(
            mailer, signers, public_url, services.sessions, services.clock
        )
        self.pages = EmailPages(
            sessions=services.sessions,
            clock=services.clock,
            signer=signers,
            mailer=mailer,
            public_url=public_url,
            limits=(
                Limit("client", settings.signup_limit_per_client, timedelta(hours=1)),
                Limit("address", settings.signup_limit_per_address, timedelta(hours=1)),
            ),
            secure_cookies=public_url.startswith("https://"),
        )

    def routes(self) -> list[BaseRoute]:
        return self.pages.routes()

    async def start(self) -> None:
        await self.messenger.renderer()  # reads (or makes) the signing key before any mail

    async def stop(self) -> None:
        return None


class BriefFeedService:
    """The private Atom feeds: on in every `podbrief run` that receives requests."""

    name = "brief feeds"

    def __init__(self, services: Services) -> None:
        self.pages = BriefFeedPages(
            services.sessions, services.clock, public_url_of(services.settings)
        )

    def routes(self) -> list[BaseRoute]:
        return self.pages.routes()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def email_component(services: Services) -> EmailService | None:
    config = smtp_config(services)
    return EmailService(services, config) if config is not None else None
