"""Which of an episode's transcript links to try first.

Order: a link in the episode's language (else the show's) before one of unknown language, before
one in another language; then by type: JSON, WebVTT, SRT, HTML, Markdown, plain text, unknown;
then the feed's own order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from core.transcripts.detect import format_from_mime, format_from_url

TYPE_PREFERENCE = ("json", "vtt", "srt", "html", "markdown", "text")


class LinkLike(Protocol):
    """What selection reads from a ``core.models.TranscriptLink``."""

    @property
    def url(self) -> str: ...

    @property
    def mime_type(self) -> str | None: ...

    @property
    def language(self) -> str | None: ...


L = TypeVar("L", bound=LinkLike)


def primary_language(tag: str | None) -> str | None:
    """'en-US' and 'EN' are both 'en'; empty or missing is None."""
    if not tag or not tag.strip():
        return None
    return tag.strip().replace("_", "-").split("-", 1)[0].casefold()


def link_type(link: LinkLike) -> str | None:
    by_mime = format_from_mime(link.mime_type)
    if by_mime not in (None, "text"):
        return by_mime
    return format_from_url(link.url) or by_mime


def rank_transcript_links(links: Sequence[L], language: str | None) -> list[L]:
    """Every link, best first; ``language`` is the episode's (or the show's) language."""
    wanted = primary_language(language)

    def key(indexed: tuple[int, L]) -> tuple[int, int, int]:
        position, link = indexed
        return (_language_rank(primary_language(link.language), wanted), _type_rank(link), position)

    return [link for _, link in sorted(enumerate(links), key=key)]


def choose_transcript_link(links: Sequence[L], language: str | None) -> L | None:
    ranked = rank_transcript_links(links, language)
    return ranked[0] if ranked else None


def _language_rank(have: str | None, wanted: str | None) -> int:
    if wanted is None or have is None:
        return 1
    return 0 if have == wanted else 2


def _type_rank(link: LinkLike) -> int:
    kind = link_type(link)
    return TYPE_PREFERENCE.index(kind) if kind in TYPE_PREFERENCE else len(TYPE_PREFERENCE)
