"""Several API processes and RQ workers (separate OS processes) on one Redis, hundreds of calls,
agents flipping state: afterwards no agent ever held two calls, every call ended, and every
agent's state matches its calls."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import redis
from rq import Queue
from sqlalchemy import Engine, func
from sqlmodel import Session, select
from twilio.request_validator import RequestValidator

from crm.models import CallDisposition, CallLog
from hotline.jobs import QUEUE_NAMES
from ivr.session import ENDED_CALLS, ENDED_CALLS_TAKEN
from routing.config import load_routing
from routing.engine import SyncRouter
from routing.router_types import AgentProfile
from tests.conftest import BACKENDS, TEST_ACCOUNT, TEST_TOKEN

PUBLIC = "http://hotline.internal"
API_PROCESSES = 3
WORKERS = 2
CALLS = 240
AGENTS = 16


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    ports: list[int]
    processes: list[subprocess.Popen[bytes]]


@pytest.fixture
def cluster(
    database: tuple[str, Engine], redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> Iterator[Cluster]:
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": database[0],
        "HOTLINE_REDIS_URL": redis_url,
        "HOTLINE_PUBLIC_URL": PUBLIC,
        "TWILIO_ACCOUNT_SID": TEST_ACCOUNT,
        "TWILIO_AUTH_TOKEN": TEST_TOKEN,
        "HOTLINE_TWILIO_OUTBOX": "true",
        "HOTLINE_BUSINESS_HOURS": "always",
        "HOTLINE_WRAPUP_SECONDS": "0",
        "HOTLINE_LOG_LEVEL": "WARNING",
    }
    ports = [free_port() for _ in range(API_PROCESSES)]
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", "api", "--port", str(port)],
            env=env, stdout=(logs / f"api{port}.log").open("wb"), stderr=subprocess.STDOUT,
        )
        for port in ports
    ] + [
        subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", "worker"],
            env=env, stdout=(logs / f"worker{n}.log").open("wb"), stderr=subprocess.STDOUT,
        )
        for n in range(WORKERS)
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        for port in ports:
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "API processes did not start"
                time.sleep(0.2)
        yield Cluster(ports, processes)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


class Twilio:
    """Signed requests, each to whichever API process comes next."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.validator = RequestValidator(TEST_TOKEN)
        self.clients = threading.local()
        self.turn = 0
        self.lock = threading.Lock()

    def post(self, path: str, params: dict[str, str]) -> ET.Element:
        with self.lock:
            self.turn += 1
            port = self.ports[self.turn % len(self.ports)]
        if not hasattr(self.clients, "client"):
            self.clients.client = httpx.Client(timeout=30)
        signature = self.validator.compute_signature(PUBLIC + path, params)
        response = self.clients.client.post(
            f"http://127.0.0.1:{port}{path}",
            content=urlencode(params),
            headers={
                "X-Twilio-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        assert response.status_code == 200, response.text
        assert response.text.startswith("<?xml")
        return ET.fromstring(response.text)


def journey(twilio: Twilio, n: int) -> str:
    rng = random.Random(n)
    sid = "CA" + uuid.uuid4().hex
    base = {
        "CallSid": sid,
        "AccountSid": TEST_ACCOUNT,
        "From": f"+86139{n:08d}",
        "To": "+864008895555",
    }
    twilio.post("/twilio/voice/incoming", base)
    answer = twilio.post("/twilio/voice/gather?step=1", {**base, "Digits": rng.choice("1135")})
    for _ in range(12):
        dial = answer.find("Dial")
        if dial is not None:
            roll = rng.random()
            if roll < 0.1:  # the caller hangs up while it rings
                twilio.post(dial.get("action") or "", {**base, "DialCallStatus": "canceled"})
                break
            status = "completed" if roll < 0.8 else "no-answer"
            answer = twilio.post(
                dial.get("action") or "",
                {**base, "DialCallStatus": status, "DialCallDuration": "30"},
            )
            if status == "completed":
                break
            continue
        if answer.find("Enqueue") is not None or answer.find("Play") is not None:
            time.sleep(rng.uniform(0.01, 0.05))
            answer = twilio.post(
                "/twilio/voice/wait?lang=zh&queue=cards",
                {**base, "QueueSid": "QU" + "1" * 32, "QueuePosition": "1", "QueueTime": "5"},
            )
            if answer.find("Leave") is not None:
                answer = twilio.post(
                    "/twilio/voice/queue-result?lang=zh", {**base, "QueueResult": "leave"}
                )
            continue
        break
    else:
        twilio.post("/twilio/voice/queue-result?lang=zh", {**base, "QueueResult": "hangup"})
    twilio.post(
        "/twilio/voice/status",
        {**base, "CallStatus": "completed", "SequenceNumber": "3", "CallDuration": "60"},
    )
    return sid


def flip_agents(router: SyncRouter, stop: threading.Event) -> None:
    rng = random.Random(99)
    agents = [
        AgentProfile(
            agent_id=n, skills={"cards": 9, "accounts": 5, "complaints": 7}, languages=["zh"],
            contact=f"client:agent_{n}",
        )
        for n in range(1, AGENTS + 1)
    ]  # fmt: skip
    while not stop.is_set():
        agent = rng.choice(agents)
        now = datetime.now(UTC)
        state = router.agent_state(agent.agent_id).get("state", "offline")
        if state in ("offline", "break", "missed") or (state == "available" and rng.random() < 0.3):
            if rng.random() < 0.8:
                router.agent_ready(agent=agent, now=now)
            else:
                router.agent_away(agent_id=agent.agent_id, state="break", reason="coffee", now=now)
        time.sleep(0.002)


def events(client: redis.Redis) -> list[dict[str, str]]:
    return [
        {key.decode(): value.decode() for key, value in fields.items()}
        for _id, fields in client.xrange("{rt}:events")
    ]


# One backend is enough here (PostgreSQL where there is one): this test is about Redis.
@pytest.mark.parametrize("database", BACKENDS[:1], indirect=True)
def test_many_processes_never_double_book(
    cluster: Cluster, redis_client: redis.Redis, engine: Engine
) -> None:
    router = SyncRouter(redis_client, load_routing())
    stop = threading.Event()
    flipper = threading.Thread(target=flip_agents, args=(router, stop))
    flipper.start()
    twilio = Twilio(cluster.ports)
    try:
        with ThreadPoolExecutor(32) as pool:
            sids = list(pool.map(lambda n: journey(twilio, n), range(CALLS)))
    finally:
        stop.set()
        flipper.join()
    # Let the workers finish every call log.
    deadline = time.monotonic() + 60
    while any(Queue(name, connection=redis_client).count for name in QUEUE_NAMES) or (
        redis_client.llen(ENDED_CALLS) or redis_client.llen(ENDED_CALLS_TAKEN)
    ):
        assert time.monotonic() < deadline, "jobs did not drain"
        time.sleep(0.2)
    time.sleep(1)

    # 1. No agent was ever offered a call while it held one; no call was offered twice at once.
    holding: dict[str, str] = {}
    offered_to: dict[str, str] = {}
    for event in events(redis_client):
        kind = event["kind"]
        if kind == "call_offered":
            agent, call = event["agent"], event["call"]
            assert agent not in holding, (
                f"agent {agent} offered {call} while holding {holding.get(agent)}"
            )
            assert call not in offered_to, (
                f"call {call} offered to {agent} while at {offered_to[call]}"
            )
            holding[agent], offered_to[call] = call, agent
        elif kind == "agent_state" and event["to"] not in ("reserved", "busy"):
            call = holding.pop(event["agent"], None)
            if call is not None:
                offered_to.pop(call, None)
    # 2. Every call ended: answered or abandoned, each logged once.
    finals = {sid: router.call_state(sid).get("state") for sid in sids}
    assert set(finals.values()) <= {"ended", "gone"}, finals
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(CallLog)).one() == CALLS
        dispositions = set(session.exec(select(CallLog.disposition)).all())
    assert dispositions <= {CallDisposition.answered, CallDisposition.abandoned}
    # 3. Every agent's state matches its calls.
    active = defaultdict(list)
    for sid, state in finals.items():
        if state in ("offered", "connected"):
            active[router.call_state(sid)["agent"]].append(sid)
    for agent_id in range(1, AGENTS + 1):
        state = router.agent_state(agent_id)
        if state.get("state") in ("reserved", "busy"):
            assert active[str(agent_id)] == [state["call"]]
        else:
            assert not active[str(agent_id)] and not state.get("call")
