"""Request dependencies of the CRM routes: the viewer, with their department and skills."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlmodel import Session

from crm.access import Viewer
from hotline.auth import CurrentAgent
from hotline.deps import SessionDep
from hotline.errors import Invalid


class StaffRecord(Protocol):
    @property
    def department_id(self) -> int | None: ...

    @property
    def skills(self) -> Mapping[str, int]: ...


class StaffLookup(Protocol):
    """Finds an agent's record; the app factory hands in the routing domain's lookup, so the
    CRM needs no import of routing (which imports the CRM)."""

    def __call__(self, *, session: Session, agent_id: int) -> StaffRecord | None: ...


def get_viewer(request: Request, session: SessionDep, principal: CurrentAgent) -> Viewer:
    if principal.is_supervisor or principal.agent_id is None:
        return Viewer(principal=principal)
    lookup: StaffLookup = request.app.state.staff_lookup
    staff = lookup(session=session, agent_id=principal.agent_id)
    if staff is None:
        return Viewer(principal=principal)
    return Viewer(
        principal=principal,
        department_id=staff.department_id,
        skills=frozenset(staff.skills),
    )


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def check_assignee(request: Request, session: Session, agent_id: int | None) -> None:
    """A ticket is assigned only to an agent who exists (422 otherwise)."""
    if agent_id is None:
        return
    lookup: StaffLookup = request.app.state.staff_lookup
    if lookup(session=session, agent_id=agent_id) is None:
        raise Invalid(f"no agent {agent_id}")
