"""The configuration's history, read from the data bucket's own object versions (the bucket is
versioned: every `config push`, admin ``PUT /admin/config`` and rollback is one version of
``config/sla.yaml``, kept 365 days after it was replaced).

Version NUMBERS count the kept versions of the key, oldest first (1, 2, ...): S3 gives each version
an opaque id and an instant, not a number, and an admin rolls back to "version 4", not to
``3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo``. Both are always shown side by
side, and the audit log records both, so an old audit entry still names its version after the oldest
kept versions expired and the numbers moved down. Delete markers are not versions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from slaclock.adapters import _aws
from slaclock.adapters.config_store import ConfigNotFound, S3ConfigStore, StoredConfig, _format_of_object
from slaclock.services.admin import ConfigVersion, VersionNotFound


class S3ConfigHistory:
    """Implements `slaclock.services.admin.ConfigHistory` over an `S3ConfigStore` (same bucket, key and
    client: the CLI and the admin API write the same object)."""

    def __init__(self, store: S3ConfigStore) -> None:
        self.store = store

    def current(self) -> StoredConfig | None:
        """The document in force; None if nothing was ever stored."""
        try:
            return self.store.fetch()
        except ConfigNotFound:
            return None

    def push(self, text: str, fmt: str, if_match: str) -> StoredConfig:
        return self.store.push(text, fmt, if_match=if_match)

    def versions(self) -> list[ConfigVersion]:
        """Every kept version of the key, oldest first (version 1 is the oldest kept)."""
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"Bucket": self.store.bucket, "Prefix": self.store.key}
        try:
            while True:
                page = self.store.client.list_object_versions(**params)
                found.extend(v for v in page.get("Versions", []) if v.get("Key") == self.store.key)
                if not page.get("IsTruncated"):
                    break
                params["KeyMarker"] = page.get("NextKeyMarker")
                params["VersionIdMarker"] = page.get("NextVersionIdMarker")
        except (ClientError, BotoCoreError) as err:
            if _aws.is_transient(err):
                raise _aws.unavailable("s3", "list config versions", err) from err
            raise
        # S3 lists a key's versions newest first; two writes in the same second share LastModified,
        # so the listing's order, not the instant, is what numbers them.
        found.reverse()
        return [
            ConfigVersion(
                number=i,
                version_id=str(v.get("VersionId") or "null"),
                etag=str(v.get("ETag", "")),
                stored_at=_utc(v["LastModified"]),
                size=int(v.get("Size", 0)),
                current=bool(v.get("IsLatest")),
            )
            for i, v in enumerate(found, start=1)
        ]

    def fetch_version(self, version_id: str) -> StoredConfig:
        """One version's text and format. Raises `VersionNotFound`."""
        try:
            answer = self.store.client.get_object(
                Bucket=self.store.bucket, Key=self.store.key, VersionId=version_id
            )
        except ClientError as err:
            if _aws.error_code(err) in ("NoSuchVersion", "NoSuchKey", "InvalidArgument", "404"):
                raise VersionNotFound(f"no configuration version {version_id!r}") from err
            if _aws.is_transient(err):
                raise _aws.unavailable("s3", "get config version", err) from err
            raise
        except BotoCoreError as err:
            raise _aws.unavailable("s3", "get config version", err) from err
        return StoredConfig(
            text=answer["Body"].read().decode("utf-8"),
            etag=str(answer.get("ETag", "")),
            version_id=answer.get("VersionId"),
            fmt=_format_of_object(str(answer.get("ContentType") or ""), self.store.key),
        )


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
