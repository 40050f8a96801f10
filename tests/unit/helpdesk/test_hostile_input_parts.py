"""The defence layer piece by piece: body decoding with limits, instants that cannot overflow, linear
tag de-duplication, the canonical field types, the delivery checks made before the first write, and
the local front's Content-Length. tests/integration/test_hostile_input.py sends the same hostile
inputs to every provider through the real webhook function."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from slaclock.engine.events import field_type_errors, parse_event
from slaclock.engine.limits import MAX_JSON_DEPTH
from slaclock.helpdesk import AuthError, PayloadError, signing
from slaclock.helpdesk._common import load_json, tag_list, to_instant, unix_instant
from slaclock.services.ingest import (
    MAX_EVENT_ID_LENGTH,
    MAX_EVENTS_PER_DELIVERY,
    MAX_FIELDS_BYTES,
    MAX_TICKET_ID_LENGTH,
    check_events,
)
from slaclock_local.front import LocalFront
from slaclock_local.functions import FunctionRunner, Route

T = datetime(2026, 11, 20, 16, 2, 41, tzinfo=UTC)


def _event(**ticket: Any) -> dict[str, Any]:
    return {"id": "e1", "ticket_id": "7", "type": "updated", "at": "2026-11-20T15:45:00Z", "ticket": ticket}


def refusal(exc: pytest.ExceptionInfo[Any]) -> list[str]:
    return list(exc.value.messages())


# ---------------------------------------------------------------- load_json


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": NaN}', "body: NaN is not JSON: numbers must be finite"),
        ('{"a": Infinity}', "body: Infinity is not JSON: numbers must be finite"),
        ('[-Infinity]', "body: -Infinity is not JSON: numbers must be finite"),
        ('{"a": 1e999}', "body: the number 1e999 is out of range"),
        ('{"a": -1e400}', "body: the number -1e400 is out of range"),
        ('{"a": ' + "7" * 5000 + "}", "body: an integer of 5000 digits (at most 38)"),
        ("[" + "-" + "1" * 39 + "]", "body: an integer of 39 digits (at most 38)"),
        ("[" * 100_000 + "]" * 100_000, f"body: nested deeper than {MAX_JSON_DEPTH} levels"),
        ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "body: nested deeper than 64 levels"),
        ('{"a": ' * 65 + "1" + "}" * 65, "body: nested deeper than 64 levels"),
    ],
)  # fmt: skip
def test_load_json_refuses_what_json_loads_would_let_through_or_crash_on(text, message):
    with pytest.raises(PayloadError) as exc:
        load_json(text.encode())
    assert refusal(exc) == [message]


def test_load_json_accepts_the_limits_themselves():
    deepest = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert load_json(deepest.encode()) is not None
    assert load_json(("[" + "9" * 38 + ", -1.5e308]").encode()) == [int("9" * 38), -1.5e308]
    assert load_json(b'{"id": "4711\\ud800"}') == {"id": "4711\ud800"}  # refused later, where ids are checked


# ---------------------------------------------------------------- instants


@pytest.mark.parametrize(
    "value", [1795190561410 * 10**27, 10**39, -1, 253402300799 * 1000 + 1000, float("nan"), float("inf")]
)
def test_unix_times_out_of_range_are_none_not_an_overflow(value):
    assert to_instant(value) is None


def test_unix_instant_covers_1970_to_9999():
    assert unix_instant(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert unix_instant(253402300799) == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert unix_instant(253402300800) is None
    assert unix_instant(True) is None


@pytest.mark.parametrize(("value", "message"), [(True, "true"), ({"a": 1}, "an object"), ([1], "an array")])
def test_a_value_of_the_wrong_json_type_is_not_a_missing_date(value, message):
    with pytest.raises(PayloadError) as exc:
        to_instant(value, path="ticket.updated_at")
    assert refusal(exc) == [f"ticket.updated_at: {message} is not a date or time"]


def test_a_40_digit_string_time_is_not_readable():
    assert to_instant("1" * 40) is None
    assert to_instant("9999-12-31T23:59:59-01:00") is None  # past datetime.max once in UTC


# ---------------------------------------------------------------- the generic signature timestamp


@pytest.mark.parametrize(
    ("timestamp", "reason"),
    [
        ("1795190561000", "X-Slaclock-Timestamp looks like milliseconds: send unix seconds (10 digits)"),
        ("1" + "0" * 39, "X-Slaclock-Timestamp has 40 digits: unix seconds have at most 10"),
        ("9" * 5000, "X-Slaclock-Timestamp has 5000 digits: unix seconds have at most 10"),
        ("１７９５１９０５６１", "X-Slaclock-Timestamp is not unix seconds"),  # full-width digits
        ("-1795190561", "X-Slaclock-Timestamp is not unix seconds"),
    ],
)
def test_a_signature_timestamp_that_is_not_unix_seconds_is_refused_by_name(timestamp, reason):
    body = b"{}"
    headers = signing.sign("s", body, T)
    headers[signing.TIMESTAMP_HEADER] = timestamp
    with pytest.raises(AuthError) as exc:
        signing.verify("s", headers, body, T)
    assert str(exc.value) == reason


# ---------------------------------------------------------------- tags


def test_tag_de_duplication_is_linear_and_keeps_first_occurrences():
    assert tag_list("b, a,b  c\tA") == ["b", "a", "c", "A"]
    assert tag_list(["b", {"name": "a"}, {"tag": "b"}, " c ", 7, None]) == ["b", "a", "c", "7"]
    many = [f"tag-{i:06d}" for i in range(40_000)]
    started = time.perf_counter()
    assert tag_list(many + many) == many
    assert tag_list(",".join(many)) == many
    assert time.perf_counter() - started < 1.0  # the quadratic version took ~20 s


@pytest.mark.parametrize(("value", "kind"), [(5, "a number"), (True, "a boolean"), ({"a": 1}, "an object")])
def test_tags_of_the_wrong_json_type_are_refused_not_read_as_none(value, kind):
    with pytest.raises(PayloadError) as exc:
        tag_list(value, "ticket.tags")
    assert refusal(exc) == [f"ticket.tags: {kind} is not a list of tags"]


# ---------------------------------------------------------------- canonical field types


@pytest.mark.parametrize(
    ("ticket", "message"),
    [
        ({"status": 5}, "ticket.status: must be a string, not a number"),
        ({"assignee": {"email": "a@b.c"}}, "ticket.assignee: must be a string, not an object"),
        ({"department": ["billing"]}, "ticket.department: must be a string, not an array"),
        ({"deleted": "yes"}, "ticket.deleted: must be true or false, not a string"),
        ({"created_at": True}, "ticket.created_at: True is not an ISO 8601 instant"),
        ({"updated_at": "2026-11-20T15:45:00"}, "ticket.updated_at: '2026-11-20T15:45:00' has no UTC offset "
                                                "(add 'Z' or '+hh:mm')"),
        ({"tags": "URGENT"}, "ticket.tags: must be a list of strings"),
        ({"custom": ["gold"]}, "ticket.custom: must be an object, not an array"),
        ({"custom": {"plan": {"tier": "gold"}}},
         "ticket.custom.plan: must be a string, number, boolean or a list of them, not an object"),
        ({"custom": {"plan": [["gold"]]}},
         "ticket.custom.plan: must be a string, number, boolean or a list of them, not an array"),
    ],
)  # fmt: skip
def test_ticket_fields_of_the_wrong_json_type_are_named(ticket, message):
    assert [f"{path}: {msg}" for path, msg in field_type_errors(ticket)] == [message]


def test_ticket_fields_of_the_right_type_pass():
    ticket = {
        "status": "open", "deleted": False, "created_at": "2026-11-20T15:45:00+01:00", "assignee": None,
        "tags": ["a"],
        "custom": {"plan": "gold", "seats": 12, "beta": True, "regions": ["eu", 3], "gone": None},
    }  # fmt: skip
    assert field_type_errors(ticket) == []


def test_a_canonical_delivery_with_a_mistyped_field_is_refused_before_anything_is_stored():
    event = parse_event(_event(department=12))  # parse_event stays lenient: stored events keep loading
    with pytest.raises(PayloadError) as exc:
        check_events([event], T)
    assert refusal(exc) == ["ticket.department: must be a string, not a number"]


# ---------------------------------------------------------------- check_events (before the first write)


def _canonical(**overrides: Any) -> Any:
    doc = {"id": "e1", "ticket_id": "7", "type": "updated", "at": "2026-11-20T15:45:00Z", "ticket": {}}
    return parse_event({**doc, **overrides})


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (_canonical(ticket_id="7" * (MAX_TICKET_ID_LENGTH + 1)), "ticket_id: 201 characters; at most 200"),
        (_canonical(id="e" * (MAX_EVENT_ID_LENGTH + 1)), "id: 256 characters; at most 255"),
        (_canonical(ticket_id="7\ud800"), "ticket_id: holds a lone UTF-16 surrogate: not Unicode text"),
        (_canonical(id="\udc00"), "id: holds a lone UTF-16 surrogate: not Unicode text"),
        (_canonical(ticket={"tags": ["ok", "bad\ud83d"]}),
         "ticket.tags[1]: holds a lone UTF-16 surrogate: not Unicode text"),
        (_canonical(ticket={"custom": {"note": "\udfff"}}),
         "ticket.custom.note: holds a lone UTF-16 surrogate: not Unicode text"),
        (_canonical(ticket={"custom": {"n": "x" * MAX_FIELDS_BYTES}}),
         "ticket: the fields take 65555 bytes of JSON; at most 65536 (largest: custom)"),
        (_canonical(at="2026-11-21T16:02:42Z"),
         "at: 2026-11-21T16:02:42Z is more than 24 h after the delivery arrived (2026-11-20T16:02:41Z)"),
        (_canonical(at="9999-12-31T23:59:59Z"),
         "at: 9999-12-31T23:59:59Z is more than 24 h after the delivery arrived (2026-11-20T16:02:41Z)"),
    ],
)  # fmt: skip
def test_check_events_names_what_cannot_be_stored(event, message):
    with pytest.raises(PayloadError) as exc:
        check_events([event], T)
    assert refusal(exc) == [message]


def test_check_events_lists_every_problem_of_a_batch_by_index():
    ok = _canonical()
    with pytest.raises(PayloadError) as exc:
        check_events([ok, _canonical(ticket_id="7" * 300), ok, _canonical(at="9999-01-01T00:00:00Z")], T)
    assert [m.split(":")[0] for m in refusal(exc)] == ["[1].ticket_id", "[3].at"]


def test_a_delivery_of_more_events_than_the_limit_is_refused_whole():
    batch = [_canonical(id=f"e{i}") for i in range(MAX_EVENTS_PER_DELIVERY + 1)]
    with pytest.raises(PayloadError) as exc:
        check_events(batch, T)
    assert refusal(exc) == ["body: 101 events; at most 100 per delivery (send several)"]
    check_events(batch[:MAX_EVENTS_PER_DELIVERY], T)


def test_check_events_accepts_the_limits_themselves():
    at_limit = _canonical(
        ticket_id="é" * MAX_TICKET_ID_LENGTH, id="e" * MAX_EVENT_ID_LENGTH, at="2026-11-21T16:02:41Z",
        ticket={"custom": {"n": "x" * (MAX_FIELDS_BYTES - 35)}, "tags": ["😀"]},  # exactly the limit
    )  # fmt: skip
    check_events([at_limit], T)


# ---------------------------------------------------------------- the local front


class _NoFunctions:
    """A runner no request may reach (the front must answer on its own)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def invoke(self, function: str, event: Any) -> Any:
        self.calls.append(function)
        raise AssertionError("the front should not have invoked a function")


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", "١٢"])
def test_a_content_length_that_is_not_a_number_is_400_on_the_local_front(length):
    runner = _NoFunctions()
    front = LocalFront(
        cast(FunctionRunner, runner), [Route("POST", "/webhooks/{source}", "WebhookFunction")],
        api_id="local", account_id="123456789012", now=lambda: T,
    )  # fmt: skip
    front.start()
    try:
        with socket.create_connection(("127.0.0.1", front.port), timeout=10) as conn:
            conn.sendall(
                f"POST /webhooks/custom HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n{{}}".encode()
            )
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
    finally:
        front.stop()
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 400") or head.startswith(b"HTTP/1.1 400"), head
    assert b"Content-Length must be a whole number of bytes" in payload
    assert runner.calls == []


def test_the_future_bound_is_relative_to_receipt():
    check_events([_canonical(at=(T + timedelta(hours=24)).isoformat())], T)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"at": "x" * 100_000}, "at: '" + "x" * 59 + "… (100,000 characters) is not an ISO 8601 instant"),
        ({"type": "y" * 5000}, "type: '" + "y" * 59 + "… (5,000 characters) is not one of created,"),
        ({"ticket": {"k" * 5000: 1}}, "ticket.'" + "k" * 59 + "… (5,000 characters): unknown ticket field"),
        ({"z" * 5000: 1}, "'" + "z" * 59 + "… (5,000 characters): unknown event key"),
        ({"at": "yesterday"}, "at: 'yesterday' is not an ISO 8601 instant"),  # short values: whole
    ],
)
def test_a_refused_value_is_quoted_short_with_its_size(doc, message):
    """An answer (400) or a skipped line's message names the value without echoing a megabyte of it."""
    base = {"id": "e1", "ticket_id": "7", "type": "created", "at": "2026-11-20T15:45:00Z"}
    with pytest.raises(ValueError) as exc:
        parse_event({**base, **doc})
    text = "; ".join(exc.value.messages())  # type: ignore[attr-defined]
    assert text.startswith(message) and len(text) < 200
