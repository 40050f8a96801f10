"""The requester's calendar: a level with ``calendar_from: requester`` counts each ticket's clocks in a
calendar derived from the level's own (docs/clocks.md, "Calendars that follow the ticket").

The derived calendar has the level calendar's opening hours, in the ticket's ``requester_time_zone`` (an
IANA zone), with the public holidays of its ``requester_country`` (ISO 3166 alpha-2, from the
`holidays` package) instead of the level calendar's holidays and closures. Without a valid zone the
level's calendar is used as it is (a missing or unknown zone on a ticket is not an error: the ticket
falls back). With a valid zone and no valid country, the level calendar's holidays and closures stay.

A derived calendar is named ``<calendar>|<zone>|<country>`` (`derived_name`; country empty when none),
which is what ``Clock.calendar`` and the SLA log's ``calendar`` column show. `Calendars` resolves such
names next to the configuration's; it builds each derived calendar on first use and keeps it in
itself (the compiled `Policy` holds one: no process-global state).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from slaclock.engine.calendar.business import BusinessCalendar

REQUESTER = "requester"
"""The ``calendar_from`` value that derives the calendar from the requester's zone and country."""
ZONE_FIELD = "requester_time_zone"
COUNTRY_FIELD = "requester_country"
_SEP = "|"


def _zone(value: Any) -> str | None:
    if not isinstance(value, str) or not value or value.startswith("/") or ".." in value:
        return None
    try:
        return ZoneInfo(value).key
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return None


def _country(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) != 2:
        return None
    code = value.upper()
    return code if code in holidays.list_supported_countries() else None


def derived_name(calendar: str, fields: Mapping[str, Any]) -> str | None:
    """The name of the requester calendar derived from `calendar` for a ticket's `fields`, or None when
    its ``requester_time_zone`` is absent or not an IANA zone (the level's calendar then)."""
    zone = _zone(fields.get(ZONE_FIELD))
    if zone is None:
        return None
    return _SEP.join((calendar, zone, _country(fields.get(COUNTRY_FIELD)) or ""))


def derive(base: BusinessCalendar, zone: str, country: str | None) -> BusinessCalendar:
    """`base`'s opening hours in `zone`, with `country`'s public holidays (None: `base`'s holidays)."""
    doc = base.to_dict()
    doc["timezone"] = zone
    if country is not None:
        doc["holidays"] = {"country": country}
    return BusinessCalendar.from_dict(doc)


class Calendars(Mapping[str, BusinessCalendar]):
    """The configuration's calendars, plus every derived requester calendar (``<calendar>|<zone>|
    <country>``) on lookup, each built once and kept here. Iterating gives the configuration's only."""

    def __init__(self, calendars: Mapping[str, BusinessCalendar]) -> None:
        self._calendars = calendars
        self._derived: dict[str, BusinessCalendar] = {}

    def __getitem__(self, name: str) -> BusinessCalendar:
        found = self._calendars.get(name)
        if found is not None:
            return found
        cal = self._derived.get(name)
        if cal is not None:
            return cal
        parts = name.split(_SEP) if isinstance(name, str) else []
        if len(parts) != 3:
            raise KeyError(name)
        base_name, zone, country = parts
        base = self._calendars.get(base_name)
        if base is None or _zone(zone) != zone or (country and _country(country) != country):
            raise KeyError(name)
        cal = self._derived[name] = derive(base, zone, country or None)
        return cal

    def __iter__(self) -> Iterator[str]:
        return iter(self._calendars)

    def __len__(self) -> int:
        return len(self._calendars)


class Zones(Mapping[str, str]):
    """Calendar name -> IANA zone, for the configuration's calendars and the derived ones (whose name
    holds the zone)."""

    def __init__(self, calendars: Mapping[str, BusinessCalendar]) -> None:
        self._zones = {name: cal.timezone for name, cal in calendars.items()}

    def __getitem__(self, name: str) -> str:
        zone = self._zones.get(name)
        if zone is not None:
            return zone
        parts = name.split(_SEP) if isinstance(name, str) else []
        if len(parts) == 3 and parts[0] in self._zones and _zone(parts[1]) == parts[1]:
            return parts[1]
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._zones)

    def __len__(self) -> int:
        return len(self._zones)
