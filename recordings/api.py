"""REST routes for recordings: metadata, playback with ranges, the access log, PCI pause and
resume, legal holds. Thin: the rules live in the service modules."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel
from sqlmodel import Session
from twilio.base.exceptions import TwilioRestException

from hotline.auth import Admin, CurrentAgent, Principal, Supervisor, client_address
from hotline.deps import ClockDep, RowId, ServicesDep, SessionDep
from hotline.errors import ERROR_RESPONSES, Conflict, Forbidden, NotFound
from recordings import holds, service
from recordings.models import (
    LegalHoldCreate,
    LegalHoldPublic,
    Recording,
    RecordingAccessPublic,
    RecordingPublic,
)
from recordings.ranges import RangeNotSatisfiable, parse_range
from recordings.storage import make_storage
from routing import service as routing

router = APIRouter(prefix="/api", tags=["recordings"], responses=ERROR_RESPONSES)

RecordingId = RowId
CallSid = Annotated[str, Path(pattern=r"^CA[0-9a-fA-F]{32}$")]
TicketNumber = Annotated[str, Path(pattern=r"^T\d{8}-\d{4,}$", max_length=20)]


class RecordingControl(BaseModel):
    call_sid: str
    recording: Literal["paused", "in-progress"]
    changed: bool


def _allowed(
    request: Request,
    session: Session,
    clock: ClockDep,
    principal: Principal,
    recording_id: int,
    what: str,
) -> Recording:
    """The recording if `principal` may have it; a refusal is logged before it is answered."""
    recording = service.get(session=session, recording_id=recording_id)
    if recording is None or recording.id is None:
        raise NotFound(f"no recording {recording_id}")
    if not service.may_listen(session=session, recording=recording, principal=principal):
        service.record_access(
            session=session,
            recording_id=recording.id,
            actor=principal.actor,
            client_address=client_address(request),
            what=what,
            byte_range=request.headers.get("range"),
            status_code=403,
            now=clock.now(),
        )
        session.commit()  # the refusal stays on record although the request fails
        raise Forbidden("only supervisors and the agent who took the call may have it")
    return recording


@router.get("/recordings/{recording_id}", response_model=RecordingPublic)
def get_recording(
    recording_id: RecordingId,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: CurrentAgent,
) -> RecordingPublic:
    recording = _allowed(request, session, clock, principal, recording_id, "metadata")
    assert recording.id is not None
    service.record_access(
        session=session,
        recording_id=recording.id,
        actor=principal.actor,
        client_address=client_address(request),
        what="metadata",
        byte_range=None,
        status_code=200,
        now=clock.now(),
    )
    return service.public(session=session, recording=recording)


@router.get(
    "/recordings/{recording_id}/audio",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"audio/x-wav": {}}},
        206: {"description": "the range asked for"},
        416: {"description": "a range outside the file, malformed, or several"},
    },
)
def get_recording_audio(
    recording_id: RecordingId,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    clock: ClockDep,
    principal: CurrentAgent,
    range_: Annotated[str | None, Header(alias="range")] = None,
) -> Response:
    recording = _allowed(request, session, clock, principal, recording_id, "audio")
    assert recording.id is not None
    if recording.deleted_at is not None:
        raise Conflict(f"the audio was deleted: {recording.deleted_reason}")
    if recording.storage_key is None or recording.size_bytes is None:
        raise Conflict("the audio has not been stored yet")
    size = recording.size_bytes
    try:
        wanted = parse_range(range_, size)
        status = 206 if wanted is not None else 200
    except RangeNotSatisfiable:
        wanted, status = None, 416

    service.record_access(
        session=session,
        recording_id=recording.id,
        actor=principal.actor,
        client_address=client_address(request),
        what="audio",
        byte_range=range_,
        status_code=status,
        now=clock.now(),
    )
    if status == 416:
        return JSONResponse(
            {"error": "range_not_satisfiable", "detail": f"the audio has {size} bytes"},
            status_code=416,
            headers={"Content-Range": f"bytes */{size}"},
        )
    start, end = (wanted.start, wanted.end) if wanted else (0, size - 1)
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1)}
    if wanted is not None:
        headers["Content-Range"] = wanted.content_range(size)
    storage = make_storage(services.settings)
    return StreamingResponse(
        storage.read(recording.storage_key, start, end),
        status_code=status,
        media_type=recording.content_type or "audio/x-wav",
        headers=headers,
    )


@router.get("/recordings/{recording_id}/accesses", response_model=list[RecordingAccessPublic])
def list_accesses(
    recording_id: RecordingId, session: SessionDep, _: Admin
) -> list[RecordingAccessPublic]:
    if service.get(session=session, recording_id=recording_id) is None:
        raise NotFound(f"no recording {recording_id}")
    return [
        RecordingAccessPublic.model_validate(access)
        for access in service.accesses(session=session, recording_id=recording_id)
    ]


def _control(
    request: Request,
    session: Session,
    services: ServicesDep,
    clock: ClockDep,
    principal: Principal,
    call_sid: str,
    action: Literal["paused", "resumed"],
) -> RecordingControl:
    agent = routing.agent_on_call(router=request.app.state.sync_router, call_sid=call_sid)
    if not principal.is_supervisor and (agent is None or agent != principal.agent_id):
        raise Forbidden("only the agent on the call or a supervisor may do that")
    if agent is None:
        raise Conflict(f"call {call_sid} is not talking to an agent now")
    paused = service.recording_paused(session=session, call_sid=call_sid)
    state: Literal["paused", "in-progress"] = "paused" if action == "paused" else "in-progress"
    if paused == (action == "paused"):
        return RecordingControl(call_sid=call_sid, recording=state, changed=False)
    # No transaction stays open across a request to Twilio (and SQLite's single writer is free
    # for the outbox gateway).
    session.commit()
    try:
        services.gateway.update_call_recording(
            call_sid=call_sid,
            status=state,
            # skip: the paused stretch is left out of the audio, not kept as silence.
            pause_behavior="skip" if action == "paused" else None,
        )
    except TwilioRestException as exc:
        raise Conflict(f"Twilio refused: {exc.msg}") from exc
    service.note_pause(
        session=session, call_sid=call_sid, action=action, actor=principal.actor, now=clock.now()
    )
    return RecordingControl(call_sid=call_sid, recording=state, changed=True)


@router.post("/calls/{call_sid}/recording/pause", response_model=RecordingControl)
def pause_recording(
    call_sid: CallSid,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    clock: ClockDep,
    principal: CurrentAgent,
) -> RecordingControl:
    """PCI: stop recording while the customer reads out card details."""
    return _control(request, session, services, clock, principal, call_sid, "paused")


@router.post("/calls/{call_sid}/recording/resume", response_model=RecordingControl)
def resume_recording(
    call_sid: CallSid,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    clock: ClockDep,
    principal: CurrentAgent,
) -> RecordingControl:
    return _control(request, session, services, clock, principal, call_sid, "resumed")


@router.post("/tickets/{number}/legal-hold", response_model=LegalHoldPublic, status_code=201)
def set_legal_hold(
    number: TicketNumber,
    data: LegalHoldCreate,
    session: SessionDep,
    clock: ClockDep,
    supervisor: Supervisor,
) -> LegalHoldPublic:
    return holds.set_hold(
        session=session, number=number, reason=data.reason, actor=supervisor.actor, now=clock.now()
    )


@router.delete("/tickets/{number}/legal-hold", response_model=LegalHoldPublic)
def release_legal_hold(
    number: TicketNumber, session: SessionDep, clock: ClockDep, supervisor: Supervisor
) -> LegalHoldPublic:
    return holds.release_hold(
        session=session, number=number, actor=supervisor.actor, now=clock.now()
    )
