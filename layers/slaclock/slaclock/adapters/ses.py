"""`Mailer` port on SES v2 (``SendEmail``, simple content: subject, plain-text and HTML bodies).

The From address is the configured sender (the template's `SenderEmail`; the functions' IAM policy
allows no other). SES accepts at most 50 recipients per message, so a longer list is sent in chunks of
50 (one message id each; the first is returned). Throttling and service faults are retried by
botocore; any refusal that survives (throttled, rejected, sending paused, unverified identity) raises
`ServiceUnavailable` naming the error code only, so the notice stays claimed-but-unsent and is retried
by the next check or sweep. A refusal after earlier chunks were accepted raises `PartialDelivery`
with their addresses, so the retry e-mails only the others (the check records them on the notice).

Send rate: SES accepts at most the account's maximum send rate (``GetSendQuota`` ``MaxSendRate``:
1/s in the sandbox, 14/s for a new production account), shared by every workload in the account and
Region. Each container paces its `SendEmail` calls to `rate_share` of that rate (read once, on the
first send), with botocore's own token bucket (the one its ``adaptive`` retry mode uses): the bucket
starts empty and refills at that rate, so N containers each given 1/N of the rate never exceed it
together. `slaclock.runtime.settings.CheckSettings.send_rate_share` derives the share from the
functions' reserved concurrency (template.yaml).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.retries.bucket import Clock, TokenBucket

from slaclock.adapters import _aws
from slaclock.ports import MAX_RECIPIENTS_PER_MESSAGE, PartialDelivery

MAX_RECIPIENTS = MAX_RECIPIENTS_PER_MESSAGE


class SesMailer:
    """Implements `slaclock.ports.Mailer`."""

    def __init__(
        self,
        *,
        sender: str,
        client: Any = None,
        configuration_set: str | None = None,
        rate_share: float | None = None,
        account_rate: float | None = None,
        quota_client: Any = None,
    ) -> None:
        """`rate_share`: the fraction of the account's send rate this container may use (None: no
        pacing). `account_rate`: that send rate if known (None: read with ``GetSendQuota`` through
        `quota_client`, an SES v1 client, on the first send)."""
        self.sender = sender
        self.configuration_set = configuration_set
        self.client = client or _aws.client("sesv2", mode="standard", max_attempts=5)
        self.rate_share = rate_share
        self.account_rate = account_rate
        self._quota_client = quota_client
        self._bucket: TokenBucket | None = None

    @property
    def send_rate(self) -> float | None:
        """Messages per second this container sends at most (None: not paced, or not read yet)."""
        return None if self._bucket is None else float(self._bucket.max_rate)

    def account_send_rate(self) -> float:
        """The account's maximum send rate (``GetSendQuota``). Raises `ServiceUnavailable`."""
        client = self._quota_client or _aws.client("ses", mode="standard", max_attempts=5)
        self._quota_client = client
        try:
            return float(client.get_send_quota()["MaxSendRate"])
        except (ClientError, BotoCoreError) as err:
            raise _aws.unavailable("ses", "get_send_quota", err) from err

    def _pace(self) -> None:
        if self.rate_share is None:
            return
        if self._bucket is None:
            account = self.account_rate if self.account_rate is not None else self.account_send_rate()
            rate = max(account * self.rate_share, 0.01)
            self._bucket = TokenBucket(rate, Clock(), min_rate=rate)
            self._bucket.acquire(0)  # start the refill clock now, with an empty bucket
        self._bucket.acquire()

    def send(self, to: Iterable[str], subject: str, text: str, html: str) -> str:
        """Send one e-mail to every address in `to` (duplicates dropped, order kept); returns the SES
        message id (of the first chunk when there are more than 50 recipients). Raises ValueError for
        no recipient, `ServiceUnavailable` when SES does not accept it, `PartialDelivery` (naming the
        addresses of the chunks SES accepted) when it refuses a later chunk."""
        recipients = list(dict.fromkeys(a.strip() for a in to if a and a.strip()))
        if not recipients:
            raise ValueError("an e-mail needs at least one recipient")
        ids = []
        for i in range(0, len(recipients), MAX_RECIPIENTS):
            params: dict[str, Any] = {
                "FromEmailAddress": self.sender,
                "Destination": {"ToAddresses": recipients[i : i + MAX_RECIPIENTS]},
                "Content": {
                    "Simple": {
                        "Subject": {"Data": subject, "Charset": "UTF-8"},
                        "Body": {
                            "Text": {"Data": text, "Charset": "UTF-8"},
                            "Html": {"Data": html, "Charset": "UTF-8"},
                        },
                    }
                },
            }
            if self.configuration_set:
                params["ConfigurationSetName"] = self.configuration_set
            self._pace()
            try:
                ids.append(str(self.client.send_email(**params)["MessageId"]))
            except (ClientError, BotoCoreError) as err:
                refused = _aws.unavailable("ses", "send_email", err)
                if i:
                    raise PartialDelivery(str(refused), tuple(recipients[:i])) from err
                raise refused from err
        return ids[0]
