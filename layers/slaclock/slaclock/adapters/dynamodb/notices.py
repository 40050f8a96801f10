"""The notice ledger: one item per notice, claimed with a lease, marked sent once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import GetError, QueryError, UpdateError

from slaclock.adapters.dynamodb.keys import NOTICE, expires_at, instant_key, notice_sk, opt_instant, ticket_pk
from slaclock.adapters.dynamodb.models import failed_condition, reraise, table_models
from slaclock.engine.clocks import Notice
from slaclock.ports import ClaimOutcome


class DynamoNoticeLedger:
    """Implements `slaclock.ports.NoticeLedger` with one item per notice and a lease.

    ``claim``: ONE conditional UpdateItem ``SET status = claimed, claimed_until = now + lease, ADD
    attempts 1`` if the item does not exist, or is not ``sent`` and its lease has ended
    (``claimed_until <= now``). When the condition fails, a strongly consistent GetItem tells SENT
    from HELD. ``mark_sent``: ``SET status = sent, sent_at`` (idempotent). So:

    - two checks racing for one notice: exactly one gets CLAIMED (DynamoDB serialises the writes);
    - a sender that dies, or whose e-mail fails, before `mark_sent` leaves the notice claimed: once
      its lease ends the next check/sweep claims it again and sends it (retried, not lost);
    - the one window for a duplicate is a death between SES accepting the e-mail and `mark_sent`.

    ``mark_delivered``: ``ADD delivered :addresses`` (a string set, lower-cased): the recipients of a
    notice split into several messages that already got it, read back by ``delivered`` (one strongly
    consistent GetItem, asked only for a notice with more recipients than one message carries).
    """

    def __init__(
        self,
        table_name: str,
        *,
        region: str | None = None,
        host: str | None = None,
        retention: timedelta | None = None,
    ) -> None:
        self.models = table_models(table_name, region, host)
        self.retention = retention

    def _item(self, notice: Notice) -> Any:
        return self.models.notice(ticket_pk(notice.ticket_id), notice_sk(notice))

    def claim(self, notice: Notice, *, now: datetime, lease: timedelta) -> ClaimOutcome:
        n = self.models.notice
        now_key = instant_key(now)
        condition = n.pk.does_not_exist() | ((n.status != "sent") & (n.claimed_until <= now_key))
        actions = [
            n.notice_key.set(notice.key),
            n.status.set("claimed"),
            n.claimed_until.set(instant_key(now + lease)),
            n.claimed_at.set(now_key),
            n.attempts.add(1),
        ]
        try:
            self._item(notice).update(actions=actions, condition=condition)
        except UpdateError as err:
            if not failed_condition(err):
                reraise(err, "claim notice")
            return self._outcome_of(notice)
        return ClaimOutcome.CLAIMED

    def _outcome_of(self, notice: Notice) -> ClaimOutcome:
        n = self.models.notice
        try:
            stored = n.get(ticket_pk(notice.ticket_id), notice_sk(notice), consistent_read=True)
        except n.DoesNotExist:  # deleted between the two calls: nobody holds it
            return ClaimOutcome.HELD
        except GetError as err:
            reraise(err, "read notice")
        return ClaimOutcome.SENT if stored.status == "sent" else ClaimOutcome.HELD

    def mark_sent(self, notice: Notice, *, now: datetime) -> None:
        n = self.models.notice
        actions = [n.notice_key.set(notice.key), n.status.set("sent"), n.sent_at.set(instant_key(now))]
        expiry = expires_at(now, self.retention)
        if expiry is not None:
            actions.append(n.expires_at.set(expiry))
        try:
            self._item(notice).update(actions=actions)
        except UpdateError as err:
            reraise(err, "mark notice sent")

    def mark_delivered(self, notice: Notice, addresses: Iterable[str]) -> None:
        n = self.models.notice
        given = {a.strip().lower() for a in addresses if a.strip()}
        if not given:
            return
        try:
            self._item(notice).update(actions=[n.notice_key.set(notice.key), n.delivered.add(given)])
        except UpdateError as err:
            reraise(err, "record notice recipients")

    def delivered(self, notice: Notice) -> frozenset[str]:
        n = self.models.notice
        try:
            stored = n.get(ticket_pk(notice.ticket_id), notice_sk(notice), consistent_read=True)
        except n.DoesNotExist:
            return frozenset()
        except GetError as err:
            reraise(err, "read notice")
        return frozenset(stored.delivered or ())

    def ticket_notices(self, ticket_id: str) -> list[dict[str, Any]]:
        """Every notice record of the ticket (one Query on ``begins_with(sk, "N#")``, the action
        ledger's records under the same prefix left out), in key order: metric, cycle, step (the key's
        parts), status (claimed | sent), claimed_at, sent_at, attempts."""
        n = self.models.notice
        out: list[dict[str, Any]] = []
        try:
            for item in n.query(ticket_pk(ticket_id), n.sk.startswith(NOTICE), consistent_read=True):
                metric, cycle, step = item.sk[len(NOTICE) :].split("#", 2)
                if "#" in step:
                    continue  # an action's record (``<step>#action-<n>-<kind>``, `DynamoActionLedger`)
                out.append(
                    {
                        "metric": metric, "cycle": int(cycle), "step": step, "status": item.status,
                        "claimed_at": opt_instant(item.claimed_at), "sent_at": opt_instant(item.sent_at),
                        "attempts": int(item.attempts or 0),
                    }
                )  # fmt: skip
        except QueryError as err:
            reraise(err, "query notices")
        return out

    def status(self, notice: Notice) -> dict[str, Any] | None:
        """The stored record of a notice (for tests and operators), or None."""
        n = self.models.notice
        try:
            stored = n.get(ticket_pk(notice.ticket_id), notice_sk(notice), consistent_read=True)
        except n.DoesNotExist:
            return None
        return {
            "status": stored.status,
            "claimed_until": opt_instant(stored.claimed_until),
            "sent_at": opt_instant(stored.sent_at),
            "attempts": int(stored.attempts or 0),
        }
