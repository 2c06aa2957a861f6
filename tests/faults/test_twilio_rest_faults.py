"""Twilio's REST API answering 500s or not answering at all for a while (issue 9).

Queue pushes: real processes (an API, a worker) and the emulator, whose REST API fails or
hangs past the client's timeout (`HOTLINE_TWILIO_TIMEOUT_SECONDS`, 1 s here) when the agent
becomes available. The push fails; the caller's wait loop finds the offer by itself and the
caller reaches the agent all the same.

Survey texts and callback calls: the app in-process on a frozen clock, RQ jobs in a
SimpleWorker, the emulator on a real port. Each failure puts the job back with back-off; a
request Twilio took but never answered is looked up (a text) or shows itself by its webhooks
(a call) before anything is sent again: the customer gets one text, one call.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine

from hotline.settings import Settings
from tests.faults.site import Site, check_answered_once, queued, running, wait_until, waits_answered


@pytest.mark.parametrize("fault", ["500", "hang"])
def test_a_push_twilio_refuses_or_leaves_hanging_falls_back_to_the_wait_loop(
    settings: Settings,
    redis_url: str,
    redis_client: redis.Redis,
    engine: Engine,
    tmp_path: Path,
    fault: str,
) -> None:
    site = Site(settings, redis_url, tmp_path, apis=1, twilio_timeout=1.0)
    with running(site), site.admin() as admin:
        agent_id = site.create_agent(admin)
        record = site.place_call()
        wait_until(lambda: queued(site) == 1 and waits_answered(record) >= 1, "caller queued", site)
        faults = site.emulator.faults
        if fault == "500":
            faults.fail_with(500)
        else:
            faults.hang = True
        answer = admin.put(f"/api/agents/{agent_id}/state", json={"state": "available"})
        assert answer.status_code == 200, answer.text
        site.emulator.run(site.exchange.drain(), timeout=60)
        # The push was tried, and Twilio never took it.
        assert (faults.failed if fault == "500" else faults.hung) >= 1
        faults.fail_with(None)
        faults.hang = False
        check_answered_once(site, engine, record, agent_id)
