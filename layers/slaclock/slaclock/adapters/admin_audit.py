"""The admin audit log in the SLA table: one item per configuration change (PUT or rollback).

    item          pk              sk                                  TTL
    audit entry   AUDIT#config    <at, fixed-width ISO UTC>#<request id>   none: kept with the table

Written AHEAD of the change (``status: pending``: who asked, when, from which ETag) and completed
after it (``applied`` with the new version's number and S3 version id, or ``refused``). A Lambda that
dies between the S3 write and the completion leaves a ``pending`` entry whose S3 version is still
findable by its instant, so a change is never unaudited. One partition, read with one Query, newest
first: configuration changes are rare (a handful a day), far below a partition's limits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from slaclock.adapters import _aws
from slaclock.services.admin import AuditEntry

PARTITION = "AUDIT#config"


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class DynamoAuditLog:
    """Implements `slaclock.services.admin.AuditLog` on the SLA table (plain DynamoDB client calls)."""

    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self.client = client or _aws.client("dynamodb", mode="standard", max_attempts=5)

    def record(self, entry: AuditEntry) -> None:
        item: dict[str, Any] = {
            "pk": {"S": PARTITION},
            "sk": {"S": f"{_iso(entry.at)}#{entry.request_id}"},
            "at": {"S": _iso(entry.at)},
            "who": {"S": entry.who},
            "action": {"S": entry.action},
            "status": {"S": entry.status},
            "request_id": {"S": entry.request_id},
        }
        for name in ("base_etag", "version_id", "etag", "from_version_id"):
            value = getattr(entry, name)
            if value is not None:
                item[name] = {"S": value}
        for name in ("version", "from_version"):
            value = getattr(entry, name)
            if value is not None:
                item[name] = {"N": str(value)}
        try:
            self.client.put_item(TableName=self.table, Item=item)
        except (ClientError, BotoCoreError) as err:
            if _aws.is_transient(err):
                raise _aws.unavailable("dynamodb", "put audit entry", err) from err
            raise

    def entries(self, limit: int = 200) -> list[AuditEntry]:
        """The newest `limit` entries, newest first."""
        try:
            answer = self.client.query(
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": PARTITION}},
                ScanIndexForward=False,
                Limit=limit,
            )
        except (ClientError, BotoCoreError) as err:
            if _aws.is_transient(err):
                raise _aws.unavailable("dynamodb", "query audit log", err) from err
            raise
        return [_entry(item) for item in answer.get("Items", [])]


def _entry(item: dict[str, Any]) -> AuditEntry:
    def s(name: str) -> str | None:
        return item[name]["S"] if name in item else None

    def n(name: str) -> int | None:
        return int(item[name]["N"]) if name in item else None

    return AuditEntry(
        at=datetime.strptime(item["at"]["S"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
        who=item["who"]["S"],
        action=item["action"]["S"],
        status=item["status"]["S"],
        request_id=item["request_id"]["S"],
        base_etag=s("base_etag"),
        version=n("version"),
        version_id=s("version_id"),
        etag=s("etag"),
        from_version=n("from_version"),
        from_version_id=s("from_version_id"),
    )
