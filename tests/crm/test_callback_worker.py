"""A real `rq worker --with-scheduler` process places a callback at its time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
from sqlalchemy import Engine
from sqlmodel import Session

from crm.callback_jobs import schedule_placement
from crm.models import Callback
from hotline.clock import FrozenClock
from tests.conftest import PUBLIC_URL, TEST_ACCOUNT, TEST_TOKEN
from tests.crm.callback_world import CUSTOMER_PHONE, add_ticket, callback_of

RQ = Path(sys.executable).with_name("rq")


def test_a_real_worker_with_the_scheduler_places_a_scheduled_callback(
    database: tuple[str, Engine], redis_url: str, redis_client: redis.Redis, clock: FrozenClock
) -> None:
    url, engine = database
    ticket_id = add_ticket(engine, clock)
    due = datetime.now(UTC) + timedelta(seconds=2)
    with Session(engine) as session:
        callback = Callback(ticket_id=ticket_id, phone=CUSTOMER_PHONE, reason="followup",
                            due_at=due, created_at=clock.now())  # fmt: skip
        session.add(callback)
        session.commit()
        assert callback.id is not None
        callback_id = callback.id
    assert schedule_placement(
        redis_client, callback_id=callback_id, attempts=0, due_at=due, now=datetime.now(UTC)
    )
    env = {
        **os.environ,
        "HOTLINE_ENVIRONMENT": "test", "HOTLINE_DATABASE_URL": url, "HOTLINE_REDIS_URL": redis_url,
        "HOTLINE_PUBLIC_URL": PUBLIC_URL, "HOTLINE_BUSINESS_HOURS": "always",
        "HOTLINE_TWILIO_OUTBOX": "true", "TWILIO_ACCOUNT_SID": TEST_ACCOUNT,
        "TWILIO_AUTH_TOKEN": TEST_TOKEN,
    }  # fmt: skip
    worker = subprocess.Popen(
        [str(RQ), "worker", "--url", redis_url, "--with-scheduler", "callbacks"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and callback_of(engine, callback_id).call_sid is None:
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=15)
    placed = callback_of(engine, callback_id)
    assert placed.status == "dialing" and placed.attempts == 1
    assert placed.call_sid is not None and placed.call_sid.startswith("OB")
    assert placed.placed_at is not None and placed.placed_at >= due - timedelta(seconds=1)
