# ruff: noqa: F811 - fixtures imported from _handlers are bound again as test parameters (pytest injection)
"""Hostile bodies through the real webhook function on moto, for every provider: each one is a 4xx
naming the problem (never a 5xx), and the table and the schedules are exactly as they were before.

Every case starts from the provider's documented sample payload (tests/fixtures/<provider>/, each
named after its documentation page in docs/helpdesks.md), which is first delivered once and accepted,
so "unchanged" also covers a refused delivery for a ticket that already exists. The hostile variant is
then signed like a genuine delivery, so it reaches the parser rather than stopping at the signature.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slaclock.helpdesk import PROVIDER_NAMES, signing

from tests.fakes.world import CONFIG_DOC
from tests.fixtures.builders import (
    SECRET,
    body,
    generic_headers,
    helpscout_headers,
    intercom_headers,
    jira_headers,
    load,
    token_headers,
    with_,
    zendesk_headers,
)
from tests.integration._handlers import Pipeline, config_yaml, pipeline, put_config  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

T = datetime(2026, 11, 20, 16, 2, 41, tzinfo=UTC)
INTERCOM_CREATED = datetime(2026, 11, 20, 16, 2, 42, tzinfo=UTC)  # the notification's signed created_at


@dataclass(frozen=True)
class Target:
    """Where, in one provider's sample payload, the hostile values go."""

    fixture: tuple[str, str]
    sign: Callable[[bytes, datetime], dict[str, str]]
    anchor: datetime  # the instant the signature vouches for
    ticket_id: str  # dotted path of the ticket id
    field: str  # a string slaclock carries into the ticket's fields as it is (not normalised)
    date: str  # the date the provider reads as the event's instant
    unix: bool  # that date is unix seconds (else ISO 8601)
    name: str | None  # a field naming the event or topic


TARGETS = {
    "generic": Target(("generic", "canonical_event"), generic_headers, T,
                      "ticket_id", "ticket.department", "at", False, "type"),
    "zendesk": Target(("zendesk", "ticket_comment_added"), zendesk_headers, T,
                      "detail.id", "detail.tags.0", "time", False, "type"),
    "intercom": Target(("intercom", "conversation_admin_replied"), lambda b, at: intercom_headers(b),
                       INTERCOM_CREATED, "data.item.id", "data.item.custom_attributes.plan",
                       "data.item.conversation_parts.conversation_parts.0.created_at", True, "topic"),
    "jira": Target(("jira", "comment_created"), lambda b, at: jira_headers(b), T,
                   "issue.key", "issue.fields.status.name", "comment.created", False, "webhookEvent"),
    "helpscout": Target(("helpscout", "convo_agent_reply"),
                        lambda b, at: helpscout_headers(b, "convo.agent.reply.created"), T,
                        "id", "tags.0.tag", "_embedded.threads.0.createdAt", False, None),
    "freshdesk": Target(("freshdesk", "ticket_created"), lambda b, at: token_headers(), T,
                        "freshdesk_webhook.ticket_id", "freshdesk_webhook.ticket_group_name",
                        "freshdesk_webhook.ticket_created_at", False, "freshdesk_webhook.triggered_event"),
    "liveagent": Target(("liveagent", "customer_replied"), lambda b, at: token_headers(form="header"), T,
                        "ticket.id", "ticket.department", "ticket.date_changed", False, "event"),
}  # fmt: skip


def _inject(doc: Any, fragment: str) -> bytes:
    """The sample's JSON with ``"zz_hostile": <fragment>`` added as its first member (raw text: the
    fragment need not be something Python's json module would write)."""
    text = json.dumps(doc)
    assert text.startswith("{")
    return ('{"zz_hostile": ' + fragment + ", " + text[1:]).encode()


@dataclass(frozen=True)
class Hostile:
    build: Callable[[Any, Target], bytes]  # (sample payload, target) -> body
    expect: str  # regular expression the answer's problems (or reason) must match
    only: tuple[str, ...] = ()  # providers it applies to (all when empty)
    status: int = 400


WRONG_DATE = (
    r"({shown} is not a date or time|is not an ISO 8601 instant|time: Input should be a valid string)"
)


def _far_future(t: Target) -> Any:
    return 253402300799_000 if t.unix else "9999-12-31T23:59:59Z"  # unix: in ms (as seconds it reads as ms)


CASES: dict[str, Hostile] = {
    "NaN literal": Hostile(lambda d, t: _inject(d, "NaN"), r"NaN is not JSON"),
    "Infinity literal": Hostile(lambda d, t: _inject(d, "Infinity"), r"Infinity is not JSON"),
    "-Infinity literal": Hostile(lambda d, t: _inject(d, "[-Infinity]"), r"-Infinity is not JSON"),
    "number beyond a double": Hostile(lambda d, t: _inject(d, "1e999"), r"1e999 is out of range"),
    "JSON nested 100k deep": Hostile(lambda d, t: _inject(d, "[" * 100_000 + "]" * 100_000),
                                     r"nested deeper than 64"),
    "JSON nested 65 deep": Hostile(lambda d, t: _inject(d, "[" * 65 + "]" * 65), r"nested deeper than 64"),
    "integer of 5,000 digits": Hostile(lambda d, t: _inject(d, "9" * 5000), r"integer of 5000 digits"),
    "integer of 39 digits": Hostile(lambda d, t: _inject(d, "-" + "9" * 39), r"integer of 39 digits"),
    "lone surrogate in the ticket id": Hostile(lambda d, t: body(with_(d, t.ticket_id, "4711\ud800")),
                                               r"ticket_id: holds a lone UTF-16 surrogate"),
    "lone low surrogate in a field": Hostile(lambda d, t: body(with_(d, t.field, "\udfffbilling")),
                                             r"ticket\.[\w.\[\]]+: holds a lone UTF-16 surrogate"),
    "ticket id of 3,000 characters": Hostile(lambda d, t: body(with_(d, t.ticket_id, "7" * 3000)),
                                             r"ticket_id: 3000 characters; at most 200"),
    "ticket id of 200 KB": Hostile(lambda d, t: body(with_(d, t.ticket_id, "7" * 200_000)),
                                   r"ticket_id: 200000 characters; at most 200"),
    "field of 600 KB": Hostile(lambda d, t: body(with_(d, t.field, "x" * 600_000)),
                               r"ticket: the fields take 6\d{5} bytes of JSON; at most 65536"),
    "date in year 9999": Hostile(lambda d, t: body(with_(d, t.date, _far_future(t))),
                                 r"9999-12-31T23:59:59Z is more than 24 h after the delivery arrived"),
    "true as the date": Hostile(lambda d, t: body(with_(d, t.date, True)),
                                WRONG_DATE.format(shown="(?i:true)")),
    "an object as the date": Hostile(lambda d, t: body(with_(d, t.date, {"at": "2026-11-20"})),
                                     WRONG_DATE.format(shown="an object")),
    "an object as the ticket id": Hostile(lambda d, t: body(with_(d, t.ticket_id, {"id": 1})),
                                          r"(required|valid string|not valid here)"),
    "an object as the event name": Hostile(
        lambda d, t: body(with_(d, t.name or "", {"name": "created"})),
        r"(an object is not a string|is not one of|valid string|neither a Zendesk event|not a Jira webhook)",
        only=tuple(n for n, t in TARGETS.items() if t.name),
    ),
    "a number as the event name": Hostile(
        lambda d, t: body(with_(d, t.name or "", 5)),
        r"(5 is not one of|valid string|neither a Zendesk event|not a Jira webhook)",
        only=tuple(n for n, t in TARGETS.items() if t.name and n not in ("freshdesk", "liveagent")),
    ),
    "signature timestamp in milliseconds": Hostile(lambda d, t: body(d), r"looks like milliseconds",
                                                   only=("generic",), status=401),
    "signature timestamp of 40 digits": Hostile(lambda d, t: body(d), r"has 40 digits", only=("generic",),
                                                status=401),
    # Intercom's notification created_at: milliseconds are read as such (to_instant), so only a value out
    # of any calendar is refused; there is no age window to fail (deliveries may be hours late).
    "created_at out of range": Hostile(lambda d, t: body(with_(d, "created_at", 10**20)),
                                       r"is not a unix time", only=("intercom",), status=400),
}  # fmt: skip

SIGNATURE_OVERRIDES = {
    "signature timestamp in milliseconds": "1795190561000",
    "signature timestamp of 40 digits": "1" + "0" * 39,
}


def _params() -> list[Any]:
    return [
        pytest.param(provider, case, id=f"{provider}-{case}")
        for case, hostile in CASES.items()
        for provider in TARGETS
        if not hostile.only or provider in hostile.only
    ]


def test_every_provider_is_covered():
    assert set(TARGETS) == set(PROVIDER_NAMES)


@pytest.fixture
def providers(pipeline: Pipeline) -> Pipeline:
    """The pipeline with one source per provider, named after it, its secret in SSM."""
    doc = copy.deepcopy(CONFIG_DOC)
    ssm = pipeline.aws.client("ssm")
    for name in TARGETS:
        doc["sources"][name] = {"provider": name, "secret": {"ssm_parameter": f"/slaclock/{name}"}}
        ssm.put_parameter(Name=f"/slaclock/{name}", Value=SECRET, Type="SecureString")
    doc["sources"]["freshdesk"]["options"] = {"domain": "acme"}
    put_config(pipeline.aws, config_yaml(doc))
    return pipeline


def snapshot(p: Pipeline) -> tuple[list[dict[str, Any]], list[str]]:
    """Everything a delivery can write: every table item, every schedule name."""
    table = p.aws.session.resource("dynamodb", region_name=p.aws.region).Table(p.aws.table)
    items = sorted(table.scan(ConsistentRead=True)["Items"], key=lambda i: (i["pk"], i["sk"]))
    scheduler = p.aws.client("scheduler")
    names = sorted(s["Name"] for s in scheduler.list_schedules(GroupName=p.aws.schedule_group)["Schedules"])
    return items, names


def problems_text(answer: dict[str, Any]) -> str:
    return "\n".join(
        [str(answer.get("error", "")), str(answer.get("reason", "")), *answer.get("problems", [])]
    )


@pytest.mark.parametrize(("provider", "case"), _params())
def test_a_hostile_body_is_a_4xx_naming_the_problem_and_changes_nothing(providers: Pipeline, provider, case):
    target, hostile = TARGETS[provider], CASES[case]
    p = providers
    p.now = target.anchor + timedelta(seconds=1)
    sample = load(*target.fixture)
    good = body(sample)
    status, answer, _ = p.post(provider, good, target.sign(good, target.anchor))
    assert status == 202, answer  # the ticket exists before the hostile delivery
    before = snapshot(p)

    hostile_body = hostile.build(copy.deepcopy(sample), target)
    assert len(hostile_body) <= 1024 * 1024, "the case must fit the body limit to reach the parser"
    headers = target.sign(hostile_body, target.anchor)
    if case in SIGNATURE_OVERRIDES:
        headers[signing.TIMESTAMP_HEADER] = SIGNATURE_OVERRIDES[case]
    status, answer, _ = p.post(provider, hostile_body, headers)

    assert status == hostile.status, answer
    assert re.search(hostile.expect, problems_text(answer)), answer
    assert snapshot(p) == before


# ------------------------------------------------------------------------------ the worst 1 MiB bodies


def _freshdesk_tags(tags: str) -> bytes:
    return body(with_(load("freshdesk", "ticket_created"), "freshdesk_webhook.ticket_tags", tags))


def _generic_custom(n: int) -> bytes:
    return body(
        with_(
            load("generic", "canonical_event"), "ticket.custom", {f"cf_{i:05d}": "v" * 80 for i in range(n)}
        )
    )


DISTINCT_TAGS = [f"tag-{i:020d}" for i in range(40_000)]
TOO_BIG = r"ticket: the fields take \d+ bytes"


@pytest.mark.parametrize(
    ("shape", "provider", "build", "expect"),
    [
        ("40,000 distinct tags", "freshdesk", lambda: _freshdesk_tags(",".join(DISTINCT_TAGS)), TOO_BIG),
        ("120,000 repeats of one tag", "freshdesk", lambda: _freshdesk_tags(",".join(["URGENT"] * 120_000)),
         None),
        ("9,000 custom fields", "generic", lambda: _generic_custom(9000), TOO_BIG),
    ],
)  # fmt: skip
def test_the_worst_one_mebibyte_bodies_are_answered_within_seconds(
    providers: Pipeline, shape, provider, build, expect
):
    p = providers
    target = TARGETS[provider]
    p.now = target.anchor + timedelta(seconds=1)
    payload = build()
    assert 800_000 < len(payload) <= 1024 * 1024, len(payload)
    warm = b"{}"  # a warm function: the first call's client set-up is the cold start's, not the body's
    assert p.post(provider, warm, target.sign(warm, target.anchor))[0] == 400

    started = time.perf_counter()
    status, answer, _ = p.post(provider, payload, target.sign(payload, target.anchor))
    elapsed = time.perf_counter() - started

    if expect is None:  # the repeats collapse: the event is small and stored
        assert status == 202, answer
        assert p.state(answer["tickets"][0]).fields["tags"] == ["URGENT"]
    else:
        assert status == 400 and re.search(expect, problems_text(answer)), answer
        assert snapshot(p) == ([], [])
    assert elapsed < 3.0, f"{shape}: {elapsed:.1f} s"
