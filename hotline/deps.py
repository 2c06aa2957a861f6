"""Request dependencies as `Annotated` aliases that tests can override."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlmodel import Session

from hotline.clock import Clock
from hotline.context import Services
from hotline.db import session_scope
from hotline.settings import Settings


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_session(request: Request) -> Iterator[Session]:
    """The request owns the transaction: commit when the handler returns, else roll back."""
    with session_scope(get_services(request).engine) as session:
        yield session


def get_settings_dep(request: Request) -> Settings:
    return get_services(request).settings


def get_clock(request: Request) -> Clock:
    return get_services(request).clock


# The tables' ids are 32-bit on PostgreSQL: a larger id in a path is a 422, not a database error.
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]

ServicesDep = Annotated[Services, Depends(get_services)]
# scope="function": commit before the answer leaves, not after it has been sent (FastAPI's
# default). Otherwise a client's next request, on another API process, may not see the write
# yet, a failed commit has already answered 2xx, and a streamed answer (the supervisors' event
# stream) holds a database connection for its whole life.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ClockDep = Annotated[Clock, Depends(get_clock)]
