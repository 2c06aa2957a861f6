"""A REST answer leaves only once its transaction is committed: with several API processes the
client's next request may reach another one, which must already see the write (and a failed
commit must not have answered 201)."""

from __future__ import annotations

from typing import Any

import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.app import create_app
from hotline.clock import FrozenClock
from hotline.settings import Settings
from routing.models import Agent
from tests.conftest import ADMIN_TOKEN, PUBLIC_URL


class SeenAtResponseStart:
    """Wraps the app; when the response starts, looks in the database from another session."""

    def __init__(self, app: ASGIApp, engine: Engine, login: str) -> None:
        self.app, self.engine, self.login = app, engine, login
        self.found: list[bool] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def watching(message: Message) -> None:
            if message["type"] == "http.response.start" and scope["method"] == "POST":
                with Session(self.engine) as other:
                    agent = other.exec(select(Agent).where(Agent.login == self.login)).first()
                    self.found.append(agent is not None)
            await send(message)

        await self.app(scope, receive, watching)


def test_a_created_agent_is_committed_before_the_answer_starts(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    app = SeenAtResponseStart(create_app(settings, clock=clock), engine, "commit.first")
    payload: dict[str, Any] = {
        "name": "Commit First",
        "login": "commit.first",
        "password": "a-long-enough-password",
        "skills": {"cards": 5},
        "languages": ["zh"],
        "role": "agent",
    }
    with TestClient(app, base_url=PUBLIC_URL) as client:
        created = client.post(
            "/api/agents", json=payload, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
    assert created.status_code == 201, created.text
    assert app.found == [True]
