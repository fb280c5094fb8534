"""Why an extractor wrote nothing for an episode, in words the episode's status can show."""

from __future__ import annotations


class ExtractionSkipped(Exception):
    """The engine cannot read this episode (e.g. the offline engine and a non-English
    transcript). The message is the plain-words reason stored as the episode's status note."""
