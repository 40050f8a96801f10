"""Composition root of ``functions/link`` (``GET /links/{token}``): its settings and ports, built ONCE
per container. The link function is the public face of the reports: it can read the link key and
``reports/*``, nothing else (no table, no queue, no e-mail). `reset()` forgets everything (tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from pydantic import Field

from slaclock.runtime import clock as runtime_clock
from slaclock.runtime.settings import EnvSettings, NonEmpty
from slaclock.services.report.links import DEFAULT_REDIRECT_SECONDS, KeyRing, Presigner


class LinkSettings(EnvSettings):
    """Environment of ``functions/link`` (``SLACLOCK_*``), validated at cold start."""

    report_bucket: NonEmpty
    """The bucket of the reports (``reports/`` prefix)."""
    report_link_key_secret: NonEmpty
    """Secrets Manager secret (ARN or name) of the key that signs the link tokens."""
    report_link_redirect_seconds: int = Field(default=DEFAULT_REDIRECT_SECONDS, ge=10, le=3600)
    """Lifetime of the presigned URL a valid token is redirected to (the browser follows it at once)."""
    secret_max_age_seconds: int = Field(default=300, ge=0)
    """How long the link key is cached per container (a rotated key is seen within this)."""


@dataclass(frozen=True)
class LinkPorts:
    keys: KeyRing
    presigner: Presigner
    redirect_seconds: int


@cache
def link_settings() -> LinkSettings:
    return LinkSettings()  # type: ignore[call-arg]  # values come from the environment


@cache
def link_ports() -> LinkPorts:
    from slaclock.adapters.s3 import S3ReportSink
    from slaclock.adapters.secrets import SecretKeyRing

    s = link_settings()
    return LinkPorts(
        keys=SecretKeyRing(s.report_link_key_secret, max_age=s.secret_max_age_seconds),
        presigner=S3ReportSink(bucket=s.report_bucket),
        redirect_seconds=s.report_link_redirect_seconds,
    )


def clock() -> datetime:
    """Now (aware UTC): the one place the link function reads the clock (tests replace it)."""
    return runtime_clock.now()


def reset() -> None:
    link_settings.cache_clear()
    link_ports.cache_clear()
