"""The domain's vocabulary: the closed lists of words a configuration, a webhook, a report request
and the CLI share. Each list is written here once; every module that checks or offers one of them
imports it from here.

- `PROVIDERS`: the helpdesks a webhook source may name (``sources.<name>.provider``); each has a
  module in `slaclock.helpdesk`.
- `STATUSES`: the canonical ticket statuses every provider's values are normalised to; a source's
  ``options.status_map`` may add its own.
- `CHANNELS`: the canonical channels a rule's ``channel`` condition may test.
- `PERIODS` (`Period`): the report periods of a subscription and of a scheduled report run.
- `GROUP_FIELDS`: what compliance rows may be grouped (and report requests filtered) by.
- `RECORD_FIELDS`: the ticket fields a stored clock record carries (``assignee`` is the SLA log's
  ``agent``): reports group by them, so a record is rewritten when one of them changes.
"""

from __future__ import annotations

from typing import Literal, get_args

PROVIDERS: tuple[str, ...] = ("zendesk", "freshdesk", "liveagent", "intercom", "jira", "helpscout", "generic")
STATUSES: tuple[str, ...] = ("new", "open", "pending", "on_hold", "solved", "closed")
CHANNELS: tuple[str, ...] = ("email", "chat", "phone", "web", "social", "api")
Period = Literal["daily", "weekly", "monthly"]
PERIODS: tuple[str, ...] = get_args(Period)
GROUP_FIELDS: tuple[str, ...] = ("department", "agent", "level", "metric", "agreement")
RECORD_FIELDS: tuple[str, ...] = ("requester", "department", "assignee")
