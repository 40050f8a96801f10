"""The admin API fuzzed from its own OpenAPI document (schemathesis) against the local stack, every
request SigV4-signed as an AWS SDK caller signs it (so the fuzzing reaches functions/admin, past the
authorizer): no answer is a 5xx, every answer conforms to the document (status, content type, schema:
schemathesis' default checks), and a refused request (4xx) stores nothing: the table's items and the
configuration bucket's object versions are compared before and after each one.

Bounded: `EXAMPLES` generated requests per operation (hypothesis, derandomized: the same requests on
every run), well under a minute in all. The counts per operation and status are printed at the end
(``pytest -s`` shows them; docs/operating.md records a run).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import yaml
from slaclock.engine.events import parse_event
from slaclock.engine.policy import compile_policy
from slaclock_local.sigv4 import sign_headers
from slaclock_local.stack import ACCESS_KEY, LocalStack

pytestmark = pytest.mark.e2e

schemathesis = pytest.importorskip(
    "schemathesis", reason="schemathesis is not installed (make .venv/.installed)"
)

AT = datetime(2026, 1, 7, 15, 0, tzinfo=UTC)
EXAMPLES = 15
STORED: list[Any] = []  # the events loaded into the stack (by the `stack` fixture)
# The checks of each answer (`checks` below) are schemathesis' defaults less `positive_data_acceptance`:
# this API refuses some requests that match the schema by the state they meet (428 without If-Match,
# 412 a stale ETag, 404 no such ticket or version, 422 a document that parses but does not validate),
# as each route documents.


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    from slaclock.runtime import wiring
    from slaclock.services.ingest import ingest_events
    from slaclock_local.sample import generate_events

    with LocalStack(start_at=AT, paused=True, poll_seconds=0.1) as running:
        events = [parse_event(d) for d in generate_events(4, seed=16, start=AT - timedelta(days=1))]
        STORED[:] = [e for e in events if e.at <= AT]
        ingest_events(wiring.webhook_ports(), compile_policy(running.config), STORED, AT)
        yield running


def _stored(stack: LocalStack) -> tuple[list[Any], list[Any]]:
    """Everything a request could change: the table's items and the bucket's object versions."""
    assert stack.resources is not None
    dynamodb, s3 = stack.client("dynamodb"), stack.client("s3")
    items: list[Any] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=stack.resources.ref("SlaTable")):
        items.extend(page["Items"])
    versions = s3.list_object_versions(Bucket=stack.resources.ref("DataBucket")).get("Versions", [])
    return (
        sorted(json.dumps(i, sort_keys=True, default=repr) for i in items),
        sorted((v["Key"], v["VersionId"], v["ETag"]) for v in versions),
    )


def test_fuzzing_the_admin_api_finds_no_5xx_and_no_change_by_a_refused_request(stack: LocalStack):
    stack_tickets = {e.ticket_id for e in STORED}
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )
    from slaclock.runtime.admin_api import openapi_document

    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    schema = schemathesis.openapi.from_dict(openapi_document())
    session = requests.Session()
    session.trust_env = False

    def sign(request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        raw = body.encode("utf-8") if isinstance(body, str) else body
        request.headers.update(
            sign_headers(str(request.method), str(request.url), raw, dict(request.headers),
                         access_key=ACCESS_KEY, region=stack.region)
        )  # fmt: skip
        return request

    counts: Counter[tuple[str, int]] = Counter()
    state = [_stored(stack)]
    tickets = sorted(stack_tickets)
    document = yaml.safe_load(stack.config_path.read_text(encoding="utf-8"))
    changed_by_refused: list[str] = []

    def strategy(operation: Any) -> Any:
        """The operation's generated cases; for the timeline and the dry run, half of them re-aimed at
        what exists (a stored ticket's id; the configuration in force over a valid period, the other
        fields as generated), so the fuzzing reaches past the 404 and the validator too."""
        generated = operation.as_strategy()
        if operation.path == "/admin/tickets/{ticket_id}/timeline":
            return st.one_of(generated, st.tuples(generated, st.sampled_from(tickets)).map(_with_ticket))
        if operation.path == "/admin/config/dry-run":
            return st.one_of(generated, generated.map(_with_document))
        return generated

    def _with_ticket(pair: tuple[Any, str]) -> Any:
        case, ticket = pair
        case.path_parameters = {**(case.path_parameters or {}), "ticket_id": ticket}
        return case

    def _with_document(case: Any) -> Any:
        if isinstance(case.body, dict):
            period = {"from": "2026-01-06T00:00:00Z", "to": "2026-01-08T00:00:00Z"}
            case.body = {**case.body, "config": document, **period}
        return case

    def fuzzer(operation: Any, label: str) -> Any:
        @given(case=strategy(operation))
        @settings(
            max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
            suppress_health_check=list(HealthCheck),
        )  # fmt: skip
        def fuzz(case: Any) -> None:
            response = case.call(base_url=stack.front_url, session=session, auth=sign, timeout=60)
            counts[(label, response.status_code)] += 1
            assert response.status_code < 500, (label, response.status_code, response.text[:300])
            case.validate_response(response, checks=checks)
            after = _stored(stack)
            if response.status_code >= 400 and after != state[0]:
                changed_by_refused.append(f"{label} -> {response.status_code}")
            state[0] = after  # what the next request starts from (an accepted rollback changes it)

        return fuzz

    started = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        fuzzer(operation, f"{operation.method.upper()} {operation.path}")()
    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    by_status = Counter[int]()
    for (_, status), n in counts.items():
        by_status[status] += n
    print(
        f"\nadmin API fuzzing: {total} requests in {elapsed:.0f} s,"
        f" by status {dict(sorted(by_status.items()))}"
    )
    for (label, status), n in sorted(counts.items()):
        print(f"  {label:<45} {status}  {n}")
    assert changed_by_refused == []
    assert {label for label, _ in counts} == {
        f"{m.upper()} {p}" for p, ops in openapi_document()["paths"].items() for m in ops
    }
    assert all(status < 500 for _, status in counts)
