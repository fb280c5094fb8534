"""The Jinja2 environment every web template (pages, signup, settings, mail) renders with.

Autoescaping is on for every template, HTML or XML, so every dynamic string is escaped unless
a template marks it safe. Templates compile once and are not re-read (``auto_reload=False``).
"""

from __future__ import annotations

from datetime import datetime

from jinja2 import BaseLoader, ChoiceLoader, Environment, PackageLoader, select_autoescape

from core.chat.format import format_timestamp
from core.web.urls import topic_slug

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def long_date(value: datetime | None) -> str:
    """6 December 2026 (no leading zero); empty for an unknown date. English whatever the
    locale, as the pages are (and cheaper than strftime, seven times a page)."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}" if value is not None else ""


def iso_date(value: datetime | None) -> str:
    return value.date().isoformat() if value is not None else ""


def build_environment(*extra: BaseLoader) -> Environment:
    """Our templates (adapters/web/templates) and any ``extra`` loaders, searched first, so
    another package's templates can extend ``base.html`` and include its partials."""
    env = Environment(
        loader=ChoiceLoader([*extra, PackageLoader("adapters.web", "templates")]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["timestamp"] = format_timestamp
    env.filters["long_date"] = long_date
    env.filters["iso_date"] = iso_date
    env.filters["topic_slug"] = topic_slug
    return env
