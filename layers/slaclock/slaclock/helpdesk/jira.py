"""Jira Service Management (Jira Cloud) webhooks.

Authentication: an admin webhook (Jira settings > System > WebHooks) created with a secret signs the raw
body: ``X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>``
(https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks). Jira signs no
timestamp and retries failed deliveries for a long while, so there is no age check: a replayed request
reproduces the same event ids, which are deduplicated. Senders that cannot sign (a JSM automation rule's
"Send web request") may send the secret as a token instead (``Authorization: Bearer <secret>`` or
``X-Slaclock-Token``); a request carrying ``X-Hub-Signature`` is judged by the signature alone.

Body (https://developer.atlassian.com/cloud/jira/platform/webhooks/): ``webhookEvent``
(``jira:issue_created``, ``jira:issue_updated``, ``jira:issue_deleted``, ``comment_created``),
``timestamp`` (ms), ``issue`` (``id``, ``key``, ``fields``), ``comment``, ``changelog``. Other events
are ignored. The ticket id is the issue key (``SUP-12``); the numeric id is kept as
``custom.jira_issue_id``.

Source options: `users` (accountId -> e-mail, for sites that hide e-mail addresses), `fields`
(canonical field -> Jira field id, e.g. ``{"customer_group": "customfield_10002", "department":
"components"}``; department defaults to ``components``), `custom_fields` (Jira field id -> custom name).

The ticket's subject is the issue's ``fields.summary`` (also in the reduced issue of ``comment_created``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from slaclock.engine.config import Source
from slaclock.engine.events import Event, EventType
from slaclock.helpdesk import PayloadError
from slaclock.helpdesk._common import (
    Headers,
    channel,
    check_hex_signature,
    check_token,
    dig,
    email,
    load_object,
    lookup,
    make_event,
    priority,
    put,
    pydantic_errors,
    scalar,
    source_timezone,
    status,
    subject,
    tag_list,
    text,
    to_instant,
)

SIGNATURE = "X-Hub-Signature"
DELIVERY = "X-Atlassian-Webhook-Identifier"
HANDLED = {"jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "comment_created"}
STATUS_NAMES = {"canceled": "closed", "cancelled": "closed", "declined": "closed", "to_do": "open"}
CATEGORY = {"new": "open", "indeterminate": "open", "done": "solved"}
CANONICAL_STATUSES = {"new", "open", "pending", "on_hold", "solved", "closed"}
DONE = {"solved", "closed"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class _Issue(_Model):
    id: str
    key: str
    fields: dict[str, Any] = {}


class _Webhook(_Model):
    webhookEvent: str  # noqa: N815 - Jira's own name
    timestamp: int | None = None
    issue: _Issue
    comment: dict[str, Any] | None = None
    changelog: dict[str, Any] | None = None


class JiraProvider:
    name = "jira"

    def authenticate(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
        signature = Headers(headers).get(SIGNATURE)
        if signature is None:
            check_token(headers, secret)
            return
        check_hex_signature(signature, secret, body, "sha256", SIGNATURE)

    def delivery_id(self, headers: Mapping[str, str], body: bytes) -> str | None:
        identifier = Headers(headers).get(DELIVERY)
        return f"jira:{identifier}" if identifier else None

    def parse(self, headers: Mapping[str, str], body: bytes, source: Source) -> list[Event]:
        doc = load_object(body)
        if not isinstance(doc.get("webhookEvent"), str):
            raise PayloadError([("webhookEvent", "required: this is not a Jira webhook")])
        if doc["webhookEvent"] not in HANDLED:
            return []
        try:
            hook = _Webhook.model_validate(doc)
        except ValidationError as exc:
            raise PayloadError(pydantic_errors(exc)) from None
        tz = source_timezone(source)
        issue = hook.issue
        fields = _fields(issue, source)
        sent_at = to_instant(hook.timestamp) if hook.timestamp is not None else None
        updated_at = to_instant(issue.fields.get("updated"), tz) or sent_at

        if hook.webhookEvent == "jira:issue_created":
            at = to_instant(issue.fields.get("created"), tz) or sent_at
            return [
                _event(
                    f"jira:{issue.id}:created",
                    issue.key,
                    EventType.CREATED,
                    at,
                    fields,
                    "issue.fields.created",
                )
            ]
        if hook.webhookEvent == "jira:issue_deleted":
            return [
                _event(
                    f"jira:{issue.id}:deleted",
                    issue.key,
                    EventType.DELETED,
                    sent_at or updated_at,
                    fields,
                    "timestamp",
                )
            ]
        if hook.webhookEvent == "comment_created" or (hook.comment and not _items(hook.changelog)):
            if not hook.comment:
                raise PayloadError([("comment", "required for comment_created")])
            return [_comment_event(issue, hook.comment, fields, sent_at, source)]

        ev_type = _update_type(hook.changelog, fields, source)
        changelog_id = text(dig(hook.changelog, "id"))
        event_id = (
            f"jira:{issue.id}:changelog:{changelog_id}"
            if changelog_id
            else f"jira:{issue.id}:{hook.timestamp}"
        )
        return [_event(event_id, issue.key, ev_type, updated_at, fields, "issue.fields.updated")]


def _event(
    event_id: str, key: str, ev_type: EventType, at: datetime | None, fields: dict[str, Any], where: str
) -> Event:
    if at is None:
        raise PayloadError([(where, "required: the instant of the change (or a 'timestamp')")])
    return make_event(event_id, key, ev_type, at, fields)


def _items(changelog: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    items = dig(changelog, "items")
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []


def _comment_event(
    issue: _Issue,
    comment: Mapping[str, Any],
    fields: dict[str, Any],
    sent_at: datetime | None,
    source: Source,
) -> Event:
    comment_id = text(comment.get("id"))
    if comment_id is None:
        raise PayloadError([("comment.id", "required")])
    ev_type = _comment_type(issue, comment, source)
    at = to_instant(comment.get("created"), source_timezone(source)) or sent_at
    if at is None:
        raise PayloadError([("comment.created", "required: the instant of the change (or a 'timestamp')")])
    facts = _comment_facts(comment, ev_type)
    return make_event(f"jira:{issue.id}:comment:{comment_id}", issue.key, ev_type, at, fields, facts)


_ACCOUNT_TYPES = {"atlassian": "agent", "app": "automation", "customer": "customer"}


def _comment_facts(comment: Mapping[str, Any], ev_type: EventType) -> dict[str, Any]:
    """A comment's message facts (`Event.reply`): ``jsdPublic`` (false: internal, seen by agents only;
    https://developer.atlassian.com/cloud/jira/service-desk/rest/api-group-request/#api-rest-servicedeskapi-request-issueidorkey-comment-post)
    and ``author.accountType`` (``app``: an app or automation; ``customer``: a portal customer;
    https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-users/#api-rest-api-3-user-get).
    ``atlassian`` is a person with an Atlassian account: an agent unless `_comment_type` found them to
    be the customer (`ev_type`)."""
    public = comment.get("jsdPublic")
    account = _ACCOUNT_TYPES.get(str(dig(comment, "author.accountType")))
    if account == "agent" and ev_type is EventType.CUSTOMER_REPLIED:
        account = "customer"
    return {"public": public if isinstance(public, bool) else None, "author": account}


def _comment_type(issue: _Issue, comment: Mapping[str, Any], source: Source) -> EventType:
    """Who wrote a comment, on what Jira Cloud really sends.

    A ``comment_created`` webhook carries a reduced issue (id, key and a few fields: no reporter) and,
    on Jira Cloud, no e-mail addresses, so the comment's ``author`` is judged by its account:

    1. an internal comment (``jsdPublic: false``) answers nobody: ``updated``;
    2. ``author.accountType: customer`` (a Jira Service Management portal customer): ``customer_replied``;
    3. the issue's reporter, when the payload names one (``jira:issue_updated`` carries the full
       issue): ``customer_replied``;
    4. the issue's assignee, or an account listed in `options.agents`: ``agent_replied``;
    5. anyone else: ``agent_replied``, unless the source lists its agents (`options.agents`), in which
       case an account not on the list is a customer (sites whose customers have Atlassian accounts);
       an app account (automation) is never taken for the customer.
    """
    author_id = text(dig(comment, "author.accountId"))
    if comment.get("jsdPublic") is False:
        return EventType.UPDATED
    if dig(comment, "author.accountType") == "customer":
        return EventType.CUSTOMER_REPLIED
    if author_id is not None and author_id == text(dig(issue.fields, "reporter.accountId")):
        return EventType.CUSTOMER_REPLIED
    agents = source.options.get("agents") if source.options else None
    if isinstance(agents, str):
        agents = [agents]  # one agent written without brackets
    listed = {str(a) for a in agents} if isinstance(agents, list) else None
    if author_id is not None and (
        author_id == text(dig(issue.fields, "assignee.accountId")) or (listed and author_id in listed)
    ):
        return EventType.AGENT_REPLIED
    customer = listed and dig(comment, "author.accountType") != "app"  # automation is never the customer
    return EventType.CUSTOMER_REPLIED if customer else EventType.AGENT_REPLIED


def _update_type(changelog: Mapping[str, Any] | None, fields: Mapping[str, Any], source: Source) -> EventType:
    """solved/closed when the status moved into a done status; reopened when it left one (by name,
    or because Jira cleared the resolution); else updated."""
    items = _items(changelog)
    changed = {str(item.get("field", "")).lower(): item for item in items}
    if "status" not in changed and "resolution" not in changed:
        return EventType.UPDATED
    after = fields.get("status")
    if after in DONE:
        return EventType.CLOSED if after == "closed" else EventType.SOLVED
    before = (
        status(changed["status"].get("fromString"), source, STATUS_NAMES) if "status" in changed else None
    )
    resolution = changed.get("resolution")
    cleared = (
        resolution is not None
        and text(resolution.get("from") or resolution.get("fromString")) is not None
        and (text(resolution.get("to") or resolution.get("toString")) is None)
    )
    if before in DONE or cleared:
        return EventType.REOPENED
    return EventType.UPDATED


def _jira_value(value: Any) -> Any:
    """A Jira field's display value: option objects give their value/name, lists their first element."""
    if isinstance(value, list):
        return _jira_value(value[0]) if value else None
    if isinstance(value, Mapping):
        for key in ("value", "name", "displayName", "emailAddress", "key"):
            if text(value.get(key)) is not None:
                return text(value.get(key))
        return None
    return scalar(value)


def _person(person: Any, source: Source) -> str | None:
    if not isinstance(person, Mapping):
        return None
    return email(person.get("emailAddress")) or lookup(source, "users", person.get("accountId"))


def _summary(fields: Mapping[str, Any]) -> str | None:
    """The issue's ``summary`` (its title), https://developer.atlassian.com/cloud/jira/platform/webhooks/
    (the issue object); a summary that is not text is a `PayloadError`."""
    errors: list[tuple[str, str]] = []
    found = subject(fields, ("summary",), errors, "issue.fields.")
    if errors:
        raise PayloadError(errors)
    return found


def _fields(issue: _Issue, source: Source) -> dict[str, Any]:
    f = issue.fields
    out: dict[str, Any] = {}
    put(out, "subject", _summary(f))
    custom: dict[str, Any] = {"jira_issue_id": issue.id}
    raw_status = dig(f, "status.name")
    if raw_status is not None:
        override = status(raw_status, source, STATUS_NAMES)
        out["status"] = (
            override
            if override in CANONICAL_STATUSES
            else CATEGORY.get(str(dig(f, "status.statusCategory.key")), override)
        )
        custom["jira_status"] = text(raw_status)
    put(out, "priority", priority(dig(f, "priority.name"), source))
    if "labels" in f:
        out["tags"] = tag_list(f.get("labels")) or []
    if "assignee" in f:
        assignee = f.get("assignee")
        out["assignee"] = _person(assignee, source) if assignee else None
        if assignee and out["assignee"] is None:
            del out["assignee"]
            custom["jira_assignee_account_id"] = text(dig(assignee, "accountId"))
    reporter = f.get("reporter")
    put(out, "requester", _person(reporter, source))
    if isinstance(reporter, Mapping) and "requester" not in out:
        custom["jira_reporter_account_id"] = text(reporter.get("accountId"))  # e-mail hidden, not mapped

    field_ids = {"department": "components"}
    configured = source.options.get("fields") if source.options else None
    if isinstance(configured, Mapping):
        field_ids.update({str(k): str(v) for k, v in configured.items()})
    for name, field_id in field_ids.items():
        if field_id in f:
            value = _jira_value(f.get(field_id))
            if name == "channel":
                value = channel(value, source)
            elif name in ("assignee", "requester"):
                value = email(value)
            put(out, name, value)
    extra = source.options.get("custom_fields") if source.options else None
    if isinstance(extra, Mapping):
        for field_id, custom_name in extra.items():
            if str(field_id) in f:
                custom[str(custom_name)] = _jira_value(f.get(str(field_id)))
    out["custom"] = {k: v for k, v in custom.items() if v is not None}
    return out
