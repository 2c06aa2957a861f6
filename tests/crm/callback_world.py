"""Callbacks end to end: the app in-process, answering the Twilio emulator, whose REST API runs
on a real port the app's gateway calls; jobs run in a SimpleWorker on the test's thread."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import redis
from rq import SimpleWorker
from sqlalchemy import Engine
from sqlmodel import Session, select

from crm.callback_jobs import sweep_callbacks
from crm.models import (
    Callback,
    Customer,
    CustomerPhone,
    EventKind,
    Ticket,
    TicketEvent,
    TicketStatus,
    TicketType,
)
from hotline.app import create_app
from hotline.clock import FrozenClock
from hotline.settings import Settings
from simulator.callers import Directory, VirtualAgent, VirtualCustomer
from simulator.clock import SimClock
from simulator.exchange import Exchange
from simulator.hosting import free_port
from simulator.server import EmulatorServer
from simulator.transcript import CallRecord
from simulator.webhook import AppEndpoint
from tests.conftest import PUBLIC_URL, TEST_ACCOUNT, TEST_TOKEN

CUSTOMER_PHONE = "+8613912345678"


def add_ticket(
    engine: Engine,
    clock: FrozenClock,
    *,
    ticket_type: TicketType = TicketType.inquiry,
    consent_calls: bool = True,
    language: str = "zh",
    category: str = "cards.bills",
    phone: str = CUSTOMER_PHONE,
    number: str = "T20261124-0001",
) -> int:
    """A resolved ticket of a customer with a mobile number; its id."""
    with Session(engine) as session:
        customer = Customer(
            name="王芳", consent_calls=consent_calls, preferred_language=language,
            created_at=clock.now(),
        )  # fmt: skip
        session.add(customer)
        session.flush()
        assert customer.id is not None
        session.add(CustomerPhone(customer_id=customer.id, number=phone))
        ticket = Ticket(
            number=number, customer_id=customer.id, category=category,
            ticket_type=ticket_type, complaint=ticket_type == TicketType.complaint,
            subject="账单", status=TicketStatus.resolved, created_at=clock.now(),
            updated_at=clock.now(), last_contact_at=clock.now(),
        )  # fmt: skip
        session.add(ticket)
        session.commit()
        assert ticket.id is not None
        return ticket.id


def callback_of(engine: Engine, callback_id: int) -> Callback:
    with Session(engine) as session:
        callback = session.get(Callback, callback_id)
        assert callback is not None
        return callback


def timeline_kinds(engine: Engine, ticket_id: int) -> list[str]:
    with Session(engine) as session:
        events = session.exec(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)  # type: ignore[arg-type]
        ).all()
        return [str(event.kind) for event in events]


def results(engine: Engine, ticket_id: int) -> list[dict[str, object]]:
    with Session(engine) as session:
        events = session.exec(
            select(TicketEvent).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.kind == EventKind.callback_result
            )
        ).all()
        return [event.data for event in sorted(events, key=lambda event: event.id or 0)]


@dataclass
class World:
    server: EmulatorServer
    redis: redis.Redis
    clock: FrozenClock
    customer: VirtualCustomer
    agent: VirtualAgent
    placed: list[str] = field(default_factory=list)

    @property
    def exchange(self) -> Exchange:
        assert self.server.exchange is not None
        return self.server.exchange

    def work(self) -> None:
        """What the callbacks worker does now: the sweeper, then every queued job."""
        sweep_callbacks()
        SimpleWorker(["callbacks", "default"], connection=self.redis).work(burst=True)

    def calls_to_customer(self) -> list[CallRecord]:
        """Wait for every call to end; the customer's, in order."""
        self.server.run(self.exchange.drain(), timeout=60)
        return [call.record for call in self.exchange.calls.values() if call.to == CUSTOMER_PHONE]

    def at(self, moment: datetime) -> None:
        self.clock.set(moment)


@contextmanager
def callback_world(
    settings: Settings, clock: FrozenClock, redis_client: redis.Redis
) -> Iterator[World]:
    port = free_port()
    settings = settings.model_copy(
        update={"twilio_api_base": f"http://127.0.0.1:{port}", "twilio_outbox": False,
                "callback_retry_seconds": 600}
    )  # fmt: skip
    app = create_app(settings, clock=clock)
    customer = VirtualCustomer(ring_seconds=2)
    agent = VirtualAgent(ring_seconds=(1, 2), talk_mean_seconds=30)
    stack = AsyncExitStack()

    def make_exchange() -> Exchange:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL)
        return Exchange(
            endpoint=AppEndpoint(client, PUBLIC_URL, TEST_TOKEN),
            account_sid=TEST_ACCOUNT,
            clock=SimClock(400),
            answerer=Directory(exact={CUSTOMER_PHONE: customer}, prefixes={"client:": agent}),
        )

    server = EmulatorServer(make_exchange, TEST_TOKEN, port=port).start()
    try:
        server.run(stack.enter_async_context(app.router.lifespan_context(app)))
        yield World(server, redis_client, clock, customer, agent)
    finally:
        try:
            if server.exchange is not None:
                server.run(server.exchange.drain(), timeout=60)
            server.run(stack.aclose())
        finally:
            server.stop()
