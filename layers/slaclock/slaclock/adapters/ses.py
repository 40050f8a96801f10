"""`Mailer` port on SES v2 (``SendEmail``, simple content: subject, plain-text and HTML bodies).

The From address is the configured sender (the template's `SenderEmail`; the functions' IAM policy
allows no other). SES accepts at most 50 recipients per message, so a longer list is sent in chunks of
50 (one message id each; the first is returned). Throttling and service faults are retried by
botocore; any refusal that survives (throttled, rejected, sending paused, unverified identity) raises
`ServiceUnavailable` naming the error code only, so the notice stays claimed-but-unsent and is retried
by the next check or sweep. A refusal after earlier chunks were accepted raises `PartialDelivery`
with their addresses, so the retry e-mails only the others (the check records them on the notice).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from slaclock.adapters import _aws
from slaclock.ports import MAX_RECIPIENTS_PER_MESSAGE, PartialDelivery

MAX_RECIPIENTS = MAX_RECIPIENTS_PER_MESSAGE


class SesMailer:
    """Implements `slaclock.ports.Mailer`."""

    def __init__(self, *, sender: str, client: Any = None, configuration_set: str | None = None) -> None:
        self.sender = sender
        self.configuration_set = configuration_set
        self.client = client or _aws.client("sesv2", mode="standard", max_attempts=5)

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
            try:
                ids.append(str(self.client.send_email(**params)["MessageId"]))
            except (ClientError, BotoCoreError) as err:
                refused = _aws.unavailable("ses", "send_email", err)
                if i:
                    raise PartialDelivery(str(refused), tuple(recipients[:i])) from err
                raise refused from err
        return ids[0]
