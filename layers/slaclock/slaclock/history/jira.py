"""Jira Service Management issues with their changelog and comments -> canonical events.

Format: issues as the Jira Cloud REST API returns them with ``expand=changelog``
(``GET /rest/api/3/issue/{issueIdOrKey}?expand=changelog``, or a page of
``GET /rest/api/3/search?expand=changelog`` = ``{"issues": [...]}``;
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-get,
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/). An issue is
``{"id", "key", "fields": {...}, "changelog": {"histories": [{"id", "created", "items": [{"field",
"fieldId", "from", "fromString", "to", "toString"}]}]}}``; its comments are the ``comment`` field
(``fields.comment.comments``: ``{"id", "author": {"accountId", "accountType"}, "created", "jsdPublic"}``,
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/). A changelog
paged separately (``GET /rest/api/3/issue/{key}/changelog``: ``{"values": [...]}``) may be put in
``changelog.histories`` before import.

The issue's fields are its state NOW; the state at each earlier moment is rebuilt by undoing the
changelog from the newest history back (status, priority, resolution, labels, assignee, reporter, the
summary (the ticket's subject), and fields named in `options.fields` / `options.custom_fields`, from
each item's ``from``/``fromString``).
Each moment then becomes the document a live Jira webhook would have sent
(https://developer.atlassian.com/cloud/jira/platform/webhooks/): ``jira:issue_created`` with the
first state, ``jira:issue_updated`` with each history as its ``changelog``, ``comment_created`` for
each comment, and goes through `JiraProvider.parse`. The event ids are therefore the webhook's own
(``jira:<issue id>:created``, ``jira:<issue id>:changelog:<history id>``,
``jira:<issue id>:comment:<comment id>``): a history imported after live webhooks adds no duplicate.

A past status known only by name gets its status category when the same name appears as a current
status elsewhere in the import; otherwise `options.status_map` (or the shared table) decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from slaclock.engine.config import Source
from slaclock.engine.events import Event
from slaclock.helpdesk._common import dig, text, to_instant
from slaclock.history import RecordError
from slaclock.history._webhook import parse_as_webhook

BUILT_IN = (
    "status", "priority", "resolution", "labels", "assignee", "reporter", "components", "created", "summary",
)  # fmt: skip


class JiraIssues:
    provider = "jira"
    record_keys = ("issues",)

    def __init__(self) -> None:
        self._categories: dict[str, dict[str, Any]] = {}

    def page(self, doc: Mapping[str, Any]) -> None:
        return None

    def events(self, record: Any, source: Source) -> list[Event]:
        if not isinstance(record, Mapping):
            raise RecordError(f"an issue must be a JSON object, not {type(record).__name__}")
        issue_id, key, fields = text(record.get("id")), text(record.get("key")), record.get("fields")
        if issue_id is None or key is None or not isinstance(fields, Mapping):
            raise RecordError("not a Jira issue: id, key and fields required")
        created = fields.get("created")
        histories, comments = _validated(fields, record)
        wanted = set(BUILT_IN) | _configured_fields(source)
        state = {k: v for k, v in fields.items() if k in wanted}  # _undo replaces values, never edits them
        self._learn_category(state.get("status"))

        # Newest first: the state after each history, then undo it to get the state before.
        ordered = sorted(histories, key=lambda h: (_instant(h.get("created")), _int(h.get("id"))))
        after: list[dict[str, Any]] = [{}] * len(ordered)
        for i in range(len(ordered) - 1, -1, -1):
            after[i] = dict(state)
            self._undo(state, ordered[i])
        initial = state

        issue = {"id": issue_id, "key": key}
        docs: list[dict[str, Any]] = [
            {
                "webhookEvent": "jira:issue_created",
                "issue": {**issue, "fields": {**initial, "created": created, "updated": created}},
            }
        ]
        for h, snapshot in zip(ordered, after, strict=True):
            docs.append(
                {
                    "webhookEvent": "jira:issue_updated",
                    "issue": {**issue, "fields": {**snapshot, "updated": h.get("created")}},
                    "changelog": {"id": h.get("id"), "items": h.get("items") or []},
                }
            )
        moments = [_instant(h.get("created")) for h in ordered]
        for comment in comments:
            at = _instant(comment.get("created"))
            done = sum(1 for m in moments if m <= at)
            snapshot = after[done - 1] if done else initial
            docs.append(
                {
                    "webhookEvent": "comment_created",
                    "issue": {**issue, "fields": snapshot},
                    "comment": dict(comment),
                }
            )
        out: list[Event] = []
        for doc in docs:
            out.extend(parse_as_webhook(self.provider, doc, source))
        return out

    def _learn_category(self, status: Any) -> None:
        """Remember a current status's category, for the same status name met in a changelog."""
        name = text(dig(status, "name"))
        category = dig(status, "statusCategory")
        if name is not None and isinstance(category, Mapping):
            self._categories[name.lower()] = dict(category)

    def _undo(self, state: dict[str, Any], history: Mapping[str, Any]) -> None:
        """Turn the state after `history` into the state before it."""
        items = history.get("items")
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, Mapping):
                continue
            name = str(item.get("fieldId") or item.get("field") or "").lower()
            before, before_id = text(item.get("fromString")), text(item.get("from"))
            if name == "status":
                state["status"] = None if before is None else self._status(before, before_id)
            elif name in ("priority", "resolution"):
                state[name] = None if before is None else {"name": before, "id": before_id}
            elif name == "labels":
                state["labels"] = [] if before is None else before.split()
            elif name in ("assignee", "reporter"):
                state[name] = None if before_id is None else {"accountId": before_id, "displayName": before}
            elif name in state or name.startswith("customfield_"):
                state[name] = before

    def _status(self, name: str, status_id: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"name": name, "id": status_id}
        category = self._categories.get(name.lower())
        if category is not None:
            out["statusCategory"] = category
        return out


def _validated(fields: Mapping[str, Any], record: Mapping[str, Any]) -> tuple[list[Any], list[Any]]:
    """The issue's changelog histories and comments, once every instant in them is readable."""
    created = fields.get("created")
    if to_instant(created) is None:
        raise RecordError(f"fields.created: {created!r} is not an ISO 8601 instant")
    histories = dig(record, "changelog.histories")
    if histories is None:
        histories = []
    if not isinstance(histories, list) or not all(isinstance(h, Mapping) for h in histories):
        raise RecordError("changelog.histories: must be a list of objects")
    for h in histories:
        if to_instant(h.get("created")) is None or text(h.get("id")) is None:
            raise RecordError(f"changelog history {h.get('id')!r}: id and an ISO 8601 'created' required")
    comments = dig(fields, "comment.comments") or []
    if not isinstance(comments, list):
        raise RecordError("fields.comment.comments: must be a list")
    for comment in comments:
        if not isinstance(comment, Mapping) or to_instant(comment.get("created")) is None:
            raise RecordError(f"comment {dig(comment, 'id')!r}: an ISO 8601 'created' required")
    return histories, comments


def _configured_fields(source: Source) -> set[str]:
    options = source.options or {}
    out: set[str] = set()
    for option in ("fields", "custom_fields"):
        table = options.get(option)
        if isinstance(table, Mapping):
            out |= {str(v) for v in table.values()} if option == "fields" else {str(k) for k in table}
    return out


def _instant(value: Any) -> datetime:
    t = to_instant(value)
    assert t is not None
    return t


def _int(value: Any) -> int:
    t = text(value)
    return int(t) if t is not None and t.isdigit() else 0
