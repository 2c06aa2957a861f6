"""Who may call the REST API.

Until agents sign in with their own credentials, staff routes take the operator's bearer
token (`HOTLINE_ADMIN_TOKEN`).
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hotline.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="HOTLINE_ADMIN_TOKEN")


def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("a bearer token is required")
    expected: str = request.app.state.settings.admin_token
    if not secrets.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise Forbidden("this token may not do that")
    return "admin"


Admin = Annotated[str, Depends(require_admin)]
