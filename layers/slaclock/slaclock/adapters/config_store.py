"""`ConfigSource` on S3: the SLA configuration document lives in ONE place in the account, the object
``s3://<data bucket>/config/sla.yaml`` (template parameters; ``.json`` keys are read as JSON).

Why S3 rather than an SSM parameter: a real configuration (calendars, levels, rules, sources) easily
exceeds SSM's 8 KB advanced-parameter limit; the bucket is versioned, so every push is kept and can be
restored; and a conditional GET makes the freshness check cheap.

Loading: the parsed `Config` is cached per container. At most every `recheck_seconds` (60) a
conditional GET (``If-None-Match: <ETag>``) asks S3 whether it changed: 304 keeps the cached
`Config`, 200 parses the new text. A stored document that fails validation (e.g. uploaded by hand)
never replaces a good cached one: the functions keep the last good configuration and log nothing
personal; with no good one at all it raises the `ConfigError`.

Pushing (`slaclock config push --file sla.yaml`): the text is VALIDATED first with the same parser
the functions use (`config_file.load_config_text`); an invalid one raises `ConfigError` listing
every problem and nothing is written, so the old configuration stays in force. What is stored is
exactly the text that was validated, and its format travels with it: the object's ``Content-Type``
(``application/json`` or ``application/yaml``) tells the functions which parser to read it with, so
a ``.json`` file pushed to the ``.yaml`` key is read as JSON (a YAML parser reads the ``\ud83d\ude00``
escapes `json.dumps` writes for an emoji differently, or not at all). An object without either
type (uploaded by hand) is read by its key's extension.

No object yet: S3 answers ``GetObject`` with 404 ``NoSuchKey`` when the reader may list the bucket,
and with 403 ``AccessDenied`` when it may not (the functions' policy grants ``s3:GetObject`` on the
configuration object only). Both mean "no configuration" (`ConfigNotFound`, a 503 for a webhook).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from slaclock.adapters import _aws
from slaclock.adapters.config_file import load_config_text
from slaclock.engine.config import Config
from slaclock.engine.errors import ConfigError, SlaclockError
from slaclock.engine.policy import Policy, compile_policy
from slaclock.ports import ServiceUnavailable

log = logging.getLogger(__name__)

DEFAULT_KEY = "config/sla.yaml"


def format_of(key: str) -> str:
    """``json`` for a ``.json`` key, else ``yaml``."""
    return "json" if key.lower().endswith(".json") else "yaml"


class ConfigNotFound(ServiceUnavailable):  # noqa: N818 - a condition, like ServiceUnavailable
    """No configuration has been pushed yet (the object does not exist).

    A server-side condition, not the sender's mistake: a webhook gets 503 (the helpdesk retries), not
    400, so nothing is lost while the operator runs `slaclock config push`."""

    def __init__(self, bucket: str, key: str, code: str = "NoSuchKey") -> None:
        super().__init__(
            f"no configuration at s3://{bucket}/{key} (S3 {code}): run `slaclock config push --file ...`"
        )


class ConfigChanged(SlaclockError):  # noqa: N818 - a condition, like ConfigNotFound
    """A conditional push lost: the stored document is no longer the one the caller read (its ETag
    changed, or one now exists where none did). Nothing was written; HTTP 412 Precondition Failed."""

    http_status = 412


class StoredConfigInvalid(ServiceUnavailable):  # noqa: N818 - a condition, like ServiceUnavailable
    """The stored document does not validate (pushed around `config push`) and no good one is cached.

    Also 503, never 400: the sender did nothing wrong. `errors` lists the problems for the logs."""

    def __init__(self, err: ConfigError) -> None:
        self.errors = err.errors
        super().__init__(f"the stored configuration is invalid ({len(err.errors)} errors)")


@dataclass(frozen=True, slots=True)
class StoredConfig:
    """The document as stored: its text, ETag, S3 version id (None if versioning is off) and format
    (``json`` or ``yaml``: the parser it is read with)."""

    text: str
    etag: str
    version_id: str | None
    fmt: str = "yaml"


class S3ConfigStore:
    """Implements `slaclock.ports.ConfigSource` (`load`), plus `fetch` and `push` for the CLI."""

    def __init__(
        self,
        *,
        bucket: str,
        key: str = DEFAULT_KEY,
        client: Any = None,
        recheck_seconds: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bucket = bucket
        self.key = key
        self.client = client or _aws.client("s3", mode="standard", max_attempts=5)
        self.recheck_seconds = recheck_seconds
        self._monotonic = monotonic
        self._config: Config | None = None
        self._etag: str | None = None
        self._policy: Policy | None = None
        self._checked_at: float | None = None

    # ------------------------------------------------------------------ ConfigSource

    def load(self) -> Config:
        """The configuration in force (cached; re-checked with a conditional GET at most every
        `recheck_seconds`). Raises `ConfigNotFound` / `ConfigError` only when no good one is cached."""
        now = self._monotonic()
        if (
            self._config is not None
            and self._checked_at is not None
            and now - self._checked_at < self.recheck_seconds
        ):
            return self._config
        try:
            stored = self._get(if_none_match=self._etag if self._config is not None else None)
        except (ConfigError, ServiceUnavailable):
            if self._config is None:
                raise
            log.error("configuration could not be re-read; keeping the cached configuration")
            self._checked_at = now
            return self._config
        self._checked_at = now
        if stored is None:  # 304 Not Modified
            assert self._config is not None
            return self._config
        try:
            # The parser `config push` validated the text with (its Content-Type says which).
            config = load_config_text(stored.text, stored.fmt)
        except ConfigError as err:
            if self._config is None:
                raise StoredConfigInvalid(err) from err
            log.error("stored configuration is invalid (%d errors); keeping the cached one", len(err.errors))
            return self._config
        self._config, self._etag = config, stored.etag
        return config

    def policy(self) -> Policy:
        """`load()`, compiled once per loaded configuration (a new ETag whose text loads is a new
        `Config` object, so the compiled policy is keyed by it); the engine itself caches nothing."""
        config = self.load()
        if self._policy is None or self._policy.config is not config:
            self._policy = compile_policy(config)
        return self._policy

    # ------------------------------------------------------------------ CLI

    def fetch(self) -> StoredConfig:
        """The stored document as text. Raises `ConfigNotFound` if none was pushed."""
        stored = self._get(if_none_match=None)
        assert stored is not None
        return stored

    def push(self, text: str, fmt: str | None = None, *, if_match: str | None = None) -> StoredConfig:
        """Validate `text` (``yaml``/``json``, default: by the key's extension) and upload it.

        `if_match` makes the upload conditional (S3's own conditional write, so two writers cannot
        both win): an ETag writes only over that exact object, ``"*"`` only where no object exists
        yet; otherwise `ConfigChanged` and nothing is written. None (the CLI): unconditional.

        Raises `ConfigError` (nothing uploaded, the old configuration stays in force) if it is invalid.
        Returns the stored document with its new ETag and version id."""
        fmt = fmt or format_of(self.key)
        load_config_text(text, fmt)
        body = text.encode("utf-8")
        condition = (
            {} if if_match is None else {"IfNoneMatch": "*"} if if_match == "*" else {"IfMatch": if_match}
        )
        try:
            answer = self.client.put_object(
                Bucket=self.bucket,
                Key=self.key,
                Body=body,
                ContentType=f"{_CONTENT_TYPES[fmt]}; charset=utf-8",
                ServerSideEncryption="AES256",
                **condition,
            )
        except (ClientError, BotoCoreError) as err:
            if condition and _aws.error_code(err) in ("PreconditionFailed", "NoSuchKey", "412"):
                raise ConfigChanged("the configuration changed since it was read: re-read it") from err
            if _aws.is_transient(err):
                raise _aws.unavailable("s3", "put config", err) from err
            raise
        return StoredConfig(
            text=text, etag=str(answer.get("ETag", "")), version_id=answer.get("VersionId"), fmt=fmt
        )

    # ------------------------------------------------------------------ internals

    def _get(self, *, if_none_match: str | None) -> StoredConfig | None:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self.key}
        if if_none_match:
            params["IfNoneMatch"] = if_none_match
        try:
            answer = self.client.get_object(**params)
        except ClientError as err:
            code = _aws.error_code(err)
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("304", "NotModified") or status == 304:
                return None
            if code in ("NoSuchKey", "404", "NotFound", "AccessDenied", "403", "Forbidden") or status in (
                403,
                404,
            ):
                raise ConfigNotFound(self.bucket, self.key, code or str(status)) from err
            if _aws.is_transient(err):
                raise _aws.unavailable("s3", "get config", err) from err
            raise
        except BotoCoreError as err:
            raise _aws.unavailable("s3", "get config", err) from err
        text = answer["Body"].read().decode("utf-8")
        return StoredConfig(
            text=text,
            etag=str(answer.get("ETag", "")),
            version_id=answer.get("VersionId"),
            fmt=_format_of_object(str(answer.get("ContentType") or ""), self.key),
        )


_CONTENT_TYPES = {"json": "application/json", "yaml": "application/yaml"}


def _format_of_object(content_type: str, key: str) -> str:
    """The parser for a stored object: its Content-Type as `push` set it, else its key's extension."""
    media = content_type.split(";", 1)[0].strip().lower()
    for fmt, known in _CONTENT_TYPES.items():
        if media == known:
            return fmt
    return format_of(key)
