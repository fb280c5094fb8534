"""The public pages as Starlette routes on the shared HTTP server (a ``podbrief run`` component).

Each handler asks ``core.web.pages.WebPages`` for plain data and renders a template; it holds
no product logic. Links inside pages are root-relative to ``public_url``'s path; canonical and
Open Graph URLs are absolute.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from jinja2 import Environment
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from adapters.web import structured
from adapters.web.rendered import RENDERED_PAGES, RenderedPage, RenderedPages, etag_of, matches
from adapters.web.security import SecurityHeaders
from adapters.web.templating import build_environment
from core.web.pages import InsightDetail, WebPages, first_sentence, parse_id
from core.web.urls import PageUrls

INVITATION = (
    "Get your free personalized podcast brief. "
    "We scan new podcasts and send you the top 5 insights daily."
)
SITE_DESCRIPTION = "Short, grounded insights from new podcast episodes, each with a verbatim quote."
PAGE_CACHE = "public, max-age=300"
MAX_QUERY = 200
ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]


class SignupForm(Protocol):
    """The signup form the home page embeds (``adapters.web.signup.EmailPages``, when email is
    set up): its template context, and what a response showing it needs (CSRF cookie)."""

    async def signup_form_context(self, request: Request) -> dict[str, Any]: ...

    def finish_form_response(self, request: Request, response: Response) -> None: ...


class WebApp:
    """The page handlers, with the templates compiled once."""

    def __init__(
        self,
        pages: WebPages,
        public_url: str,
        env: Environment | None = None,
        signup: SignupForm | None = None,
        rendered_pages: int = RENDERED_PAGES,
    ) -> None:
        self.pages = pages
        self.rendered = RenderedPages(rendered_pages)
        self.signup = signup
        self.urls = PageUrls(public_url)  # absolute: canonical, Open Graph, sitemap
        self.links = PageUrls(urlsplit(public_url).path)  # root-relative: links between pages
        self.env = env or build_environment()
        self.env.globals.update(links=self.links, invitation=INVITATION, site_name="podbrief")
        self.https = public_url.startswith("https://")
        names = (
            "home", "insight", "episode", "show", "topic", "search", "not_found", "not_allowed",
        )  # fmt: skip
        self.templates = {name: self.env.get_template(f"{name}.html") for name in names}
        self.sitemap_template = self.env.get_template("sitemap.xml")

    def render(self, name: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.templates[name].render(**context)
        headers = {"cache-control": PAGE_CACHE} if status == 200 else {"cache-control": "no-store"}
        return HTMLResponse(html, status_code=status, headers=headers)

    def not_found(self, what: str) -> HTMLResponse:
        return self.render("not_found", status=404, what=what, canonical=None)

    async def error_page(self, request: Request, exc: Exception) -> Response:
        """The page for a request no route takes: an unknown path (404) or method (405)."""
        assert isinstance(exc, HTTPException)  # what error_handlers registers it for
        if exc.status_code != 405:
            return self.not_found("page")
        response = self.render("not_allowed", status=405, method=request.method, canonical=None)
        response.headers.update(exc.headers or {})  # Allow
        return response

    def error_handlers(self) -> Mapping[Any, ErrorHandler]:
        """For the shared server's Starlette app: the pages for unknown paths and methods."""
        return {404: self.error_page, 405: self.error_page}

    def guard(self, app: ASGIApp) -> ASGIApp:
        """``app`` with the security headers on every response (errors included)."""
        return SecurityHeaders(app, https=self.https)

    async def home(self, request: Request) -> Response:
        items = await self.pages.home()
        form = await self.signup.signup_form_context(request) if self.signup else {}
        response = self.render(
            "home",
            items=items,
            canonical=self.urls.home(),
            description=INVITATION,
            jsonld=[structured.website_ld(self.urls),
                    structured.list_ld("Today's best podcast insights", self.urls.home(), items,
                                       self.urls)],
            **form,
        )  # fmt: skip
        if self.signup is not None:
            self.signup.finish_form_response(request, response)
        return response

    async def insight(self, request: Request) -> Response:
        raw = request.path_params["insight_id"]
        insight_id = parse_id(raw)
        detail = await self.pages.insight(insight_id) if insight_id is not None else None
        if detail is None:
            return self.not_found("insight")
        page = self.rendered.get(detail)
        if page is None:
            page = self._render_insight(detail)
            self.rendered.put(page)
        headers = {"cache-control": PAGE_CACHE, "etag": page.etag}
        if matches(request.headers.get("if-none-match", ""), page.etag):
            return Response(status_code=304, headers=headers)
        return Response(page.body, media_type="text/html", headers=headers)

    def _render_insight(self, detail: InsightDetail) -> RenderedPage:
        description = first_sentence(detail.summary.body) or detail.summary.headline
        body = (
            self.templates["insight"]
            .render(
                insight=detail,
                canonical=self.urls.insight(detail.summary.id),
                description=description,
                og_type="article",
                jsonld=[structured.insight_ld(detail, self.urls, description)],
            )
            .encode()
        )
        return RenderedPage(detail, body, etag_of(body))

    async def episode(self, request: Request) -> Response:
        episode_id = parse_id(request.path_params["episode_id"])
        detail = await self.pages.episode(episode_id) if episode_id is not None else None
        if detail is None:
            return self.not_found("episode")
        first = detail.insights[0].headline if detail.insights else detail.show_title
        return self.render(
            "episode",
            episode=detail,
            canonical=self.urls.episode(detail.id),
            description=first_sentence(first),
            jsonld=[structured.episode_ld(detail, self.urls)],
        )

    async def show(self, request: Request) -> Response:
        show_id = parse_id(request.path_params["show_id"])
        detail = await self.pages.show(show_id) if show_id is not None else None
        if detail is None:
            return self.not_found("show")
        return self.render(
            "show",
            show=detail,
            canonical=self.urls.show(detail.id),
            description=first_sentence(detail.description or f"Insights from {detail.title}."),
            jsonld=[structured.show_ld(detail, self.urls)],
        )

    async def topic(self, request: Request) -> Response:
        detail = await self.pages.topic(request.path_params["slug"])
        if detail is None:
            return self.not_found("topic")
        url = self.urls.topic(detail.topic)
        items = list(detail.insights)
        return self.render(
            "topic",
            topic=detail,
            canonical=url,
            description=f"The best recent podcast insights about {detail.topic}.",
            jsonld=[structured.list_ld(f"Insights about {detail.topic}", url, items, self.urls)],
        )

    async def search(self, request: Request) -> Response:
        query = request.query_params.get("q", "")[:MAX_QUERY]
        found = await self.pages.search(query)
        return self.render(
            "search",
            found=found,
            canonical=self.urls.search(),
            description="Search podcast insights.",
            noindex=True,
            jsonld=[structured.website_ld(self.urls)],
        )

    async def sitemap(self, request: Request) -> Response:
        entries = await self.pages.sitemap()
        xml = self.sitemap_template.render(entries=entries, urls=self.urls)
        return Response(xml, media_type="application/xml", headers={"cache-control": PAGE_CACHE})

    async def robots(self, request: Request) -> Response:
        return PlainTextResponse(f"User-agent: *\nAllow: /\nSitemap: {self.urls.sitemap()}\n")

    def routes(self) -> list[BaseRoute]:
        """The pages; serve them with ``guard`` and ``error_handlers`` around (the shared
        server does: ``bot.runtime.serving_on``)."""
        pages = [
            ("/", self.home),
            ("/insights/{insight_id}", self.insight),
            ("/episodes/{episode_id}", self.episode),
            ("/shows/{show_id}", self.show),
            ("/topics/{slug}", self.topic),
            ("/search", self.search),
            ("/sitemap.xml", self.sitemap),
            ("/robots.txt", self.robots),
        ]
        routes: list[BaseRoute] = [
            Route(path, endpoint, methods=["GET"]) for path, endpoint in pages
        ]
        static = StaticFiles(packages=[("adapters.web", "static")])
        routes.append(Mount("/static", app=static, name="static"))
        return routes


class WebComponent:
    """The public pages as a ``podbrief run`` component: routes only, nothing to start."""

    name = "web"

    def __init__(self, app: WebApp) -> None:
        self.app = app

    def routes(self) -> list[BaseRoute]:
        return self.app.routes()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
