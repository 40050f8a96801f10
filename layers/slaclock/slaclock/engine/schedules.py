"""Pure per-ticket check schedules: the arming rule, the `at()` expression and the schedule name
(EventBridge Scheduler one-time schedules). No AWS, no clock: every instant is a parameter.

- `round_up_to_minute(t)`: the service fires a one-time schedule anywhere within its minute and must
  never fire early, so an instant is armed at the NEXT whole minute (a whole minute stays as it is).
- `at_expression(t)`: the schedule expression ``at(yyyy-mm-ddThh:mm:ss)``, in UTC (the adapter sets
  ``ScheduleExpressionTimezone: UTC``).
- `schedule_name(ticket_id)`: a name valid under the service's rules (1-64 characters of
  ``[0-9A-Za-z-_.]``) for ANY ticket id, distinct for distinct ids: ``t-<readable prefix>-<hash>``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Final

__all__ = ["SCHEDULE_NAME_RE", "at_expression", "round_up_to_minute", "schedule_name"]

#: The service's rule for a schedule name.
SCHEDULE_NAME_RE: Final = re.compile(r"[0-9A-Za-z\-_.]{1,64}")
_UNSAFE: Final = re.compile(r"[^0-9A-Za-z\-_.]")
_PREFIX_CHARS: Final = 40
_HASH_CHARS: Final = 20  # 80 bits of SHA-256: no collision in any realistic helpdesk


def round_up_to_minute(t: datetime) -> datetime:
    """The first whole UTC minute at or after `t` (aware). ``15:45:00`` stays; ``15:45:00.000001``
    becomes ``15:46:00``. Raises ValueError for a naive datetime (it names no instant)."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{t.isoformat()} is naive: pass an aware datetime")
    u = t.astimezone(UTC)
    floor = u.replace(second=0, microsecond=0)
    return floor if floor == u else floor + timedelta(minutes=1)


def at_expression(t: datetime) -> str:
    """``at(2026-11-20T15:46:00)`` for `t` rounded up to the whole UTC minute (never early)."""
    return "at(" + round_up_to_minute(t).strftime("%Y-%m-%dT%H:%M:%S") + ")"


def schedule_name(ticket_id: str) -> str:
    """The schedule name of a ticket: ``t-`` + up to 40 characters of the id with every character
    outside ``[0-9A-Za-z-_.]`` replaced by ``_`` + ``-`` + 20 hex digits of the SHA-256 of the id
    (UTF-8, lone surrogates kept). At most 63 characters; equal only for equal ids (up to a hash
    collision, ~2**-80)."""
    digest = hashlib.sha256(ticket_id.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]
    readable = _UNSAFE.sub("_", ticket_id[:_PREFIX_CHARS])
    return f"t-{readable}-{digest}"
