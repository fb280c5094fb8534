"""The Fetcher port: pooled, conditional, size-capped, redirect-checked, SSRF-guarded.

Two HTTP clients, one per kind of URL. A chat user's (untrusted) URL goes through httpx with
the SSRF guard in its connection pool (``adapters.fetch_guard``). The operator's feeds go
through aiohttp: ingest fetches every feed of the library, and httpx's connection pool cost
3-5 ms of CPU per request (it re-checks every pooled connection on each request), aiohttp's
0.25 ms; on a 1,000-feed poll that was a tenth of all the work beside parsing.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import getproxies

import httpx

from adapters.fetch_guard import AddressRefused, Allowlist, check_address, guarded_transport
from adapters.fetch_guard import literal_address as _literal_address
from core.domain import FetchError, FetchResult

if TYPE_CHECKING:
    import aiohttp

USER_AGENT = "podbrief/0.1 (+https://github.com/podbrief/podbrief)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
REDIRECTS = {301, 302, 303, 307, 308}
PERMANENT = {301, 308}
RETRYABLE_CLIENT_STATUSES = {408, 425, 429}
# A response's status line and headers as httpx accepts them (h11's limits), not aiohttp's
# smaller defaults (8 kB), so a server with long cookies is read the same way by both.
MAX_HEADER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """One response, whichever client got it: status, headers, then the body in chunks."""

    status: int
    reason: str
    headers: Mapping[str, str]  # case-insensitive in both clients
    chunks: AsyncIterator[bytes]


def describe_size(limit: int) -> str:
    if limit >= 1_000_000:
        return f"{limit / 1_000_000:g} MB"
    if limit >= 1_000:
        return f"{limit / 1_000:g} kB"
    return f"{limit} bytes"


def is_local(url: str) -> bool:
    """A file:// URL or a plain filesystem path (no scheme)."""
    if url.startswith(("https://", "http://")):
        return False  # nearly every feed: not split again for each fetch
    scheme = urlsplit(url).scheme.lower()
    return scheme == "file" or scheme == "" or (len(scheme) == 1 and url[1:2] == ":")


def local_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.scheme.lower() == "file":
        return Path(unquote(parts.path))
    return Path(url).expanduser()


class _NeverRaised(Exception):
    """Stands for aiohttp's errors before aiohttp is loaded: none can have been raised."""


def _aiohttp_client_error() -> type[Exception]:
    """aiohttp's ``ClientError``, once the trusted client has loaded aiohttp."""
    aiohttp = sys.modules.get("aiohttp")
    return _NeverRaised if aiohttp is None else aiohttp.ClientError


class HttpFetcher:
    """Implements ``core.ports.Fetcher``. Clients are created on first use and pooled."""

    def __init__(
        self,
        *,
        timeout: float = 20.0,
        max_bytes: int = 20_000_000,
        max_redirects: int = 5,
        max_connections: int = 20,
        allowlist: Iterable[str] = (),
        user_agent: str = USER_AGENT,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self._limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._allowlist = Allowlist.parse(allowlist)
        self._headers = {"User-Agent": user_agent, "Accept": ACCEPT}
        self._max_connections = max_connections
        self._trusted: aiohttp.ClientSession | None = None
        self._untrusted: httpx.AsyncClient | None = None

    async def __aenter__(self) -> HttpFetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._trusted is not None:
            await self._trusted.close()
        if self._untrusted is not None:
            await self._untrusted.aclose()
        self._trusted = self._untrusted = None

    def _guarded_client(self) -> httpx.AsyncClient:
        if self._untrusted is None:
            self._untrusted = httpx.AsyncClient(
                transport=guarded_transport(self._allowlist, self._limits),
                timeout=httpx.Timeout(self.timeout),
                headers=self._headers,
                trust_env=False,
            )
        return self._untrusted

    def _trusted_client(self) -> aiohttp.ClientSession:
        if self._trusted is None:
            # Imported at the first feed fetch: a command that fetches no feed (most of them)
            # does not pay aiohttp's imports, a fifth of a second of CPU.
            import aiohttp

            self._trusted = aiohttp.ClientSession(
                # The same certificate authorities as httpx's (certifi, or SSL_CERT_FILE).
                connector=aiohttp.TCPConnector(
                    limit=self._max_connections, ssl=httpx.create_ssl_context()
                ),
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=None),  # the whole fetch has its timeout
                # Proxies from the environment, as httpx's client takes them; only when one is
                # set, as aiohttp then looks them (and .netrc) up in a thread for each request.
                trust_env=bool(getproxies()),
                max_line_size=MAX_HEADER_BYTES,
                max_field_size=MAX_HEADER_BYTES,
            )
        return self._trusted

    @asynccontextmanager
    async def _get(
        self, url: str, headers: dict[str, str], untrusted: bool
    ) -> AsyncIterator[Answer]:
        """One GET, no redirect followed; the connection goes back to the pool afterwards."""
        if untrusted:
            client = self._guarded_client()
            request = client.build_request("GET", url, headers=headers)
            response = await client.send(request, stream=True)
            try:
                yield Answer(
                    response.status_code,
                    response.reason_phrase,
                    response.headers,
                    response.aiter_bytes(),
                )
            finally:
                await response.aclose()
            return
        session = self._trusted_client()
        async with session.get(url, headers=headers, allow_redirects=False) as answer:
            yield Answer(
                answer.status, answer.reason or "", answer.headers, answer.content.iter_any()
            )

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
        untrusted: bool = False,
    ) -> FetchResult:
        limit = max_bytes or self.max_bytes
        if is_local(url):
            if untrusted:
                raise FetchError("only http and https URLs are accepted", retryable=False)
            return await asyncio.to_thread(read_local, url, etag, limit)
        try:
            async with asyncio.timeout(self.timeout):
                return await self._fetch_http(url, etag, last_modified, limit, untrusted)
        except TimeoutError:
            raise FetchError(f"timed out after {self.timeout:g} s") from None
        except AddressRefused as exc:
            raise FetchError(str(exc), retryable=False) from None
        except httpx.TimeoutException:
            raise FetchError(f"timed out after {self.timeout:g} s") from None
        except (httpx.TransportError, _aiohttp_client_error()) as exc:
            raise FetchError(f"could not connect: {exc or type(exc).__name__}") from None

    async def _fetch_http(
        self, url: str, etag: str | None, last_modified: str | None, limit: int, untrusted: bool
    ) -> FetchResult:
        conditional = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        seen = {url}
        current = url
        permanent_to: str | None = None
        still_permanent = True
        for _hop in range(self.max_redirects + 1):
            self._check_url(current, untrusted)
            async with self._get(current, conditional, untrusted) as answer:
                if answer.status in REDIRECTS:
                    target = self._redirect_target(answer, current)
                    if target in seen:
                        raise FetchError(f"redirect loop at {target}", retryable=False)
                    seen.add(target)
                    still_permanent = still_permanent and answer.status in PERMANENT
                    if still_permanent:
                        permanent_to = target
                    current = target
                    continue
                return await self._finish(answer, current, limit, etag, last_modified, permanent_to)
        raise FetchError(
            f"too many redirects (more than {self.max_redirects}) from {url}", retryable=False
        )

    def _check_url(self, url: str, untrusted: bool) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() not in {"http", "https"}:
            raise FetchError(f"only http and https URLs are accepted, not {url}", retryable=False)
        if not parts.hostname:
            raise FetchError(f"the URL has no host: {url}", retryable=False)
        if not untrusted:
            return  # an operator's feed: no address is refused
        literal = _literal_address(parts.hostname)
        if literal is not None:
            # Clear error before any connection; the backend checks again at connect time.
            check_address(parts.hostname, literal, self._allowlist)

    @staticmethod
    def _redirect_target(answer: Answer, current: str) -> str:
        location: str = answer.headers.get("Location", "")
        if not location:
            raise FetchError(
                f"the server answered {answer.status} without a Location", status=answer.status
            )
        return str(urljoin(current, location.strip()))

    async def _finish(
        self,
        answer: Answer,
        url: str,
        limit: int,
        etag: str | None,
        last_modified: str | None,
        permanent_to: str | None = None,
    ) -> FetchResult:
        status, headers = answer.status, answer.headers
        if status == 304:
            return FetchResult(
                url=url,
                status=304,
                etag=headers.get("ETag") or etag,
                last_modified=headers.get("Last-Modified") or last_modified,
                permanent_redirect_to=permanent_to,
            )
        if status >= 400 or status < 200:
            raise FetchError(
                f"the server answered {status} {answer.reason}".strip(),
                status=status,
                retryable=status >= 500 or status in RETRYABLE_CLIENT_STATUSES,
            )
        body = await read_capped(answer, limit)
        return FetchResult(
            url=url,
            status=200,
            body=body,
            content_type=headers.get("Content-Type"),
            etag=headers.get("ETag"),
            last_modified=headers.get("Last-Modified"),
            permanent_redirect_to=permanent_to,
        )


async def read_capped(answer: Answer, limit: int) -> bytes:
    """The body, refusing it as soon as it is known to exceed ``limit`` (decoded) bytes."""
    declared = answer.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FetchError(
            f"the response is {describe_size(int(declared))}, over the {describe_size(limit)} "
            "limit",
            retryable=False,
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in answer.chunks:
        size += len(chunk)
        if size > limit:
            raise FetchError(
                f"the response is larger than the {describe_size(limit)} limit", retryable=False
            )
        chunks.append(chunk)
    return b"".join(chunks)


def read_local(url: str, etag: str | None, limit: int) -> FetchResult:
    """A local file, with an ETag from its size and mtime so an unchanged file answers 304."""
    path = local_path(url)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise FetchError(f"no such file: {path}", retryable=False) from None
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror}") from None
    if not path.is_file():
        raise FetchError(f"not a file: {path}", retryable=False)
    uri = path.resolve().as_uri()
    tag = '"' + hashlib.sha1(f"{stat.st_size}-{stat.st_mtime_ns}".encode()).hexdigest() + '"'
    modified = formatdate(stat.st_mtime, usegmt=True)
    if etag == tag:
        return FetchResult(url=uri, status=304, etag=tag, last_modified=modified)
    if stat.st_size > limit:
        raise FetchError(
            f"the file is {describe_size(stat.st_size)}, over the {describe_size(limit)} limit",
            retryable=False,
        )
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror}") from None
    return FetchResult(url=uri, status=200, body=body, etag=tag, last_modified=modified)
