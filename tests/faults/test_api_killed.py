"""An API process killed mid-call (issue 9): the call goes on from Redis on the other one.

Two `hotline api` processes (uvicorn, separate OS processes) behind a round-robin proxy with
failover, a `hotline worker`, the Twilio emulator sending its webhooks through the proxy and
taking the app's REST requests. A caller waits in the queue; the API process that served the
call's webhooks so far is SIGKILLed; then an agent becomes available (through the proxy, so on
the surviving process). The call is answered by the agent, ends, is logged once on its ticket,
and the agent is released.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine

from hotline.settings import Settings
from tests.faults.processes import kill
from tests.faults.site import Site, check_answered_once, queued, running, wait_until, waits_answered


@pytest.fixture
def site(
    settings: Settings, redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> Iterator[Site]:
    with running(Site(settings, redis_url, tmp_path)) as site:
        yield site


def test_a_caller_waiting_when_its_api_process_dies_reaches_an_agent(
    site: Site, engine: Engine
) -> None:
    with site.admin() as admin:
        agent_id = site.create_agent(admin)
        served_before = list(site.proxy.served)
        record = site.place_call()
        # Between two webhooks: the caller hears the wait music the app's last answer gave.
        wait_until(lambda: queued(site) == 1 and waits_answered(record) >= 1, "caller queued", site)
        # The process that took this call's webhooks so far dies without a word.
        served = zip(served_before, site.proxy.served, strict=True)
        took = [after - before for before, after in served]
        assert sum(took) >= 1
        kill(site.apis[took.index(max(took))])
        answer = admin.put(f"/api/agents/{agent_id}/state", json={"state": "available"})
        assert answer.status_code == 200, answer.text
    site.emulator.run(site.exchange.drain(), timeout=60)
    check_answered_once(site, engine, record, agent_id)
