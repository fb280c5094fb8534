"""HTML checks every page must pass: strict HTML5 parsing and an accessibility smoke test."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import html5lib

FIELDS = {"input", "select", "textarea"}
UNLABELLED_INPUTS = {"hidden", "submit", "button", "reset", "image"}


def assert_valid_html(text: str) -> None:
    """html5lib in strict mode raises on the first parse error (a stray tag, a bad entity...)."""
    html5lib.HTMLParser(strict=True).parse(text)


@dataclass
class _Outline(HTMLParser):
    headings: list[int] = field(default_factory=list)
    images_without_alt: list[str] = field(default_factory=list)
    fields: list[dict[str, str]] = field(default_factory=list)
    label_for: set[str] = field(default_factory=set)
    label_depth: int = 0
    wrapped: int = 0  # fields inside a <label>
    html_lang: str | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.html_lang = a.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "img" and not a.get("alt", "").strip():
            self.images_without_alt.append(a.get("src", "?"))
        if tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        if tag in FIELDS and a.get("type", "text") not in UNLABELLED_INPUTS:
            a["_wrapped"] = "1" if self.label_depth else ""
            self.fields.append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth = max(0, self.label_depth - 1)


def assert_accessible(text: str) -> None:
    """Every image has alt text, every form field a label, headings start at one h1 and never
    skip a level going down, and the page says its language."""
    outline = _Outline()
    outline.feed(text)
    assert outline.html_lang, "<html> has no lang"
    assert not outline.images_without_alt, f"images without alt: {outline.images_without_alt}"
    for f in outline.fields:
        labelled = (
            f.get("_wrapped")
            or f.get("id", "") in outline.label_for
            or f.get("aria-label")
            or f.get("aria-labelledby")
        )
        assert labelled, f"form field without a label: {f}"
    levels = outline.headings
    assert levels and levels[0] == 1, f"the first heading is not an h1: {levels}"
    assert levels.count(1) == 1, f"more than one h1: {levels}"
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, f"heading level skipped: h{before} then h{after} in {levels}"


def assert_page_ok(text: str) -> None:
    assert_valid_html(text)
    assert_accessible(text)
