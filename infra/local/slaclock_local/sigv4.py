"""SigV4 on the local stack: the front verifies the signature of every request to an IAM-authorised
route (every ``/admin`` route, the reports API) as API Gateway does, and the local clients sign theirs.

Signing and the canonical request are botocore's own (`botocore.auth.SigV4Auth`, what every AWS SDK
call uses); this module only re-runs them over the received request with the local stack's one set
of credentials (``ACCESS_KEY``/``ACCESS_KEY``, the same that moto is given) and compares the result in
constant time. What is checked:

- an ``Authorization: AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/execute-api/aws4_request,
  SignedHeaders=..., Signature=...`` header, with the local access key and the stack's region;
- the signature over the method, path, query, the signed headers and the body's SHA-256;
- ``X-Amz-Date`` within 15 minutes of the machine's (real, not virtual) clock, like AWS.

Anything else is refused before the function runs: 403 ``{"message":"Forbidden"}`` (API Gateway's
answer to an unsigned or badly signed request to an IAM route).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

__all__ = ["SERVICE", "sign_headers", "verify"]

SERVICE = "execute-api"
MAX_SKEW = timedelta(minutes=15)
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
    r"/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*Signature=(?P<sig>[0-9a-f]{64})$"
)


def sign_headers(
    method: str, url: str, body: bytes, headers: Mapping[str, str], *, access_key: str, region: str
) -> dict[str, str]:
    """`headers` plus ``Authorization`` and ``X-Amz-Date`` (and the body hash) for the request."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    SigV4Auth(Credentials(access_key, access_key), SERVICE, region).add_auth(request)
    return {k: str(v) for k, v in request.headers.items()}


def verify(
    method: str,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    access_key: str,
    region: str,
    now: datetime | None = None,
) -> bool:
    """Whether the request carries a valid SigV4 signature by `access_key` for `region`."""
    lowered = {k.lower(): v for k, v in headers.items()}
    match = _AUTH.match((lowered.get("authorization") or "").strip())
    amz_date = lowered.get("x-amz-date") or ""
    if not match or match["key"] != access_key or match["region"] != region or match["service"] != SERVICE:
        return False
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return False
    if match["date"] != amz_date[:8] or abs((now or datetime.now(UTC)) - signed_at) > MAX_SKEW:
        return False
    names = match["signed"].split(";")
    if "host" not in names or any(n not in lowered for n in names):
        return False
    request = AWSRequest(method=method, url=url, data=body, headers={n: lowered[n] for n in names})
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(Credentials(access_key, access_key), SERVICE, region)
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    return hmac.compare_digest(expected, match["sig"])
