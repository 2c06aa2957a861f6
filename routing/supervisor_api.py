"""What a supervisor does to a waiting caller: move them to another queue, raise their priority."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field, model_validator

from hotline.auth import Supervisor
from hotline.deps import ClockDep
from hotline.errors import ERROR_RESPONSES, Conflict, HotlineError
from routing import jobs
from routing.api import RouterDep

router = APIRouter(prefix="/api/supervisor", tags=["supervisor"], responses=ERROR_RESPONSES)

CallSid = Annotated[str, Path(pattern=r"^CA[0-9a-fA-F]{32}$")]


class UnknownQueue(HotlineError):
    status_code = 422
    error = "validation_error"


class CallMove(BaseModel):
    """Either or both: the queue to wait in, the priority (1 most urgent … 4)."""

    queue: str | None = Field(default=None, max_length=32)
    priority: int | None = Field(default=None, ge=1, le=4)

    @model_validator(mode="after")
    def _something(self) -> CallMove:
        if self.queue is None and self.priority is None:
            raise ValueError("give a queue, a priority, or both")
        return self


class CallPlacement(BaseModel):
    call_sid: str
    state: str
    queue: str
    agent_id: int | None


@router.patch("/calls/{call_sid}", response_model=CallPlacement)
def move_waiting_call(
    call_sid: CallSid,
    move: CallMove,
    routing: RouterDep,
    clock: ClockDep,
    _: Supervisor,
) -> CallPlacement:
    """Move a waiting caller; they keep the time they have waited. 409 if not waiting."""
    if move.queue is not None and move.queue not in routing.config.queues:
        raise UnknownQueue(
            {"message": f"no queue {move.queue!r}", "queues": sorted(routing.config.queues)}
        )
    placement = routing.move(
        call_sid=call_sid, queue=move.queue, priority=move.priority, now=clock.now()
    )
    if placement.state == "not_waiting":
        raise Conflict("that caller is not waiting in a queue (answered, ringing or gone)")
    if placement.state == "offered" and placement.agent_id is not None:
        jobs.schedule_push(routing.connection, call_sid, placement.agent_id)
    return CallPlacement(
        call_sid=call_sid, state=placement.state, queue=placement.queue, agent_id=placement.agent_id
    )
