"""Escaping and cutting text for Slack's mrkdwn and Block Kit limits."""

from __future__ import annotations

SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
CONTEXT_TEXT_MAX = 3000
MESSAGE_BLOCKS_MAX = 50
ACTIONS_ELEMENTS_MAX = 25
FALLBACK_TEXT_MAX = 3000  # notifications show far less; 40,000 is Slack's hard cap


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters.

    ``<`` and ``>`` would otherwise let dynamic text form links or @-mentions
    (``<!channel>``); ``&`` must go first so the entities are not escaped twice.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending in an ellipsis when shortened."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def cut_escaped(text: str, limit: int) -> str:
    """Escape, then cut without splitting an ``&amp;``-style entity."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    shortened = escaped[: max(0, limit - 1)]
    amp = shortened.rfind("&")
    if amp != -1 and ";" not in shortened[amp:]:
        shortened = shortened[:amp]
    return shortened.rstrip() + "…"


def split_text(text: str, limit: int = SECTION_TEXT_MAX) -> list[str]:
    """Split long (already escaped) mrkdwn into chunks of at most ``limit``, at line breaks
    or spaces where possible, never inside an entity."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        split_at = max(window.rfind("\n"), window.rfind(" "))
        if split_at <= limit // 2:
            split_at = limit
        amp = window.rfind("&", 0, split_at)
        if amp != -1 and ";" not in window[amp:split_at]:
            split_at = amp
        chunks.append(rest[:split_at].rstrip())
        rest = rest[split_at:].lstrip()
    if rest or not chunks:
        chunks.append(rest)
    return chunks


def link(url: str, label: str) -> str:
    """A mrkdwn link; the URL's own ``|``/``>`` would break the syntax, so they are encoded."""
    safe_url = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E")
    safe_url = safe_url.replace("|", "%7C")
    return f"<{safe_url}|{escape(label).replace('|', '¦')}>"
