"""Parser models of the events that reach the functions (pydantic, at the edges only).

The webhook's API Gateway HTTP API (payload v2) event is read by Powertools' `APIGatewayHttpResolver`;
the helpdesk body is the provider's business (`slaclock.helpdesk`). The check's payload is the input
the scheduler adapter writes into each schedule (`slaclock.ports.Scheduler.arm`).
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class CheckFiring(BaseModel):
    """``{"ticket_id": "4711", "armed_for": "2026-11-20T10:31:00Z"}``: the schedule of `ticket_id`,
    armed for the whole minute `armed_for` (UTC), fired."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    ticket_id: str = Field(min_length=1)
    armed_for: AwareDatetime


class SweepContinuation(BaseModel):
    """``{"sweep_part": 2, "lease_holder": "<request id>"}``: the sweeper invoking itself to go on
    draining partition `sweep_part` of the due index under the lease `lease_holder` holds
    (`slaclock.services.sweep.run_sweep`). The scheduled sweep's EventBridge event has neither key."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sweep_part: int = Field(ge=0)
    lease_holder: str = Field(min_length=1)
