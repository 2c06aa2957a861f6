from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from crm import service as crm
from hotline.auth import verify_password
from hotline.clock import FrozenClock
from hotline.demo_data import CUSTOMERS, DEMO_PASSWORD, load_demo_data
from routing import service as routing
from routing.models import AgentState


def test_demo_bank_loads_once_on_an_empty_database(engine: Engine, clock: FrozenClock) -> None:
    assert load_demo_data(engine, now=clock.now(), only_if_empty=True)
    assert not load_demo_data(engine, now=clock.now(), only_if_empty=True)
    with Session(engine) as session:
        assert crm.count_customers(session=session) == len(CUSTOMERS)
        agents = routing.list_agents(session=session)
        assert agents and all(agent.state == AgentState.offline for agent in agents)
        vip = crm.find_caller(session=session, number="+8613800138000")
        assert vip is not None and vip.segment == "vip"


def test_demo_agents_can_sign_in(engine: Engine, clock: FrozenClock) -> None:
    load_demo_data(engine, now=clock.now(), only_if_empty=True)
    with Session(engine) as session:
        supervisor = routing.find_agent_by_login(session=session, login="zhaolei")
        assert supervisor is not None and supervisor.password_hash is not None
        assert verify_password(DEMO_PASSWORD, supervisor.password_hash)
        assert supervisor.role == "supervisor"
