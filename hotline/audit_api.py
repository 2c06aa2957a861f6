"""Reading the audit log: admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from hotline import audit
from hotline.audit import AuditLogPublic
from hotline.auth import Admin
from hotline.deps import SessionDep
from hotline.errors import ERROR_RESPONSES

router = APIRouter(prefix="/api", tags=["audit"], responses=ERROR_RESPONSES)


@router.get("/audit", response_model=list[AuditLogPublic])
def read_audit_log(
    response: Response,
    session: SessionDep,
    _: Admin,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    object_type: Annotated[str | None, Query(max_length=32)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[AuditLogPublic]:
    """Newest first; the number of matching rows in `X-Total-Count`."""
    rows, total = audit.search(
        session=session,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        limit=limit,
        offset=offset,
    )
    response.headers["X-Total-Count"] = str(total)
    return [AuditLogPublic.model_validate(row) for row in rows]
