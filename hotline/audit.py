"""The audit log: who changed or read what, when, from where. Written in the same
transaction as the change it records, so a change and its audit row stand or fall together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel, col, func, select

from hotline.auth import CurrentAgent, Principal, client_address
from hotline.db_types import UTCDateTime
from hotline.deps import ClockDep, SessionDep


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    # "agent:<id>" or "admin-token", as Principal.actor names them.
    actor: str = Field(max_length=64, index=True)
    action: str = Field(max_length=64)
    object_type: str = Field(max_length=32)
    object_id: str = Field(max_length=64)
    address: str = Field(max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AuditLogPublic(SQLModel):
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    address: str
    detail: dict[str, Any]


def record(
    *,
    session: Session,
    at: datetime,
    actor: str,
    address: str,
    action: str,
    object_type: str,
    object_id: str | int,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    row = AuditLog(
        at=at,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        address=address[:64],
        detail=detail or {},
    )
    session.add(row)
    return row


def search(
    *,
    session: Session,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditLog], int]:
    """Newest first, and how many match in all."""
    query = select(AuditLog)
    if actor is not None:
        query = query.where(AuditLog.actor == actor)
    if action is not None:
        query = query.where(AuditLog.action == action)
    if object_type is not None:
        query = query.where(AuditLog.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditLog.object_id == object_id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc()).offset(offset).limit(limit)
    )
    return list(rows), int(total)


@dataclass(frozen=True)
class Auditor:
    """The request's principal, address, clock and session, ready to write audit rows."""

    session: Session
    principal: Principal
    address: str
    now: datetime

    @property
    def actor(self) -> str:
        return self.principal.actor

    def record(
        self,
        action: str,
        object_type: str,
        object_id: str | int,
        detail: dict[str, Any] | None = None,
    ) -> None:
        record(
            session=self.session,
            at=self.now,
            actor=self.actor,
            address=self.address,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=detail,
        )


def get_auditor(
    request: Request, session: SessionDep, principal: CurrentAgent, clock: ClockDep
) -> Auditor:
    return Auditor(
        session=session, principal=principal, address=client_address(request), now=clock.now()
    )


AuditorDep = Annotated[Auditor, Depends(get_auditor)]
