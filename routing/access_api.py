"""REST routes for signing in and out and for agents' own API tokens. Thin."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response

from hotline.auth import CurrentAgent, LoginLimiterDep, Principal, client_address
from hotline.deps import ClockDep, RowId, SessionDep, SettingsDep
from hotline.errors import ERROR_RESPONSES, ErrorBody, Forbidden, NotFound, Unauthorized
from routing import access
from routing.models import (
    AgentPublic,
    ApiTokenCreate,
    ApiTokenPublic,
    IssuedToken,
    LoginRequest,
    LoginResult,
)

router = APIRouter(
    prefix="/api/auth",
    tags=["sign-in"],
    responses={**ERROR_RESPONSES, 429: {"model": ErrorBody, "description": "too many requests"}},
)

TokenId = RowId


def _agent_id(principal: Principal) -> int:
    if principal.agent_id is None:
        raise Forbidden("the admin token belongs to no agent: sign in as an agent")
    return principal.agent_id


@router.post("/login", response_model=LoginResult)
def login(
    data: LoginRequest,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    limiter: LoginLimiterDep,
) -> LoginResult:
    # A sync route on purpose: the KDF is slow by design and must not hold the event loop.
    name, address = data.login.strip().lower(), client_address(request)
    limiter.check(login=name, address=address)
    signed_in = access.sign_in(
        session=session,
        login=name,
        password=data.password,
        now=clock.now(),
        valid_for=timedelta(hours=settings.session_hours),
    )
    if signed_in is None:
        limiter.failed(login=name, address=address)
        raise Unauthorized("wrong login or password")
    limiter.succeeded(login=name)
    agent, issued = signed_in
    return LoginResult(
        token=issued.token, expires_at=issued.expires_at, agent=AgentPublic.model_validate(agent)
    )


@router.post("/logout", status_code=204)
def logout(session: SessionDep, clock: ClockDep, principal: CurrentAgent) -> Response:
    if principal.token_id is None:
        raise Forbidden("the admin token is configuration: change HOTLINE_ADMIN_TOKEN instead")
    access.revoke_token(session=session, token_id=principal.token_id, now=clock.now())
    return Response(status_code=204)


@router.get("/tokens", response_model=list[ApiTokenPublic])
def list_tokens(session: SessionDep, principal: CurrentAgent) -> list[ApiTokenPublic]:
    tokens = access.list_tokens(session=session, agent_id=_agent_id(principal))
    return [ApiTokenPublic.model_validate(token) for token in tokens]


@router.post("/tokens", response_model=IssuedToken, status_code=201)
def create_token(
    data: ApiTokenCreate, session: SessionDep, clock: ClockDep, principal: CurrentAgent
) -> IssuedToken:
    now = clock.now()
    return access.issue_token(
        session=session,
        agent_id=_agent_id(principal),
        name=data.name,
        now=now,
        expires_at=now + timedelta(days=data.expires_in_days),
    )


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(
    token_id: TokenId, session: SessionDep, clock: ClockDep, principal: CurrentAgent
) -> Response:
    token = access.get_token(session=session, token_id=token_id)
    if token is None:
        raise NotFound(f"no token {token_id}")
    # Agents revoke their own tokens; an admin may revoke anyone's (a lost laptop).
    if token.agent_id != principal.agent_id and not principal.is_admin:
        raise Forbidden("agents may revoke only their own tokens")
    access.revoke_token(session=session, token_id=token_id, now=clock.now())
    return Response(status_code=204)
