"""The admin API's configuration use cases: read, replace (validated whole, conditional on the ETag
the caller read), list the versions, roll back; every change audited (who, when, which version).

The configuration lives where `slaclock config push` writes it (one object in the data bucket, S3
versioning keeps the history), so the CLI and the API are two doors to the same document:

- ``read_config``: the document in force, its version number, S3 version id and ETag.
- ``put_config``: the new document is validated with the validator `validate` and `config push`
  use (every error listed: `ConfigRejected`, HTTP 422, nothing written). It is written only if the
  stored document is still the one the caller read: `If-Match: <ETag>` (or ``If-None-Match: *`` for
  the first one). No precondition: `PreconditionRequired` (428); another one: `ConfigChanged` (412).
  The check is S3's own conditional write, so of two admins who read the same version one wins and
  the other gets 412, whatever the timing.
- ``rollback``: stores an old version's text again as a NEW version (history is never rewritten);
  it is re-validated first (an old document may not pass today's validator: 422).

Audit (`AuditLog`): an entry is written BEFORE the change (``pending``: who, when, from which ETag)
and completed after it (``applied`` + the new version, or ``refused`` when the conditional write
lost), so a container dying between the two leaves a pending entry rather than an unaudited change.
A request refused by validation or by a stale ETag seen before writing stores nothing at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from slaclock.adapters.config_file import parse_json, parse_yaml, validate_document
from slaclock.engine.errors import ConfigError, SlaclockError

Action = Literal["put", "rollback"]


class StoredDocument(Protocol):
    """A stored configuration object (`slaclock.adapters.config_store.StoredConfig`)."""

    @property
    def text(self) -> str: ...
    @property
    def etag(self) -> str: ...
    @property
    def version_id(self) -> str | None: ...
    @property
    def fmt(self) -> str: ...


@dataclass(frozen=True, slots=True)
class ConfigVersion:
    """One kept version: `number` counts the kept versions, oldest = 1 (see `config_versions`)."""

    number: int
    version_id: str
    etag: str
    stored_at: datetime
    size: int
    current: bool


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    who: str
    action: str
    status: str  # pending | applied | refused
    request_id: str
    base_etag: str | None = None
    version: int | None = None
    version_id: str | None = None
    etag: str | None = None
    from_version: int | None = None
    from_version_id: str | None = None


class ConfigHistory(Protocol):
    def current(self) -> StoredDocument | None: ...
    def push(self, text: str, fmt: str, if_match: str) -> StoredDocument: ...
    def versions(self) -> list[ConfigVersion]: ...
    def fetch_version(self, version_id: str) -> StoredDocument: ...


class AuditLog(Protocol):
    def record(self, entry: AuditEntry) -> None: ...
    def entries(self, limit: int = 200) -> list[AuditEntry]: ...


@dataclass(frozen=True)
class ConfigPorts:
    history: ConfigHistory
    audit: AuditLog


class ConfigRejected(ConfigError):  # noqa: N818 - the HTTP condition (422)
    """The proposed document is invalid (every problem listed); nothing was written."""

    http_status = 422


class PreconditionRequired(SlaclockError):  # noqa: N818 - named after the HTTP condition
    http_status = 428


class StaleConfig(SlaclockError):  # noqa: N818 - the HTTP condition "precondition failed"
    http_status = 412


class NoConfiguration(SlaclockError):  # noqa: N818 - a condition
    http_status = 404


class VersionNotFound(SlaclockError):  # noqa: N818 - a condition
    http_status = 404


@dataclass(frozen=True, slots=True)
class ConfigView:
    """What the API answers for the document in force."""

    version: int | None
    version_id: str | None
    etag: str
    fmt: str
    document: Any

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "version_id": self.version_id,
            "etag": self.etag,
            "format": self.fmt,
            "document": self.document,
        }


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks (IAM principal ARN or JWT subject) and the request's id (the audit entry's key)."""

    who: str
    request_id: str
    now: datetime


def read_config(ports: ConfigPorts) -> ConfigView:
    stored = ports.history.current()
    if stored is None:
        raise NoConfiguration("no configuration has been stored yet (PUT /admin/config or `config push`)")
    return _view(stored, ports.history.versions())


def config_versions(ports: ConfigPorts) -> list[dict[str, Any]]:
    """Every kept version, newest first, each with who stored it when the admin API did (the audit
    log; a `config push` from the CLI shows ``author: null``: S3's access log, if enabled, has it)."""
    authors = {e.version_id: e.who for e in ports.audit.entries() if e.status == "applied" and e.version_id}
    return [
        {
            "version": v.number,
            "version_id": v.version_id,
            "etag": v.etag,
            "stored_at": v.stored_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "size": v.size,
            "current": v.current,
            "author": authors.get(v.version_id),
        }
        for v in reversed(ports.history.versions())
    ]


def put_config(
    ports: ConfigPorts, document: Mapping[str, Any], headers: Mapping[str, str], caller: Caller
) -> ConfigView:
    """Validate `document` whole, then store it as JSON if the precondition in `headers` holds."""
    condition = _precondition(headers)
    assert condition is not None  # required=True raises instead
    try:
        validate_document(dict(document))
    except ConfigError as err:
        raise ConfigRejected(err.errors) from None
    text = _json_text(document)
    return _store(ports, text, "json", condition, caller, "put", None)


def rollback(ports: ConfigPorts, version: int, headers: Mapping[str, str], caller: Caller) -> ConfigView:
    """Store version `version`'s text again as the newest version. `If-Match` is optional here
    (a rollback names its target explicitly); when given it must hold."""
    versions = ports.history.versions()
    target = next((v for v in versions if v.number == version), None)
    if target is None:
        raise VersionNotFound(f"no configuration version {version} (kept: 1..{len(versions)})")
    old = ports.history.fetch_version(target.version_id)
    try:
        validate_document(_parse(old))
    except ConfigError as err:
        raise ConfigRejected(err.errors) from None
    condition = _precondition(headers, required=False)
    if condition is None:
        current = ports.history.current()
        condition = current.etag if current is not None else "*"
    return _store(ports, old.text, old.fmt, condition, caller, "rollback", target)


def _store(
    ports: ConfigPorts,
    text: str,
    fmt: str,
    condition: str,
    caller: Caller,
    action: Action,
    source: ConfigVersion | None,
) -> ConfigView:
    current = ports.history.current()
    if (condition == "*") != (current is None) or (
        current is not None and not _same_etag(current.etag, condition)
    ):
        raise StaleConfig("the configuration changed since it was read (its ETag differs): re-read it")
    entry = AuditEntry(
        at=caller.now,
        who=caller.who,
        action=action,
        status="pending",
        request_id=caller.request_id,
        base_etag=None if current is None else current.etag,
        from_version=None if source is None else source.number,
        from_version_id=None if source is None else source.version_id,
    )
    ports.audit.record(entry)  # ahead of the change: a change is never unaudited
    try:
        stored = ports.history.push(text, fmt, condition)
    except SlaclockError as err:
        if getattr(err, "http_status", None) == 412:  # lost the race in S3's conditional write
            ports.audit.record(replace(entry, status="refused"))
            raise StaleConfig(str(err)) from err
        raise
    versions = ports.history.versions()
    view = _view(stored, versions)
    ports.audit.record(
        replace(entry, status="applied", version=view.version, version_id=stored.version_id, etag=stored.etag)
    )
    return view


def _precondition(headers: Mapping[str, str], *, required: bool = True) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    if_match = (lowered.get("if-match") or "").strip()
    if_none_match = (lowered.get("if-none-match") or "").strip()
    if if_match:
        return if_match
    if if_none_match == "*":
        return "*"
    if required:
        raise PreconditionRequired(
            "If-Match is required: send the ETag of the configuration you read "
            "(or If-None-Match: * when none is stored yet)"
        )
    return None


def _same_etag(stored: str, given: str) -> bool:
    def bare(tag: str) -> str:
        return tag.removeprefix("W/").strip().strip('"')

    return bare(stored) == bare(given)


def _view(stored: StoredDocument, versions: list[ConfigVersion]) -> ConfigView:
    number = next((v.number for v in versions if v.version_id == stored.version_id), None)
    return ConfigView(number, stored.version_id, stored.etag, stored.fmt, _parse(stored))


def _parse(stored: StoredDocument) -> Any:
    return parse_json(stored.text) if stored.fmt == "json" else parse_yaml(stored.text)


def _json_text(document: Mapping[str, Any]) -> str:
    import json

    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
