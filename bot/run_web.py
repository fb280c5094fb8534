"""The public pages side of `podbrief run` and `podbrief demo`: wiring ``core.web`` to
``adapters.web``."""

from __future__ import annotations

from adapters.web.app import SignupForm, WebApp, WebComponent
from bot.wiring import Services
from core.ports import Embedder
from core.web.pages import WebPages


def web_app(
    services: Services,
    embedder: Embedder | None,
    public_url: str,
    signup: SignupForm | None = None,
) -> WebApp:
    pages = WebPages(services.engine, services.clock, embedder=embedder)
    return WebApp(pages, public_url, signup=signup)


def web_component(
    services: Services, embedder: Embedder | None, signup: SignupForm | None = None
) -> WebComponent | None:
    """The pages, when ``public_url`` is set (else None: no pages); the home page embeds
    ``signup`` (the email signup form) when email is set up."""
    public_url = services.settings.public_url
    if not public_url:
        return None
    return WebComponent(web_app(services, embedder, public_url, signup))
