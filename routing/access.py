"""Signing in and bearer tokens: the records behind `hotline.auth`."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import update
from sqlmodel import Session, col, select

from hotline.auth import (
    Principal,
    Role,
    hash_password,
    new_token,
    password_needs_rehash,
    token_digest,
    verify_password,
)
from routing.models import Agent, ApiToken, IssuedToken

SIGN_IN_TOKEN_NAME = "sign-in"
# Writing last_used_at on every request would turn each read into a write; a minute is
# precise enough to see which tokens are alive.
_LAST_USED_PRECISION = timedelta(minutes=1)


@cache
def _decoy_hash() -> str:
    return hash_password("no agent has this password")


def sign_in(
    *, session: Session, login: str, password: str, now: datetime, valid_for: timedelta
) -> tuple[Agent, IssuedToken] | None:
    """The agent and a new sign-in token, or None for any wrong login or password."""
    agent = session.exec(select(Agent).where(Agent.login == login.strip().lower())).first()
    stored = agent.password_hash if agent is not None else None
    # Unknown logins cost a full KDF run too, so timing does not tell which logins exist.
    matches = verify_password(password, stored or _decoy_hash())
    if agent is None or agent.id is None or stored is None or not matches or not agent.active:
        return None
    if password_needs_rehash(stored):
        agent.password_hash = hash_password(password)
        session.add(agent)
    issued = issue_token(
        session=session,
        agent_id=agent.id,
        name=SIGN_IN_TOKEN_NAME,
        now=now,
        expires_at=now + valid_for,
    )
    return agent, issued


def issue_token(
    *, session: Session, agent_id: int, name: str, now: datetime, expires_at: datetime
) -> IssuedToken:
    token = new_token()
    record = ApiToken(
        agent_id=agent_id,
        name=name,
        token_hash=token_digest(token),
        created_at=now,
        expires_at=expires_at,
    )
    session.add(record)
    session.flush()
    return IssuedToken.model_validate(record, update={"token": token})


def principal_for_token(*, session: Session, digest: str, now: datetime) -> Principal | None:
    """Who holds the token with this digest, if it is live and its agent active."""
    row = session.exec(
        select(ApiToken, Agent)
        .join(Agent, col(Agent.id) == col(ApiToken.agent_id))
        .where(ApiToken.token_hash == digest)
    ).first()
    if row is None:
        return None
    token, agent = row
    if token.revoked_at is not None or token.expires_at <= now or not agent.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= _LAST_USED_PRECISION:
        token.last_used_at = now
        session.add(token)
    return Principal(role=Role(agent.role), agent_id=agent.id, token_id=token.id)


def list_tokens(*, session: Session, agent_id: int) -> list[ApiToken]:
    query = (
        select(ApiToken)
        .where(ApiToken.agent_id == agent_id)
        .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
    )
    return list(session.exec(query))


def get_token(*, session: Session, token_id: int) -> ApiToken | None:
    return session.get(ApiToken, token_id)


def revoke_token(*, session: Session, token_id: int, now: datetime) -> ApiToken | None:
    """Revoke one token (again is harmless); None if there is no such token."""
    token = session.get(ApiToken, token_id)
    if token is None:
        return None
    if token.revoked_at is None:
        token.revoked_at = now
        session.add(token)
        session.flush()
    return token


def revoke_all_tokens(*, session: Session, agent_id: int, now: datetime) -> None:
    session.exec(
        update(ApiToken)
        .where(col(ApiToken.agent_id) == agent_id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
