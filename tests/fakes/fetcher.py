"""A Fetcher that answers from a dict, for tests of code behind the Fetcher port."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.domain import FetchError, FetchResult


@dataclass
class FakeFetcher:
    """``responses`` maps a URL to its body, a full FetchResult, or a FetchError to raise."""

    responses: dict[str, bytes | FetchResult | FetchError] = field(default_factory=dict)
    content_types: dict[str, str] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
        untrusted: bool = False,
    ) -> FetchResult:
        self.calls.append(url)
        answer = self.responses.get(url)
        if answer is None:
            raise FetchError(f"{url} was not found (HTTP 404)", status=404, retryable=False)
        if isinstance(answer, FetchError):
            raise answer
        if isinstance(answer, FetchResult):
            return answer
        if max_bytes is not None and len(answer) > max_bytes:
            raise FetchError(f"{url} is larger than {max_bytes} bytes", retryable=False)
        content_type = self.content_types.get(url)
        return FetchResult(url=url, status=200, body=answer, content_type=content_type)
