"""REST routes for agents: records, states, history and the softphone token. Thin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session

from hotline.auth import Admin, CurrentAgent, Principal, Supervisor
from hotline.deps import ClockDep, RowId, SessionDep, SettingsDep
from hotline.errors import ERROR_RESPONSES, Forbidden, NotFound
from routing import service
from routing.engine import SyncRouter
from routing.models import (
    Agent,
    AgentCreate,
    AgentPublic,
    AgentState,
    AgentStateChangePublic,
    AgentStateUpdate,
    AgentUpdate,
    VoiceToken,
)

router = APIRouter(prefix="/api/agents", tags=["agents"], responses=ERROR_RESPONSES)

AgentId = RowId
VOICE_TOKEN_TTL_SECONDS = 3600

# Which fields of an agent each role may change. Admins: all of them.
_SELF_FIELDS = frozenset({"name", "phone_number"})
_SUPERVISOR_FIELDS = _SELF_FIELDS | {"skills", "languages", "department_id"}


def _public(agent: Agent) -> AgentPublic:
    return AgentPublic.model_validate(agent)


def _agent_for(principal: Principal, agent_id: int, session: Session) -> Agent:
    """The agent `principal` may act on: themselves, or anyone for a supervisor."""
    if not principal.may_act_on(agent_id):
        raise Forbidden("agents may act only on themselves")
    agent = service.get_agent(session=session, agent_id=agent_id)
    if agent is None:
        raise NotFound(f"no agent {agent_id}")
    return agent


def _own_agent(principal: Principal, session: Session) -> Agent:
    if principal.agent_id is None:
        raise Forbidden("the admin token belongs to no agent: sign in as an agent")
    return _agent_for(principal, principal.agent_id, session)


@router.post("", response_model=AgentPublic, status_code=201)
def create_agent(data: AgentCreate, session: SessionDep, clock: ClockDep, _: Admin) -> AgentPublic:
    agent = service.create_agent(session=session, data=data, now=clock.now())
    return _public(agent)


@router.get("", response_model=list[AgentPublic])
def list_agents(
    session: SessionDep, _: Supervisor, include_inactive: bool = False
) -> list[AgentPublic]:
    agents = service.list_agents(session=session, include_inactive=include_inactive)
    return [_public(agent) for agent in agents]


@router.get("/me", response_model=AgentPublic)
def get_me(session: SessionDep, principal: CurrentAgent) -> AgentPublic:
    return _public(_own_agent(principal, session))


@router.get("/me/voice-token", response_model=VoiceToken)
def get_voice_token(
    session: SessionDep, settings: SettingsDep, principal: CurrentAgent
) -> VoiceToken:
    agent = _own_agent(principal, session)
    token = service.voice_access_token(
        settings=settings, agent=agent, ttl_seconds=VOICE_TOKEN_TTL_SECONDS
    )
    return VoiceToken(
        token=token, identity=agent.client_identity, expires_in=VOICE_TOKEN_TTL_SECONDS
    )


@router.get("/{agent_id}", response_model=AgentPublic)
def get_agent(agent_id: AgentId, session: SessionDep, principal: CurrentAgent) -> AgentPublic:
    return _public(_agent_for(principal, agent_id, session))


@router.patch("/{agent_id}", response_model=AgentPublic)
def update_agent(
    agent_id: AgentId,
    data: AgentUpdate,
    session: SessionDep,
    clock: ClockDep,
    routing: RouterDep,
    principal: CurrentAgent,
) -> AgentPublic:
    _agent_for(principal, agent_id, session)
    if not principal.is_admin:
        allowed = _SUPERVISOR_FIELDS if principal.is_supervisor else _SELF_FIELDS
        refused = sorted(data.model_fields_set - allowed)
        if refused:
            raise Forbidden({"message": "only an admin may change these", "fields": refused})
    agent = service.update_agent(
        session=session, agent_id=agent_id, data=data, now=clock.now(), actor=principal.actor
    )
    if agent.state == AgentState.available:
        # New skills or languages take effect in matching at once.
        service.apply_to_router(
            router=routing,
            agent=agent,
            now=clock.now(),
            actor=principal.actor,
        )
    return _public(agent)


@router.delete("/{agent_id}", status_code=204)
def deactivate_agent(
    agent_id: AgentId,
    session: SessionDep,
    clock: ClockDep,
    routing: RouterDep,
    admin: Admin,
) -> Response:
    if admin.agent_id == agent_id:
        raise Forbidden("an admin may not deactivate themselves")
    if service.get_agent(session=session, agent_id=agent_id) is None:
        raise NotFound(f"no agent {agent_id}")
    agent = service.deactivate_agent(
        session=session, agent_id=agent_id, now=clock.now(), actor=admin.actor
    )
    service.apply_to_router(router=routing, agent=agent, now=clock.now(), actor=admin.actor)
    return Response(status_code=204)


def get_router(request: Request) -> SyncRouter:
    router_: SyncRouter = request.app.state.sync_router
    return router_


RouterDep = Annotated[SyncRouter, Depends(get_router)]


@router.put("/{agent_id}/state", response_model=AgentPublic)
def set_state(
    agent_id: AgentId,
    data: AgentStateUpdate,
    session: SessionDep,
    clock: ClockDep,
    routing: RouterDep,
    principal: CurrentAgent,
) -> AgentPublic:
    _agent_for(principal, agent_id, session)
    agent = service.set_state(
        session=session,
        agent_id=agent_id,
        state=data.state,
        reason=data.reason,
        actor=principal.actor,
        now=clock.now(),
        # On themselves everyone follows the agent's rules; on others it is a supervisor forcing.
        forced=principal.agent_id != agent_id,
    )
    # The router holds the truth about calls; if it refuses, the request rolls back.
    service.apply_to_router(
        router=routing,
        agent=agent,
        now=clock.now(),
        actor=principal.actor,
    )
    return _public(agent)


@router.get("/{agent_id}/state-history", response_model=list[AgentStateChangePublic])
def state_history(
    agent_id: AgentId,
    session: SessionDep,
    principal: CurrentAgent,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[AgentStateChangePublic]:
    _agent_for(principal, agent_id, session)
    changes = service.state_history(session=session, agent_id=agent_id, limit=limit, offset=offset)
    return [AgentStateChangePublic.model_validate(change) for change in changes]
