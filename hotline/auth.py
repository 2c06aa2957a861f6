"""Who may call the REST API: passwords, bearer tokens, and the role dependencies.

The shell knows how to check a secret; the records behind it (agents, their tokens) belong to
the routing domain. The app factory hands the shell a `TokenResolver` that turns a token's
digest into a `Principal`, so this module imports no domain.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis import Redis
from sqlmodel import Session

from hotline.deps import ClockDep, ServicesDep, SessionDep
from hotline.errors import Forbidden, TooManyRequests, Unauthorized

# scrypt at N=2^15, r=8 costs ~32 MiB and ~0.1 s per guess: cheap for one sign-in, ruinous for
# an offline attack on a stolen table. The parameters live in each hash, so they can be raised
# later without invalidating stored passwords.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024
_SALT_BYTES = 16
_KEY_BYTES = 32

SYSTEM_ACTOR = "system"
BOOTSTRAP_ACTOR = "admin-token"


class Role(StrEnum):
    agent = "agent"
    supervisor = "supervisor"
    admin = "admin"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=_KEY_BYTES
    )


def hash_password(password: str) -> str:
    """`scrypt$n=…,r=…,p=…$salt$key`: a fresh salt and today's parameters."""
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    params = f"n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}"
    return f"scrypt${params}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored`; False for any malformed hash."""
    try:
        scheme, params, salt, key = stored.split("$")
        cost = {name: int(value) for name, value in (item.split("=") for item in params.split(","))}
        if scheme != "scrypt":
            return False
        candidate = _scrypt(password, _unb64(salt), cost["n"], cost["r"], cost["p"])
    except (ValueError, KeyError):
        return False
    return hmac.compare_digest(candidate, _unb64(key))


def password_needs_rehash(stored: str) -> bool:
    return not stored.startswith(f"scrypt$n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}$")


def new_token() -> str:
    """A bearer token: 32 random bytes, URL-safe. Only its digest is ever stored."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    # A plain SHA-256 is enough here: the token has 256 bits of entropy, nothing to stretch.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: an agent (by id) with their role, or the bootstrap admin (no agent)."""

    role: Role
    agent_id: int | None = None
    token_id: int | None = None

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.supervisor, Role.admin)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    @property
    def actor(self) -> str:
        """How audit records name this principal."""
        return f"agent:{self.agent_id}" if self.agent_id is not None else BOOTSTRAP_ACTOR

    def may_act_on(self, agent_id: int) -> bool:
        """Agents act on themselves; supervisors and admins on everyone."""
        return self.is_supervisor or self.agent_id == agent_id


BOOTSTRAP_ADMIN = Principal(role=Role.admin)


class TokenResolver(Protocol):
    def __call__(self, *, session: Session, digest: str, now: datetime) -> Principal | None: ...


_bearer = HTTPBearer(
    auto_error=False, description="a token from /api/auth/login or /api/auth/tokens"
)


def current_principal(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("a bearer token is required")
    token = credentials.credentials
    bootstrap: str = request.app.state.settings.admin_token
    if hmac.compare_digest(token.encode(), bootstrap.encode()):
        return BOOTSTRAP_ADMIN
    resolve: TokenResolver = request.app.state.token_resolver
    principal = resolve(session=session, digest=token_digest(token), now=clock.now())
    if principal is None:
        raise Unauthorized("the token is unknown, expired or revoked")
    return principal


CurrentAgent = Annotated[Principal, Depends(current_principal)]


def require_supervisor(principal: CurrentAgent) -> Principal:
    if not principal.is_supervisor:
        raise Forbidden("only a supervisor or an admin may do that")
    return principal


def require_admin(principal: CurrentAgent) -> Principal:
    if not principal.is_admin:
        raise Forbidden("only an admin may do that")
    return principal


Supervisor = Annotated[Principal, Depends(require_supervisor)]
Admin = Annotated[Principal, Depends(require_admin)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class LoginLimiter:
    """Counts failed sign-ins per login name and per client address in Redis.

    Both counters expire `window_seconds` after the first failure in a window: a guesser gets
    a handful of tries per window per account, and one address cannot sweep many accounts.
    """

    redis: Redis
    per_login: int
    per_address: int
    window_seconds: int

    @staticmethod
    def _login_key(login: str) -> str:
        return f"login-failures:login:{login}"

    @staticmethod
    def _address_key(address: str) -> str:
        return f"login-failures:addr:{address}"

    def check(self, *, login: str, address: str) -> None:
        """Raise `TooManyRequests` when either counter is spent."""
        counts = self.redis.mget([self._login_key(login), self._address_key(address)])
        login_count, address_count = (int(value or 0) for value in counts)
        if login_count >= self.per_login or address_count >= self.per_address:
            minutes = max(self.window_seconds // 60, 1)
            raise TooManyRequests(f"too many failed sign-ins; try again within {minutes} minutes")

    def failed(self, *, login: str, address: str) -> None:
        pipe = self.redis.pipeline()
        for key in (self._login_key(login), self._address_key(address)):
            pipe.incr(key)
            # NX: the window starts at the first failure; later failures do not extend it.
            pipe.expire(key, self.window_seconds, nx=True)
        pipe.execute()

    def succeeded(self, *, login: str) -> None:
        self.redis.delete(self._login_key(login))


def get_login_limiter(services: ServicesDep) -> LoginLimiter:
    settings = services.settings
    return LoginLimiter(
        redis=services.redis,
        per_login=settings.login_failures_per_login,
        per_address=settings.login_failures_per_address,
        window_seconds=settings.login_failure_window_seconds,
    )


LoginLimiterDep = Annotated[LoginLimiter, Depends(get_login_limiter)]
