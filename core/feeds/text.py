"""HTML show notes to clean plain text."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote"}
    | {"section", "article", "table", "hr", "pre", "dd", "dt"}
)
SKIP_TAGS = frozenset({"script", "style", "head", "title"})
LOOKS_LIKE_HTML = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>")
# Runs of spaces to fold into one, except a lone " " (most of them: replacing each with itself
# took a third of tidying a note).
SPACES = re.compile(r" [ \t\r\f\v\u00a0]+|[\t\r\f\v\u00a0][ \t\r\f\v\u00a0]*")
BLANK_LINES = re.compile(r"\n\s*\n\s*(\n\s*)+")
# Where ``html.unescape`` could find a character reference; a bare "&" (as in "you & me")
# is none.
MAYBE_CHARREF = re.compile(r"&(?:#[0-9xX]|[^\t\n\f <&#;])")
# The tokens of show notes as a regular expression: ingest's hot path (every episode's notes),
# 4x quicker than ``HTMLParser``; the same text on 1,741 of the 1,742 real show notes and
# titles in the shared data (the other has a broken end tag, ``</p&gtgt;``, of which a stray
# "gt;" is left). Text escaped twice gets a second pass through the parser.
_SKIPPED = re.compile(r"<(script|style|head|title)\b[^>]*>.*?</\1\s*>", re.S | re.I)
# Split by, it gives the text before each token, then the token's "/" (a tag's end) and name
# (both None for a comment, CDATA or declaration), then the text after it, and so on.
_TOKEN = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<![^>]*>|<\?[^>]*>|<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>",
    re.S,
)


# Text with none of these needs no work beyond ``strip``: no tag or entity, one line, no run
# of spaces to fold (most titles; checking costs a tenth of tidying them).
_NEEDS_WORK = re.compile(r"[<&\n\t\r\f\v\u00a0]|  ")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP_TAGS:
            self._skipping += 1
        elif tag in BLOCK_TAGS:
            self._newline()
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in BLOCK_TAGS:
            self._newline()

    def _newline(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _strip_once(html: str) -> str:
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return "".join(collector.parts)


def _strip_quickly(html: str) -> str:
    # One split in C, then a look at each tag: a match object per token cost twice as much.
    pieces = _TOKEN.split(_SKIPPED.sub("", html))
    parts = [unescape(pieces[0])] if pieces[0] else []
    for i in range(1, len(pieces), 3):
        name = pieces[i + 1]
        if name is not None:
            tag = name.lower()
            if tag in BLOCK_TAGS and parts and not parts[-1].endswith("\n"):
                parts.append("\n")
            if tag == "li" and not pieces[i]:
                parts.append("- ")
        if pieces[i + 2]:
            parts.append(unescape(pieces[i + 2]))
    return "".join(parts)


def html_to_text(value: str | None) -> str | None:
    """Tags dropped, entities decoded, whitespace tidied; None when nothing is left.

    Runs twice at most because some feeds escape their HTML twice (``&lt;p&gt;``).
    """
    if not value:
        return None
    if not _NEEDS_WORK.search(value):
        return value.strip() or None
    text = value
    maybe_charref = True  # whether ``unescape`` below could change anything
    for strip in (_strip_quickly, _strip_once):
        if not LOOKS_LIKE_HTML.search(text) and "&" not in text:
            break
        if strip is _strip_once and "<" not in text and not MAYBE_CHARREF.search(text):
            # Decoded text with a bare "&" left ("shipping & people"), not text escaped twice:
            # the parser would change nothing, and every such note used to take this pass.
            # Nor would ``unescape``: every reference it decodes starts as MAYBE_CHARREF.
            maybe_charref = False
            break
        text = strip(text)
    if maybe_charref and "&" in text:
        text = unescape(text)
    # SPACES has no line break in it: the whole text at once tidies as line by line.
    joined = "\n".join([line.strip() for line in SPACES.sub(" ", text).split("\n")])
    # Lines stripped of every space ``\s`` matches, so BLANK_LINES needs three line breaks
    # in a row: most notes have none, and the search for them costs less than the pattern.
    tidy = (BLANK_LINES.sub("\n\n", joined) if "\n\n\n" in joined else joined).strip()
    return tidy or None
