"""Small, platform-neutral formatting helpers."""

from __future__ import annotations


def format_timestamp(seconds: float) -> str:
    """12:34 below an hour, 1:02:03 from an hour on."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
