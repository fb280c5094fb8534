"""The email pages: signup (double opt-in), confirm, settings, feedback and unsubscribe.

Every form carries a CSRF token; every link from a mail is signed for one purpose and one
address. A link only opens a page with a button: mail scanners that fetch links must not
confirm, vote or unsubscribe on someone's behalf. The one exception is the RFC 8058
one-click POST a mail client sends to the List-Unsubscribe URL, which the signed token alone
authorises. Nothing here redirects anywhere a request names (no open redirect).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.email.links import (
    CONFIRM_PATH,
    FEEDBACK_KINDS,
    FEEDBACK_PATH,
    SETTINGS_PATH,
    UNSUBSCRIBE_PATH,
    MailLinks,
)
from adapters.email.render import MailRenderer
from adapters.email.smtp import SmtpMailer
from adapters.web.csrf import csrf_cookie, csrf_field, csrf_ok, set_csrf_cookie
from adapters.web.security import TOKEN_PAGE_HEADERS as SECURITY_HEADERS
from adapters.web.templating import build_environment
from core.chat.cards import load_rows
from core.db import Sessions
from core.delivery.errors import SendError
from core.email.signup import (
    MAX_ADDRESS,
    SIGNUP_TOPICS,
    Signup,
    SignupError,
    clean_time,
    clean_timezone,
    clean_topics,
    parse_signup,
)
from core.email.subscriptions import (
    confirm_signup,
    find_subscriber,
    record_email_feedback,
    unsubscribe,
    update_settings,
)
from core.email.throttle import Limit, allow_signup
from core.ports import Clock
from core.signing.links import LinkError, LinkSigner
from core.web.urls import PageUrls

log = logging.getLogger(__name__)
SignerSource = Callable[[], Awaitable[LinkSigner]]

STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_FORM_BYTES = 32_000  # a signup is a few hundred bytes; anything far bigger is refused
FEEDBACK_WORDS = {
    "up": ("👍", "Mark this insight as useful?", "👍 Useful", "Thanks: more like it."),
    "down": ("👎", "Not for you?", "👎 Not for me", "Thanks: you'll see less like it."),
    "more_like": (
        "More like this",
        "More like this one?",
        "More like this",
        "Got it: more like it.",
    ),
}


@dataclass
class EmailPages:
    sessions: Sessions
    clock: Clock
    signer: SignerSource
    mailer: SmtpMailer
    public_url: str
    limits: tuple[Limit, ...]
    env: Environment = field(default_factory=build_environment)
    secure_cookies: bool = False

    def __post_init__(self) -> None:
        # What base.html reads (as adapters.web.app sets them for the public pages).
        from adapters.web.app import INVITATION

        self.env.globals.setdefault("links", PageUrls(self.public_url))
        self.env.globals.setdefault("invitation", INVITATION)
        self.env.globals.setdefault("site_name", "podbrief")

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/signup", self.signup_page, methods=["GET"]),
            Route("/signup", self.signup_post, methods=["POST"]),
            Route(CONFIRM_PATH, self.confirm_page, methods=["GET"]),
            Route(CONFIRM_PATH, self.confirm_post, methods=["POST"]),
            Route(SETTINGS_PATH, self.settings_page, methods=["GET"]),
            Route(SETTINGS_PATH, self.settings_post, methods=["POST"]),
            Route(UNSUBSCRIBE_PATH, self.unsubscribe_page, methods=["GET"]),
            Route(UNSUBSCRIBE_PATH, self.unsubscribe_post, methods=["POST"]),
            Route(FEEDBACK_PATH, self.feedback_page, methods=["GET"]),
            Route(FEEDBACK_PATH, self.feedback_post, methods=["POST"]),
            Route("/static/timezone.js", self.static_file, methods=["GET"]),
            Route("/static/email.css", self.static_file, methods=["GET"]),
        ]

    # --- rendering ------------------------------------------------------------------------

    def _page(
        self, request: Request, template: str, context: dict[str, Any], status: int = 200
    ) -> HTMLResponse:
        html = self.env.get_template(template).render(context)
        response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
        self.finish_form_response(request, response)
        return response

    def finish_form_response(self, request: Request, response: Response) -> None:
        """A page showing a form: its CSRF cookie (when new) and no caching (the form's
        token is this visitor's)."""
        cookie = request.state.csrf_cookie if hasattr(request.state, "csrf_cookie") else None
        if cookie is not None:
            set_csrf_cookie(response, cookie, secure=self.secure_cookies)
        response.headers["Cache-Control"] = "no-store"

    async def _csrf(self, request: Request) -> str:
        """The CSRF field for a form on this page (sets the cookie when it is new)."""
        cookie, new = csrf_cookie(request)
        if new:
            request.state.csrf_cookie = cookie
        return csrf_field(await self.signer(), cookie, self.clock.now())

    def _message(
        self,
        request: Request,
        title: str,
        *paragraphs: str,
        status: int = 200,
        action: dict[str, str] | None = None,
        links: list[dict[str, str]] | None = None,
    ) -> HTMLResponse:
        context = {
            "title": title,
            "paragraphs": paragraphs,
            "action": action,
            "page_links": links or [],
        }
        return self._page(request, "message.html", context, status)

    def _bad_link(self, request: Request, exc: LinkError, again: str) -> HTMLResponse:
        title = "This link has expired" if exc.expired else "This link is not valid"
        return self._message(
            request,
            title,
            again,
            status=400,
            links=[{"url": "/signup", "label": "Sign up again"}],
        )

    def _csrf_refused(self, request: Request) -> HTMLResponse:
        return self._message(
            request,
            "Please try again",
            "The form was too old or did not come from this site. Reload the page and send it "
            "again.",
            status=403,
        )

    async def _form(self, request: Request) -> FormData | None:
        length = request.headers.get("content-length", "")
        if not length.isdigit() or int(length) > MAX_FORM_BYTES:
            return None
        return await request.form(max_files=0, max_fields=200)

    async def _checked_form(self, request: Request) -> FormData | Response:
        """The posted form of one of our pages, or the page refusing it (too large, or no valid
        CSRF token bound to this visitor's cookie)."""
        form = await self._form(request)
        if form is None:
            return self._message(request, "That was too much", "The form is too large.", status=413)
        if not csrf_ok(await self.signer(), request, str(form.get("csrf", "")), self.clock.now()):
            return self._csrf_refused(request)
        return form

    async def _token(self, purpose: str, token: str) -> dict[str, Any]:
        return (await self.signer()).load(purpose, token, now=self.clock.now())

    # --- signup ---------------------------------------------------------------------------

    async def _signup_context(
        self,
        request: Request,
        *,
        email: str = "",
        chosen: tuple[str, ...] = (),
        delivery_time: str = "08:00",
        timezone: str = "",
        errors: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        return {
            "signup_form": {
                "email": email,
                "topics": SIGNUP_TOPICS,
                "chosen": chosen,
                "delivery_time": delivery_time,
                "timezone": timezone,
                "csrf": await self._csrf(request),
                "errors": errors or {},
            }
        }

    async def signup_form_context(self, request: Request) -> dict[str, Any]:
        """What a page that includes ``signup_form.html`` (e.g. the home page) passes in.
        A response that shows it must set the CSRF cookie: see ``_page``."""
        return await self._signup_context(request)

    async def signup_page(self, request: Request) -> Response:
        return self._page(request, "signup.html", await self._signup_context(request))

    async def signup_post(self, request: Request) -> Response:
        form = await self._checked_form(request)
        if isinstance(form, Response):
            return form
        email = str(form.get("email", ""))
        topics = [str(t) for t in form.getlist("topics")]
        delivery_time, timezone = str(form.get("delivery_time", "")), str(form.get("timezone", ""))
        try:
            signup = parse_signup(email, topics, delivery_time, timezone)
        except SignupError as exc:
            context = await self._signup_context(
                request,
                email=email[:MAX_ADDRESS],
                chosen=tuple(t for t in topics if t in SIGNUP_TOPICS),
                delivery_time=delivery_time[:10],
                timezone=timezone[:64],
                errors={exc.field: str(exc)},
            )
            return self._page(request, "signup.html", context, status=400)
        client = request.client.host if request.client else "unknown"
        secret = (await self.signer()).secret
        now = self.clock.now()
        if not await allow_signup(
            self.sessions, secret, now, client=client, address=signup.address, limits=self.limits
        ):
            return self._message(
                request,
                "Too many signups",
                "Please wait an hour and try again.",
                status=429,
            )
        await self._send_confirmation(signup)
        # The same answer whether or not the address is already subscribed.
        return self._message(
            request,
            "Check your inbox",
            "If the address can receive mail, a confirmation link is on its way. Open it within "
            "48 hours to start your daily brief. Nothing else is sent until you do.",
        )

    async def _send_confirmation(self, signup: Signup) -> None:
        renderer = MailRenderer(
            MailLinks(await self.signer(), self.public_url), self.mailer.config.sender
        )
        message = renderer.confirmation(signup, self.clock.now())
        try:
            await self.mailer.send(message, signup.address)
        except SendError as exc:  # the page must not tell (or wait for) what the server said
            log.warning("confirmation mail not sent: %s", exc)

    async def confirm_page(self, request: Request) -> Response:
        token = request.query_params.get("t", "")
        try:
            signup = Signup.from_payload(await self._token("confirm", token))
        except (LinkError, SignupError) as exc:
            error = exc if isinstance(exc, LinkError) else LinkError("this link is not valid")
            return self._bad_link(request, error, "Confirmation links work for 48 hours.")
        return self._message(
            request,
            "Confirm your daily brief",
            f"Send the brief to {signup.address} every day at {signup.delivery_time} "
            f"({signup.timezone})?",
            action={
                "path": CONFIRM_PATH,
                "token": token,
                "csrf": await self._csrf(request),
                "label": "Yes, start my brief",
            },
        )

    async def confirm_post(self, request: Request) -> Response:
        form = await self._checked_form(request)
        if isinstance(form, Response):
            return form
        try:
            signup = Signup.from_payload(await self._token("confirm", str(form.get("t", ""))))
        except (LinkError, SignupError) as exc:
            error = exc if isinstance(exc, LinkError) else LinkError("this link is not valid")
            return self._bad_link(request, error, "Confirmation links work for 48 hours.")
        now = self.clock.now()
        await confirm_signup(self.sessions, signup, now)
        links = MailLinks(await self.signer(), self.public_url)
        return self._message(
            request,
            "You're subscribed",
            f"Your first brief arrives at {signup.delivery_time} ({signup.timezone}).",
            "Every brief has links to change your settings or unsubscribe.",
            links=[{"url": links.settings(signup.address, now), "label": "Change settings"}],
        )

    # --- settings ---------------------------------------------------------------------------

    async def _address(self, purpose: str, token: str) -> str:
        address = (await self._token(purpose, token)).get("a")
        if not isinstance(address, str) or not address:
            raise LinkError("this link is not valid")
        return address

    async def settings_page(self, request: Request) -> Response:
        token = request.query_params.get("t", "")
        try:
            address = await self._address("settings", token)
        except LinkError as exc:
            return self._bad_link(request, exc, "Open the settings link of a recent brief.")
        return await self._settings(request, address, token)

    async def _settings(
        self,
        request: Request,
        address: str,
        token: str,
        *,
        saved: bool = False,
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        found = await find_subscriber(self.sessions, address)
        if found is None or found.subscription.unsubscribed_at is not None:
            return self._message(
                request,
                "Not subscribed",
                "This address does not get the brief (any more).",
                links=[{"url": "/signup", "label": "Sign up"}],
            )
        links = MailLinks(await self.signer(), self.public_url)
        context = {
            "address": address,
            "topics": SIGNUP_TOPICS,
            "chosen": found.topics,
            "delivery_time": found.user.delivery_time,
            "timezone": found.user.timezone,
            "paused": found.user.paused,
            "token": token,
            "csrf": await self._csrf(request),
            "saved": saved,
            "errors": errors or {},
            "unsubscribe_url": links.unsubscribe(address, self.clock.now()),
        }
        return self._page(request, "email_settings.html", context, status)

    async def settings_post(self, request: Request) -> Response:
        form = await self._checked_form(request)
        if isinstance(form, Response):
            return form
        token = str(form.get("t", ""))
        try:
            address = await self._address("settings", token)
        except LinkError as exc:
            return self._bad_link(request, exc, "Open the settings link of a recent brief.")
        try:
            topics = clean_topics(str(t) for t in form.getlist("topics"))
            delivery_time = clean_time(str(form.get("delivery_time", "")))
            timezone = clean_timezone(str(form.get("timezone", "")))
        except SignupError as exc:
            return await self._settings(
                request, address, token, errors={exc.field: str(exc)}, status=400
            )
        await update_settings(
            self.sessions,
            address,
            topics=topics,
            delivery_time=delivery_time,
            timezone=timezone,
            paused=form.get("paused") == "1",
        )
        return await self._settings(request, address, token, saved=True)

    # --- unsubscribe ------------------------------------------------------------------------

    async def unsubscribe_page(self, request: Request) -> Response:
        token = request.query_params.get("t", "")
        try:
            address = await self._address("unsubscribe", token)
        except LinkError as exc:
            return self._bad_link(request, exc, "Use the unsubscribe link of a recent brief.")
        return self._message(
            request,
            "Unsubscribe",
            f"Stop sending the daily brief to {address}?",
            action={
                "path": UNSUBSCRIBE_PATH,
                "token": token,
                "csrf": await self._csrf(request),
                "label": "Unsubscribe",
            },
        )

    async def unsubscribe_post(self, request: Request) -> Response:
        form = await self._form(request)
        if form is None:
            return PlainTextResponse("too large", status_code=413)
        # RFC 8058: the mail client posts List-Unsubscribe=One-Click to the URL of the header
        # (the token rides in the query); our own button posts the token and a CSRF field.
        one_click = form.get("List-Unsubscribe") == "One-Click"
        token = request.query_params.get("t", "") if one_click else str(form.get("t", ""))
        if not one_click and not csrf_ok(
            await self.signer(), request, str(form.get("csrf", "")), self.clock.now()
        ):
            return self._csrf_refused(request)
        try:
            address = await self._address("unsubscribe", token)
        except LinkError as exc:
            if one_click:
                return PlainTextResponse("invalid or expired link", status_code=400)
            return self._bad_link(request, exc, "Use the unsubscribe link of a recent brief.")
        await unsubscribe(self.sessions, address, self.clock.now())
        if one_click:
            return PlainTextResponse("unsubscribed", headers=SECURITY_HEADERS)
        return self._message(
            request,
            "You're unsubscribed",
            f"No more briefs go to {address}. Sorry to see you go.",
            links=[{"url": "/signup", "label": "Changed your mind? Sign up again"}],
        )

    # --- feedback ---------------------------------------------------------------------------

    async def _feedback(self, token: str) -> tuple[str, int, str]:
        payload = await self._token("feedback", token)
        address, insight_id, kind = payload.get("a"), payload.get("i"), payload.get("k")
        if (
            not isinstance(address, str)
            or not isinstance(insight_id, int)
            or kind not in FEEDBACK_KINDS
        ):
            raise LinkError("this link is not valid")
        return address, insight_id, str(kind)

    async def _headline(self, insight_id: int) -> str | None:
        rows = await load_rows(self.sessions, [insight_id])
        return rows[insight_id].insight.headline if insight_id in rows else None

    async def feedback_page(self, request: Request) -> Response:
        token = request.query_params.get("t", "")
        try:
            _, insight_id, kind = await self._feedback(token)
        except LinkError as exc:
            return self._bad_link(request, exc, "Use the links of a recent brief.")
        headline = await self._headline(insight_id)
        if headline is None:
            return self._message(request, "Gone", "That insight is no longer stored.", status=404)
        _, question, label, _ = FEEDBACK_WORDS[kind]
        return self._message(
            request,
            question,
            f"“{headline}”",
            action={
                "path": FEEDBACK_PATH,
                "token": token,
                "csrf": await self._csrf(request),
                "label": label,
            },
            links=[{"url": f"{self.public_url}/insights/{insight_id}", "label": "Read it"}],
        )

    async def feedback_post(self, request: Request) -> Response:
        form = await self._checked_form(request)
        if isinstance(form, Response):
            return form
        try:
            address, insight_id, kind = await self._feedback(str(form.get("t", "")))
        except LinkError as exc:
            return self._bad_link(request, exc, "Use the links of a recent brief.")
        if await self._headline(insight_id) is None:
            return self._message(request, "Gone", "That insight is no longer stored.", status=404)
        recorded = await record_email_feedback(
            self.sessions, address, insight_id, kind, self.clock.now()
        )
        if not recorded:
            return self._message(request, "Not subscribed", "This address does not get the brief.")
        return self._message(request, FEEDBACK_WORDS[kind][3], "It shapes your next briefs.")

    async def static_file(self, request: Request) -> Response:
        """Our script and stylesheet (external files: the CSP allows no inline ones)."""
        name = request.url.path.rsplit("/", 1)[1]
        media = "text/javascript" if name.endswith(".js") else "text/css"
        headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"}
        return FileResponse(STATIC_DIR / name, media_type=media, headers=headers)


__all__ = ["EmailPages"]
