"""Turning what people type or share into an IANA time zone and a delivery time."""

from __future__ import annotations

import asyncio
import re
from functools import cache
from zoneinfo import available_timezones

from timezonefinder import TimezoneFinder

# Big cities that are not themselves the name of an IANA zone.
CITY_ALIASES = {
    "san francisco": "America/Los_Angeles", "sf": "America/Los_Angeles",
    "seattle": "America/Los_Angeles", "portland": "America/Los_Angeles",
    "boston": "America/New_York", "washington": "America/New_York", "nyc": "America/New_York",
    "miami": "America/New_York", "atlanta": "America/New_York", "austin": "America/Chicago",
    "dallas": "America/Chicago", "houston": "America/Chicago", "munich": "Europe/Berlin",
    "hamburg": "Europe/Berlin", "frankfurt": "Europe/Berlin", "cologne": "Europe/Berlin",
    "barcelona": "Europe/Madrid", "milan": "Europe/Rome", "geneva": "Europe/Zurich",
    "manchester": "Europe/London", "edinburgh": "Europe/London", "uk": "Europe/London",
    "beijing": "Asia/Shanghai", "delhi": "Asia/Kolkata", "new delhi": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata", "bangalore": "Asia/Kolkata", "bengaluru": "Asia/Kolkata",
    "osaka": "Asia/Tokyo", "kyoto": "Asia/Tokyo", "melbourne": "Australia/Melbourne",
    "canberra": "Australia/Sydney", "montreal": "America/Toronto", "ottawa": "America/Toronto",
    "rio": "America/Sao_Paulo", "rio de janeiro": "America/Sao_Paulo", "utc": "UTC",
    "gmt": "Etc/GMT", "london time": "Europe/London", "tel aviv": "Asia/Jerusalem",
    "st petersburg": "Europe/Moscow", "saint petersburg": "Europe/Moscow",
}  # fmt: skip


@cache
def _zones_by_city() -> dict[str, str]:
    """'berlin' -> 'Europe/Berlin', 'new york' -> 'America/New_York' (canonical zones first)."""
    out: dict[str, str] = {}
    for name in sorted(available_timezones()):
        if "/" not in name or name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/")):
            continue
        city = name.rsplit("/", 1)[1].replace("_", " ").lower()
        out.setdefault(city, name)
    return out


@cache
def _lower_zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def timezone_from_text(text: str) -> str | None:
    """An IANA name ("europe/berlin" too) or a city name ("Berlin", "New York"), else None."""
    cleaned = re.sub(r"\s+", " ", text.strip().strip(".!?\"'")).lower()
    if not cleaned:
        return None
    exact = _lower_zone_names().get(cleaned.replace(" ", "_"))
    if exact:
        return exact
    place = cleaned.split(",")[0].strip()  # "Berlin, Germany" -> "berlin"
    return CITY_ALIASES.get(place) or _zones_by_city().get(place)


@cache
def _finder() -> TimezoneFinder:
    return TimezoneFinder()


async def timezone_from_location(latitude: float, longitude: float) -> str | None:
    """The zone of a shared location (None at sea or for impossible coordinates)."""
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        return None
    return await asyncio.to_thread(lambda: _finder().timezone_at(lng=longitude, lat=latitude))


_CLOCK = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$", re.IGNORECASE)


def time_from_text(text: str) -> str | None:
    """ "08:00", "8", "8am", "7:30 pm", "19.30" -> "HH:MM"; None when it is not a time."""
    match = _CLOCK.match(text.strip().lower().removeprefix("at ").strip())
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    half = (match.group(3) or "").replace(".", "")
    if half and not 1 <= hour <= 12:
        return None
    if half == "pm" and hour != 12:
        hour += 12
    elif half == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59 or (match.group(2) is None and not half and hour > 23):
        return None
    return f"{hour:02d}:{minute:02d}"
