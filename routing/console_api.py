"""REST routes for the agent console: the agent's own desk (state and screen pop). Thin."""

from __future__ import annotations

from fastapi import APIRouter

from hotline.auth import CurrentAgent
from hotline.deps import ServicesDep, SessionDep
from hotline.errors import ERROR_RESPONSES, Forbidden, NotFound
from routing import console, service
from routing.api import RouterDep
from routing.console_models import AgentDesk

router = APIRouter(prefix="/api/agents", tags=["agents"], responses=ERROR_RESPONSES)


@router.get("/me/call", response_model=AgentDesk)
def my_call(
    session: SessionDep, services: ServicesDep, routing: RouterDep, principal: CurrentAgent
) -> AgentDesk:
    """The caller's agent's state and the call offered to them or on their line, with the
    caller's profile and open tickets; `call` is null when there is none."""
    if principal.agent_id is None:
        raise Forbidden("the admin token belongs to no agent: sign in as an agent")
    agent = service.get_agent(session=session, agent_id=principal.agent_id)
    if agent is None:
        raise NotFound(f"no agent {principal.agent_id}")
    return console.agent_desk(session=session, router=routing, client=services.redis, agent=agent)
