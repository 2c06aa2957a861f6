"""Agents for a simulation, set up the way an operator would: through Hotline's REST API.

`POST /api/agents` creates one, `PUT /api/agents/{id}/state` makes it available; the app then
offers calls to `client:agent_<id>`, which the emulator's virtual softphones answer.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

NO_AGENT_API = "this Hotline has no agent API yet: running IVR-only"
PRIMARY_LEVEL = 8
SECONDARY_LEVEL = 4
# Every agent speaks Mandarin; one in three also takes English calls.
ENGLISH_EVERY = 3


class ProvisioningError(Exception):
    """The agent API answered something a simulation cannot go on with."""


@dataclass(frozen=True)
class AgentSpec:
    name: str
    login: str
    password: str
    skills: dict[str, int]
    languages: list[str]

    def payload(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "login": self.login,
            "password": self.password,
            "skills": self.skills,
            "languages": self.languages,
            "role": "agent",
        }


def agent_roster(count: int, skills: Sequence[str], run_id: str) -> list[AgentSpec]:
    """`count` agents spread over `skills`: a main skill each and the next one as a second.

    Logins carry `run_id` so a second simulation against the same Hotline does not collide.
    """
    roster: list[AgentSpec] = []
    for index in range(count):
        main = skills[index % len(skills)]
        second = skills[(index + 1) % len(skills)]
        levels = {main: PRIMARY_LEVEL}
        if second != main:
            levels[second] = SECONDARY_LEVEL
        languages = ["zh", "en"] if index % ENGLISH_EVERY == 0 else ["zh"]
        roster.append(
            AgentSpec(
                name=f"Sim Agent {index + 1:03d}",
                login=f"sim-{run_id}-{index + 1:03d}",
                password=secrets.token_urlsafe(16),
                skills=levels,
                languages=languages,
            )
        )
    return roster


def _refused(response: httpx.Response, what: str) -> ProvisioningError:
    return ProvisioningError(f"{what} answered {response.status_code}: {response.text[:300]}")


async def provision_agents(
    client: httpx.AsyncClient, roster: Sequence[AgentSpec]
) -> list[str] | None:
    """Create the agents and make them available: their ids, or None when the Hotline has
    no agent API (its `POST /api/agents` is a 404)."""
    ids: list[str] = []
    for spec in roster:
        created = await client.post("/api/agents", json=spec.payload())
        if created.status_code == 404 and not ids:
            return None
        if created.status_code not in (200, 201):
            raise _refused(created, "POST /api/agents")
        agent_id = str(created.json()["id"])
        ids.append(agent_id)
        await set_agent_state(client, agent_id, "available")
    return ids


async def set_agent_state(client: httpx.AsyncClient, agent_id: str, state: str) -> None:
    answer = await client.put(f"/api/agents/{agent_id}/state", json={"state": state})
    if not answer.is_success:
        raise _refused(answer, f"PUT /api/agents/{agent_id}/state")


async def sign_out_agents(client: httpx.AsyncClient, agent_ids: Sequence[str]) -> None:
    """Leave the Hotline as found: the simulation's agents go offline."""
    for agent_id in agent_ids:
        await set_agent_state(client, agent_id, "offline")


def admin_client(
    url: str, admin_token: str, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """A client for Hotline's REST API with the admin bearer token."""
    return httpx.AsyncClient(
        base_url=url,
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=10,
        transport=transport,
    )
