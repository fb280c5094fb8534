"""The one error a transcript parser raises."""

from __future__ import annotations


class TranscriptParseError(ValueError):
    """A transcript could not be read; the message says why in plain words."""
