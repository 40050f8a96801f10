"""`ActionLedger` on the table the notice ledger uses: one item per owed action, claimed with a lease.

Key: the ticket's partition (``T#<ticket>``) and the notice's sort key followed by the action's place
and kind (``N#first_response#1#breach#action-2-slack``), so a step's e-mail and each of its actions
are separate records: an action never waits for, nor repeats, another one or the e-mail.

``claim``: ONE conditional UpdateItem (``SET status = claimed, claimed_until = now + lease, ADD
attempts 1`` when there is no item, or it is not done and its lease has ended); when the condition
fails, a strongly consistent GetItem tells SENT (done) from HELD. ``mark_done``: ``SET status = sent``
with its `outcome` (``sent`` or ``dead_letter``) and the instant; the item expires with the ticket's
other records (`retention`). ``ticket_actions``: every action record of a ticket (one Query), for the
admin API's timeline.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import GetError, QueryError, UpdateError
from pynamodb.models import Model

from slaclock.adapters.dynamodb import (
    NOTICE,
    expires_at,
    failed_condition,
    instant_key,
    model_meta,
    notice_sk,
    reraise,
    ticket_pk,
)
from slaclock.adapters.dynamodb.keys import opt_instant
from slaclock.engine.clocks import Notice
from slaclock.ports import ClaimOutcome


def action_sk(notice: Notice, key: str) -> str:
    """The sort key of the action `key` (``<notice key>#action-<n>-<kind>``) of `notice`."""
    suffix = key.removeprefix(notice.key + "#")
    if suffix == key or not suffix.startswith("action-"):
        raise ValueError(f"{key!r} is not an action key of notice {notice.key!r}")
    return f"{notice_sk(notice)}#{suffix}"


@lru_cache(maxsize=16)
def action_model(table_name: str, region: str | None = None, host: str | None = None) -> Any:
    """The pynamodb model of an action record on `table_name` (built once per table, per container)."""

    class ActionItem(Model):
        Meta = model_meta(table_name, region, host)
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        action_key = UnicodeAttribute(null=True)
        status = UnicodeAttribute(null=True)
        outcome = UnicodeAttribute(null=True)
        claimed_until = UnicodeAttribute(null=True)
        claimed_at = UnicodeAttribute(null=True)
        done_at = UnicodeAttribute(null=True)
        attempts = NumberAttribute(null=True)
        expires_at = NumberAttribute(null=True)

    return ActionItem


class DynamoActionLedger:
    """Implements `slaclock.ports.ActionLedger` (see the module docstring)."""

    def __init__(
        self,
        table_name: str,
        *,
        region: str | None = None,
        host: str | None = None,
        retention: timedelta | None = None,
    ) -> None:
        self.model = action_model(table_name, region, host)
        self.retention = retention

    def _keys(self, notice: Notice, key: str) -> tuple[str, str]:
        return ticket_pk(notice.ticket_id), action_sk(notice, key)

    def claim(self, notice: Notice, key: str, *, now: datetime, lease: timedelta) -> ClaimOutcome:
        n = self.model
        now_key = instant_key(now)
        condition = n.pk.does_not_exist() | ((n.status != "sent") & (n.claimed_until <= now_key))
        actions = [
            n.action_key.set(key),
            n.status.set("claimed"),
            n.claimed_until.set(instant_key(now + lease)),
            n.claimed_at.set(now_key),
            n.attempts.add(1),
        ]
        try:
            n(*self._keys(notice, key)).update(actions=actions, condition=condition)
        except UpdateError as err:
            if not failed_condition(err):
                reraise(err, "claim action")
            stored = self._get(notice, key)
            return ClaimOutcome.SENT if stored is not None and stored.status == "sent" else ClaimOutcome.HELD
        return ClaimOutcome.CLAIMED

    def mark_done(self, notice: Notice, key: str, *, now: datetime, outcome: str) -> None:
        n = self.model
        actions = [
            n.action_key.set(key),
            n.status.set("sent"),
            n.outcome.set(outcome),
            n.done_at.set(instant_key(now)),
        ]
        expiry = expires_at(now, self.retention)
        if expiry is not None:
            actions.append(n.expires_at.set(expiry))
        try:
            n(*self._keys(notice, key)).update(actions=actions)
        except UpdateError as err:
            reraise(err, "mark action done")

    def _get(self, notice: Notice, key: str) -> Any:
        n = self.model
        try:
            return n.get(*self._keys(notice, key), consistent_read=True)
        except n.DoesNotExist:
            return None
        except GetError as err:
            reraise(err, "read action")

    def ticket_actions(self, ticket_id: str) -> list[dict[str, Any]]:
        """Every action record of the ticket (one strongly consistent Query on ``begins_with(sk,
        "N#")``, the notices' records left out), in key order: metric, cycle, step, index (1-based),
        kind (the key's parts), status (claimed | sent), outcome (sent | dead_letter | None),
        claimed_at, done_at, attempts."""
        n = self.model
        out: list[dict[str, Any]] = []
        try:
            for item in n.query(ticket_pk(ticket_id), n.sk.startswith(NOTICE), consistent_read=True):
                parts = item.sk[len(NOTICE) :].split("#", 3)
                if len(parts) != 4 or not parts[3].startswith("action-"):
                    continue  # a notice's own record
                metric, cycle, step, action = parts
                _, index, kind = action.split("-", 2)
                out.append(
                    {
                        "metric": metric, "cycle": int(cycle), "step": step, "index": int(index),
                        "kind": kind, "status": item.status, "outcome": item.outcome,
                        "claimed_at": opt_instant(item.claimed_at), "done_at": opt_instant(item.done_at),
                        "attempts": int(item.attempts or 0),
                    }
                )  # fmt: skip
        except QueryError as err:
            reraise(err, "query actions")
        return out

    def status(self, notice: Notice, key: str) -> dict[str, Any] | None:
        """The stored record of an action (for tests and operators), or None."""
        stored = self._get(notice, key)
        if stored is None:
            return None
        return {
            "status": stored.status,
            "outcome": stored.outcome,
            "attempts": int(stored.attempts or 0),
        }
