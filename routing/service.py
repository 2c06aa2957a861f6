"""Agents and their states. Skill routing builds on these records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from crm import service as crm
from hotline.auth import SYSTEM_ACTOR, hash_password
from hotline.errors import Conflict, NotFound
from hotline.settings import Settings
from routing import access, jobs
from routing.engine import SyncRouter
from routing.models import (
    Agent,
    AgentBase,
    AgentCreate,
    AgentState,
    AgentStateChange,
    AgentUpdate,
)
from routing.router_types import AgentProfile

# What a person may choose; the other states belong to the routing engine.
PERSONAL_STATES = (AgentState.available, AgentState.on_break, AgentState.offline)
# An agent in one of these is on (or being offered) a call: only the engine moves them on,
# or a supervisor who forces it.
ON_A_CALL = (AgentState.reserved, AgentState.busy)


class StateChangeRefused(Conflict):
    """A 409 whose detail names the states that were allowed."""

    def __init__(self, message: str, *, current: AgentState, allowed: list[AgentState]) -> None:
        super().__init__(
            {
                "message": message,
                "state": str(current),
                "allowed": [str(state) for state in allowed],
            }
        )


def create_agent(*, session: Session, data: AgentBase | AgentCreate, now: datetime) -> Agent:
    """A new agent, offline. With `AgentCreate` they get a login and a password."""
    extra: dict[str, Any] = {"created_at": now, "state_since": now}
    if isinstance(data, AgentCreate):
        extra["login"] = data.login
        extra["password_hash"] = hash_password(data.password)
        _check_login_free(session=session, login=data.login)
    _check_department(session=session, department_id=data.department_id)
    agent = Agent.model_validate(data, update=extra)
    session.add(agent)
    _flush_or_conflict(session)
    return agent


def list_agents(*, session: Session, include_inactive: bool = True) -> list[Agent]:
    query = select(Agent).order_by(col(Agent.id))
    if not include_inactive:
        query = query.where(col(Agent.active).is_(True))
    return list(session.exec(query))


def get_agent(*, session: Session, agent_id: int) -> Agent | None:
    return session.get(Agent, agent_id)


def find_agent_by_login(*, session: Session, login: str) -> Agent | None:
    return session.exec(select(Agent).where(Agent.login == login.strip().lower())).first()


def _require(session: Session, agent_id: int, *, lock: bool = False) -> Agent:
    # FOR UPDATE: the routing engine and a person may change one agent at the same moment.
    agent = session.get(Agent, agent_id, with_for_update=lock)
    if agent is None:
        raise NotFound(f"no agent {agent_id}")
    return agent


def update_agent(
    *, session: Session, agent_id: int, data: AgentUpdate, now: datetime, actor: str
) -> Agent:
    """Change the fields sent; a new password is hashed, deactivation goes through delete."""
    agent = _require(session, agent_id, lock=True)
    changes = data.model_dump(exclude_unset=True)
    if "login" in changes and changes["login"] != agent.login:
        _check_login_free(session=session, login=changes["login"])
    if changes.get("department_id") is not None:
        _check_department(session=session, department_id=changes["department_id"])
    password = changes.pop("password", None)
    if password is not None:
        agent.password_hash = hash_password(password)
    active = changes.pop("active", None)
    agent.sqlmodel_update(changes)
    if active is False and agent.active:
        deactivate_agent(session=session, agent_id=agent_id, now=now, actor=actor)
    elif active is True:
        agent.active = True
    session.add(agent)
    _flush_or_conflict(session)
    return agent


def deactivate_agent(*, session: Session, agent_id: int, now: datetime, actor: str) -> Agent:
    """Soft delete: the record stays for history; sign-ins, tokens and calls stop."""
    agent = _require(session, agent_id, lock=True)
    if agent.state != AgentState.offline:
        _record(session, agent, AgentState.offline, reason="deactivated", actor=actor, now=now)
    agent.active = False
    access.revoke_all_tokens(session=session, agent_id=agent_id, now=now)
    session.add(agent)
    session.flush()
    return agent


def allowed_states(current: AgentState, *, forced: bool) -> list[AgentState]:
    """What a person may move an agent to from `current` (nothing while on a call, unforced)."""
    if current in ON_A_CALL and not forced:
        return []
    return list(PERSONAL_STATES)


def set_state(
    *,
    session: Session,
    agent_id: int,
    state: AgentState,
    reason: str | None = None,
    actor: str,
    now: datetime,
    by_system: bool = False,
    forced: bool = False,
) -> Agent:
    """Move an agent to `state` and record the change.

    A person (`forced=False`: the agent themselves) may choose available, break (with a
    reason) or offline, and not while on a call; a supervisor (`forced=True`) may force those
    three from any state. `by_system=True` is the routing engine: any state, including
    reserved, busy, wrap-up and missed. Setting the current state again changes nothing.
    """
    agent = _require(session, agent_id, lock=True)
    if not agent.active:
        raise Conflict(f"agent {agent_id} is deactivated")
    if not by_system:
        allowed = allowed_states(agent.state, forced=forced)
        if state not in allowed:
            message = (
                f"an agent who is {agent.state} is moved on by the routing engine"
                if not allowed
                else f"{state} is set by the routing engine, not by a person"
            )
            raise StateChangeRefused(message, current=agent.state, allowed=allowed)
    if state == AgentState.on_break and not reason:
        raise Conflict("a break needs a reason")
    if state == agent.state and (reason or None) == agent.break_reason:
        return agent
    _record(session, agent, state, reason=reason, actor=actor, now=now)
    session.flush()
    return agent


def _record(
    session: Session,
    agent: Agent,
    state: AgentState,
    *,
    reason: str | None,
    actor: str,
    now: datetime,
) -> None:
    assert agent.id is not None
    session.add(
        AgentStateChange(
            agent_id=agent.id,
            from_state=agent.state,
            to_state=state,
            reason=reason,
            actor=actor,
            at=now,
        )
    )
    agent.state = state
    agent.state_since = now
    agent.break_reason = reason if state == AgentState.on_break else None
    session.add(agent)


def state_history(
    *, session: Session, agent_id: int, limit: int = 100, offset: int = 0
) -> list[AgentStateChange]:
    """The agent's state changes, newest first."""
    _require(session, agent_id)
    query = (
        select(AgentStateChange)
        .where(AgentStateChange.agent_id == agent_id)
        .order_by(col(AgentStateChange.at).desc(), col(AgentStateChange.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.exec(query))


def voice_access_token(*, settings: Settings, agent: Agent, ttl_seconds: int) -> str:
    """A Twilio access token for the agent's softphone: their own identity, incoming calls."""
    token = AccessToken(
        settings.twilio_account_sid,
        settings.twilio_api_key_sid,
        settings.twilio_api_key_secret,
        identity=agent.client_identity,
        ttl=ttl_seconds,
    )
    token.add_grant(
        VoiceGrant(incoming_allow=True, outgoing_application_sid=settings.twilio_twiml_app_sid)
    )
    jwt: str = token.to_jwt()
    return jwt


def _check_login_free(*, session: Session, login: str) -> None:
    if find_agent_by_login(session=session, login=login) is not None:
        raise Conflict(f"the login {login!r} is taken")


def _check_department(*, session: Session, department_id: int | None) -> None:
    if department_id is None:
        return
    if crm.get_department(session=session, department_id=department_id) is None:
        raise Conflict(f"no department {department_id}")


def _flush_or_conflict(session: Session) -> None:
    # The checks above catch the usual case; the unique index catches two racing writers (the
    # Conflict then rolls the request back).
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict("the login is taken") from exc


def lock_agents(*, session: Session, agent_ids: Iterable[int]) -> dict[int, Agent]:
    """Lock these agents' rows for this transaction in one statement (in id order, as two
    lockers must), loaded and kept by id; ids not on record are left out."""
    ids = sorted(set(agent_ids))
    if not ids:
        return {}
    query = select(Agent).where(col(Agent.id).in_(ids)).order_by(col(Agent.id)).with_for_update()
    return {agent.id: agent for agent in session.exec(query) if agent.id is not None}


def record_router_state(
    *,
    session: Session,
    agent_id: int,
    state: str,
    reason: str | None,
    at: datetime,
    locked: Mapping[int, Agent] | None = None,
) -> int:
    """A change the router made on its own, put on the agent's record; 1 if written.
    `locked`: agents already locked by `lock_agents`; an agent not among them is locked here."""
    agent = locked.get(agent_id) if locked is not None else None
    if agent is None:
        agent = session.get(Agent, agent_id, with_for_update=True)
    if agent is None or not agent.active or state not in {known.value for known in AgentState}:
        return 0  # not one of ours (or gone): the router's word is all there is
    if agent.state == state:
        return 0
    _record(session, agent, AgentState(state), reason=reason, actor=SYSTEM_ACTOR, now=at)
    return 1


# --- the router's view of an agent -----------------------------------------------------------


def profile_of(agent: Agent) -> AgentProfile:
    """What matching needs: skills, languages, and how the agent takes calls."""
    assert agent.id is not None
    contact = (
        f"number:{agent.phone_number}" if agent.phone_number else f"client:{agent.client_identity}"
    )
    return AgentProfile(
        agent_id=agent.id,
        skills=dict(agent.skills),
        languages=list(agent.languages),
        contact=contact,
    )


def apply_to_router(*, router: SyncRouter, agent: Agent, now: datetime, actor: str) -> None:
    """Make the router agree with the state a person chose; refused while the agent is on a call.

    Available: the agent joins matching at once and may be offered a waiting caller, who is
    then pushed to them. Break and offline: the agent leaves matching.
    """
    assert agent.id is not None
    if agent.state == AgentState.available:
        outcome = router.agent_ready(agent=profile_of(agent), now=now, actor=actor)
    elif agent.state in (AgentState.on_break, AgentState.offline):
        outcome = router.agent_away(
            agent_id=agent.id,
            state=str(agent.state),
            reason=agent.break_reason or "",
            now=now,
            actor=actor,
        )
    else:
        return
    if outcome.state == "refused":
        held = AgentState(outcome.held_in or AgentState.busy)
        raise StateChangeRefused(
            f"the agent is {held} on a call; the routing engine moves them on",
            current=held,
            allowed=[],
        )
    if outcome.offered_call:
        jobs.schedule_push(router.connection, outcome.offered_call, agent.id)


def agent_on_call(*, router: SyncRouter, call_sid: str) -> int | None:
    """The agent talking on a live call now, if any (for PCI pause/resume and the like)."""
    state = router.call_state(call_sid)
    agent = state.get("agent", "")
    return int(agent) if state.get("state") == "connected" and agent.isdigit() else None
