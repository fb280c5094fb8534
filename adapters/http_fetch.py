"""The Fetcher port over httpx: pooled, conditional, size-capped, redirect-checked, SSRF-guarded."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable
from email.utils import formatdate
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from adapters.fetch_guard import AddressRefused, Allowlist, check_address, guarded_transport
from adapters.fetch_guard import literal_address as _literal_address
from core.domain import FetchError, FetchResult

USER_AGENT = "podbrief/0.1 (+https://github.com/podbrief/podbrief)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
REDIRECTS = {301, 302, 303, 307, 308}
PERMANENT = {301, 308}
RETRYABLE_CLIENT_STATUSES = {408, 425, 429}


def describe_size(limit: int) -> str:
    if limit >= 1_000_000:
        return f"{limit / 1_000_000:g} MB"
    if limit >= 1_000:
        return f"{limit / 1_000:g} kB"
    return f"{limit} bytes"


def is_local(url: str) -> bool:
    """A file:// URL or a plain filesystem path (no scheme)."""
    scheme = urlsplit(url).scheme.lower()
    return scheme == "file" or scheme == "" or (len(scheme) == 1 and url[1:2] == ":")


def local_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.scheme.lower() == "file":
        return Path(unquote(parts.path))
    return Path(url).expanduser()


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
        self._trusted: httpx.AsyncClient | None = None
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
        for client in (self._trusted, self._untrusted):
            if client is not None:
                await client.aclose()
        self._trusted = self._untrusted = None

    def _client(self, untrusted: bool) -> httpx.AsyncClient:
        timeout = httpx.Timeout(self.timeout)
        if untrusted:
            if self._untrusted is None:
                self._untrusted = httpx.AsyncClient(
                    transport=guarded_transport(self._allowlist, self._limits),
                    timeout=timeout,
                    headers=self._headers,
                    trust_env=False,
                )
            return self._untrusted
        if self._trusted is None:
            self._trusted = httpx.AsyncClient(
                limits=self._limits, timeout=timeout, headers=self._headers
            )
        return self._trusted

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
        except httpx.TransportError as exc:
            raise FetchError(f"could not connect: {exc or type(exc).__name__}") from None

    async def _fetch_http(
        self, url: str, etag: str | None, last_modified: str | None, limit: int, untrusted: bool
    ) -> FetchResult:
        client = self._client(untrusted)
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
            request = client.build_request("GET", current, headers=conditional)
            response = await client.send(request, stream=True)
            try:
                if response.status_code in REDIRECTS:
                    target = self._redirect_target(response, current)
                    if target in seen:
                        raise FetchError(f"redirect loop at {target}", retryable=False)
                    seen.add(target)
                    still_permanent = still_permanent and response.status_code in PERMANENT
                    if still_permanent:
                        permanent_to = target
                    current = target
                    continue
                return await self._finish(
                    response, current, limit, etag, last_modified, permanent_to
                )
            finally:
                await response.aclose()
        raise FetchError(
            f"too many redirects (more than {self.max_redirects}) from {url}", retryable=False
        )

    def _check_url(self, url: str, untrusted: bool) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() not in {"http", "https"}:
            raise FetchError(f"only http and https URLs are accepted, not {url}", retryable=False)
        if not parts.hostname:
            raise FetchError(f"the URL has no host: {url}", retryable=False)
        literal = _literal_address(parts.hostname)
        if untrusted and literal is not None:
            # Clear error before any connection; the backend checks again at connect time.
            check_address(parts.hostname, literal, self._allowlist)

    @staticmethod
    def _redirect_target(response: httpx.Response, current: str) -> str:
        location: str = response.headers.get("Location", "")
        if not location:
            raise FetchError(
                f"the server answered {response.status_code} without a Location",
                status=response.status_code,
            )
        return str(urljoin(current, location.strip()))

    async def _finish(
        self,
        response: httpx.Response,
        url: str,
        limit: int,
        etag: str | None,
        last_modified: str | None,
        permanent_to: str | None = None,
    ) -> FetchResult:
        status = response.status_code
        if status == 304:
            return FetchResult(
                url=url,
                status=304,
                etag=response.headers.get("ETag") or etag,
                last_modified=response.headers.get("Last-Modified") or last_modified,
                permanent_redirect_to=permanent_to,
            )
        if status >= 400 or status < 200:
            raise FetchError(
                f"the server answered {status} {response.reason_phrase}".strip(),
                status=status,
                retryable=status >= 500 or status in RETRYABLE_CLIENT_STATUSES,
            )
        body = await read_capped(response, limit)
        return FetchResult(
            url=url,
            status=200,
            body=body,
            content_type=response.headers.get("Content-Type"),
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            permanent_redirect_to=permanent_to,
        )


async def read_capped(response: httpx.Response, limit: int) -> bytes:
    """The body, refusing it as soon as it is known to exceed ``limit`` (decoded) bytes."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FetchError(
            f"the response is {describe_size(int(declared))}, over the {describe_size(limit)} "
            "limit",
            retryable=False,
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
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
