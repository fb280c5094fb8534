"""The one error type feed operations raise, its message fit to show a user."""

from __future__ import annotations


class FeedError(Exception):
    """A feed operation failed; ``str(error)`` says why in plain words."""
