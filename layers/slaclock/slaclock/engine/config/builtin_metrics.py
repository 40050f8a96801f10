"""The built-in metrics, as declarative definitions in the language of a configuration's ``metrics:``
section (docs/clocks.md, "Metrics as definitions"). A configuration may replace any of them by
defining a metric of the same name, or add its own.

`first_response`, `next_response` and `resolution` are the engine's classic clocks: the fold runs them
through its compiled fast path (`slaclock.engine.clocks.fold`), which computes exactly what these
definitions say, while the configuration keeps them as shipped; once it redefines one of them, the
fold evaluates all three from their definitions (`Policy.fast`, with the same results for the same
definitions: tests/unit/engine/test_classic_definitions.py). The others run through the general
evaluation of definitions, and only for tickets whose level has a target for them.
"""

from __future__ import annotations

from typing import Any

SOLVED: dict[str, Any] = {"field": "solved", "op": "is", "value": True}
ANSWERED: dict[str, Any] = {"any": [{"answers": True}, SOLVED]}
REOPENED: dict[str, Any] = {"field": "solved", "becomes": False}

BUILTIN_METRICS: dict[str, dict[str, Any]] = {
    "first_response": {
        "description": "From the ticket's creation until the first message that counts as a response.",
        "start": {"event": "created"},
        "stop": ANSWERED,
    },
    "next_response": {
        "description": "From each customer message while no response clock waits until the next response.",
        "start": {
            "all": [
                {"event": "customer_replied"},
                {"not": SOLVED},
                {"not": {"running": "first_response"}},
            ]
        },
        "cycles": True,
        "stop": ANSWERED,
    },
    "resolution": {
        "description": "From the ticket's creation until it is solved; resumes in the same cycle on reopen.",
        "start": {"event": "created"},
        "stop": SOLVED,
        "resume": REOPENED,
    },
    "periodic_update": {
        "description": "Every N business hours a public agent update is due while the customer waits.",
        "start": {"any": [{"event": "created"}, REOPENED]},
        "cycles": True,
        "reset": {"all": [{"answers": True}, {"field": "reply.public", "op": "is_not", "value": False}]},
        "stop": SOLVED,
        "pause": ["pending"],
    },
    "requester_wait": {
        "description": "The time the requester waits: new, open and on-hold time until solved.",
        "start": {"event": "created"},
        "stop": SOLVED,
        "resume": REOPENED,
        "pause": ["pending"],
    },
    "agent_work": {
        "description": "The time the agents have the ticket: new and open time until solved.",
        "start": {"event": "created"},
        "stop": SOLVED,
        "resume": REOPENED,
        "pause": ["pending", "on_hold"],
    },
    "first_assign": {
        "description": "From the ticket's creation until it first has an assignee.",
        "start": {"event": "created"},
        "stop": {"any": [{"field": "assignee", "op": "exists", "value": True}, SOLVED]},
    },
}
"""The definitions, by name, as a document's ``metrics`` section would give them."""

CLASSIC: tuple[str, ...] = ("first_response", "next_response", "resolution")
"""The built-ins the fold computes on its compiled fast path while they keep these definitions."""
