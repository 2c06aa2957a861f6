from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Header, HTTPException

from simulator.provisioning import (
    ProvisioningError,
    admin_client,
    agent_roster,
    provision_agents,
    sign_out_agents,
)

TOKEN = "admin-token-for-the-fake"


def agent_api() -> tuple[FastAPI, dict[str, dict[str, Any]]]:
    """The contract the agents branch builds, as small as it can be."""
    app = FastAPI()
    agents: dict[str, dict[str, Any]] = {}

    def check(authorization: str | None) -> None:
        if authorization != f"Bearer {TOKEN}":
            raise HTTPException(401)

    @app.post("/api/agents", status_code=201)
    def create(body: dict[str, Any], authorization: str | None = Header(None)) -> dict[str, Any]:
        check(authorization)
        if any(a["login"] == body["login"] for a in agents.values()):
            raise HTTPException(409)
        agent_id = str(len(agents) + 1)
        agents[agent_id] = {**body, "id": agent_id, "state": "offline"}
        return {"id": agent_id, "name": body["name"]}

    @app.put("/api/agents/{agent_id}/state")
    def set_state(
        agent_id: str, body: dict[str, str], authorization: str | None = Header(None)
    ) -> dict[str, str]:
        check(authorization)
        agents[agent_id]["state"] = body["state"]
        return {"id": agent_id, "state": body["state"]}

    return app, agents


@pytest.mark.anyio
async def test_agents_are_created_with_their_skills_then_made_available() -> None:
    app, agents = agent_api()
    roster = agent_roster(4, ["cards", "loans"], "run1")
    async with admin_client("http://hotline", TOKEN, httpx.ASGITransport(app=app)) as client:
        ids = await provision_agents(client, roster)
        assert ids == ["1", "2", "3", "4"]
        assert agents["1"]["skills"] == {"cards": 8, "loans": 4}
        assert agents["1"]["languages"] == ["zh", "en"] and agents["2"]["languages"] == ["zh"]
        assert agents["1"]["role"] == "agent" and agents["1"]["login"] == "sim-run1-001"
        assert {a["state"] for a in agents.values()} == {"available"}
        await sign_out_agents(client, ids)
    assert {a["state"] for a in agents.values()} == {"offline"}


@pytest.mark.anyio
async def test_a_hotline_without_the_agent_api_means_ivr_only() -> None:
    async with admin_client("http://hotline", TOKEN, httpx.ASGITransport(app=FastAPI())) as c:
        assert await provision_agents(c, agent_roster(2, ["cards"], "run1")) is None


@pytest.mark.anyio
async def test_a_refused_token_or_a_conflict_stops_with_the_answer() -> None:
    app, _ = agent_api()
    roster = agent_roster(1, ["cards"], "run1")
    async with admin_client("http://hotline", "wrong", httpx.ASGITransport(app=app)) as client:
        with pytest.raises(ProvisioningError, match="POST /api/agents answered 401"):
            await provision_agents(client, roster)
    async with admin_client("http://hotline", TOKEN, httpx.ASGITransport(app=app)) as client:
        await provision_agents(client, roster)
        with pytest.raises(ProvisioningError, match="409"):
            await provision_agents(client, roster)
