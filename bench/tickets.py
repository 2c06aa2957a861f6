"""Ticket creation and the customer overview with 100,000 tickets in PostgreSQL.

    python bench/tickets.py                  # PostgreSQL at 127.0.0.1 (database hotline_bench)
    python bench/tickets.py --tickets 20000 --samples 200 --database-url sqlite:////tmp/b.db

The app runs in-process (TestClient). The database is filled first with Core bulk inserts:
20,000 customers with a phone each, `--tickets` tickets spread over them (a created and a
call event each) and a call log per ticket. Then timed, through the whole request (token
check, scope, audit row, JSON): `POST /api/tickets`, `GET /api/customers/{id}/overview` of
random customers, and `GET /api/tickets?phone=` (the screen pop). Every active ticket has
running SLA clocks (due within the next weeks, some past due), and one pass of the SLA watch
(crm/sla_watch.py, the minute job) is timed over them, rolled back after each pass.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from local_redis import redis_url
from sqlalchemy import Engine, insert, text
from sqlmodel import Session

from crm.case_models import TicketSla
from crm.models import CallLog, Customer, CustomerPhone, Ticket, TicketEvent
from crm.sla_watch import watch
from hotline.app import create_app
from hotline.business_hours import parse_calendar
from hotline.clock import FrozenClock
from hotline.db import make_engine, migrate, session_scope
from hotline.settings import Environment, Settings
from routing import access
from routing import service as routing
from routing.models import AgentBase

ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
CUSTOMERS = 20_000
CATEGORIES = ["accounts", "cards.bills", "cards.lost_stolen", "transactions.dispute",
              "loans_wealth", "complaint", "other"]  # fmt: skip
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(action: Callable[[], object], samples: int) -> tuple[float, float]:
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return percentile(timings, 0.5), percentile(timings, 0.99)


def phone(n: int) -> str:
    return f"+86139{n:08d}"


def fresh_postgres(name: str) -> str:
    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def fill(url: str, tickets: int, rng: random.Random) -> None:
    engine = make_engine(url)
    batch = 10_000
    with engine.begin() as connection:
        connection.execute(
            insert(Customer),
            [{"id": n, "name": f"客户{n}", "segment": "standard", "preferred_language": "zh",
              "consent_sms": True, "consent_calls": True, "masked_refs": [],
              "created_at": NOW - timedelta(days=400)} for n in range(1, CUSTOMERS + 1)],
        )  # fmt: skip
        connection.execute(
            insert(CustomerPhone),
            [{"customer_id": n, "number": phone(n), "kind": "mobile"}
             for n in range(1, CUSTOMERS + 1)],
        )  # fmt: skip
        for start in range(1, tickets + 1, batch):
            ids = range(start, min(start + batch, tickets + 1))
            owners = {n: rng.randint(1, CUSTOMERS) for n in ids}
            when = {n: NOW - timedelta(minutes=tickets - n) for n in ids}
            status = {n: rng.choice(["new", "open", "resolved", "closed"]) for n in ids}
            # Clocks run out over the next three weeks; one in a thousand already has.
            due = {n: NOW + timedelta(minutes=rng.randint(-30, 30 * 24 * 21)) for n in ids}
            connection.execute(
                insert(Ticket),
                [{"id": n, "number": f"T{when[n]:%Y%m%d}-{n:06d}", "customer_id": owners[n],
                  "channel": "phone", "category": rng.choice(CATEGORIES),
                  "ticket_type": "inquiry", "priority": rng.randint(1, 4), "severity": 3,
                  "complaint": False, "subject": "bench", "description": "",
                  "status": status[n], "repeat_count": 0, "breached": False,
                  "created_at": when[n], "updated_at": when[n], "last_contact_at": when[n],
                  "first_response_due_at": due[n], "resolution_due_at": due[n]}
                 for n in ids],
            )  # fmt: skip
            connection.execute(
                insert(TicketSla),
                [{"ticket_id": n, "started_at": when[n], "first_responded_at": when[n],
                  "paused_business_seconds": 0.0, "paused_calendar_seconds": 0.0,
                  "extension_days": 0, "first_response_warned": False,
                  "resolution_warned": False, "first_response_breached": False,
                  "resolution_breached": False} for n in ids],
            )  # fmt: skip
            connection.execute(
                insert(TicketEvent),
                [{"ticket_id": n, "at": when[n], "kind": kind, "actor": "system",
                  "internal": True, "data": {}} for n in ids for kind in ("created", "call")],
            )  # fmt: skip
            connection.execute(
                insert(CallLog),
                [{"call_sid": f"CA{n:032x}", "direction": "inbound", "from_number":
                  phone(owners[n]), "customer_id": owners[n], "ticket_id": n, "language": "zh",
                  "ivr_path": [], "after_hours": False, "started_at": when[n],
                  "ended_at": when[n] + timedelta(minutes=3), "duration_seconds": 180,
                  "disposition": "answered"} for n in ids],
            )  # fmt: skip
        if engine.dialect.name == "postgresql":
            for table in ("customer", "ticket", "ticket_event", "call_log"):
                connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT max(id) FROM {table}))")
                )  # fmt: skip
            connection.execute(text("ANALYZE"))
    engine.dispose()


def agent_headers(url: str) -> dict[str, str]:
    """A cards agent's token: their lists go through the agent scope (skills, calls taken)."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        agent = routing.create_agent(
            session=session,
            data=AgentBase(name="bench", skills={"cards": 5}, languages=["zh"]),
            now=NOW,
        )
        assert agent.id is not None
        issued = access.issue_token(session=session, agent_id=agent.id, name="bench", now=NOW,
                                    expires_at=NOW + timedelta(days=1))  # fmt: skip
    engine.dispose()
    return {"Authorization": f"Bearer {issued.token}"}


def run(database_url: str, redis: str, tickets: int, samples: int) -> None:
    rng = random.Random(7)
    migrate(database_url)
    started = time.perf_counter()
    fill(database_url, tickets, rng)
    print(f"filled {tickets:,} tickets over {CUSTOMERS:,} customers "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    settings = Settings(environment=Environment.test, database_url=database_url,
                        redis_url=redis, admin_token=ADMIN_TOKEN, demo_data=False,
                        twilio_outbox=True)  # fmt: skip
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    new = {"channel": "email", "category": "cards.bills", "subject": "bench"}
    with TestClient(create_app(settings, clock=FrozenClock(NOW))) as http:

        def create() -> None:
            body = {**new, "customer_id": rng.randint(1, CUSTOMERS)}
            response = http.post("/api/tickets", json=body, headers=headers)
            assert response.status_code == 201, response.text

        def overview() -> None:
            path = f"/api/customers/{rng.randint(1, CUSTOMERS)}/overview"
            response = http.get(path, headers=headers)
            assert response.status_code == 200, response.text

        agent = agent_headers(database_url)

        def agent_list() -> None:
            path = f"/api/tickets?phone={phone(rng.randint(1, CUSTOMERS))}"
            response = http.get(path, headers=agent)
            assert response.status_code == 200, response.text

        def screen_pop() -> None:
            path = f"/api/tickets?phone={phone(rng.randint(1, CUSTOMERS))}"
            response = http.get(path, headers=headers)
            assert response.status_code == 200, response.text

        print("ms per request (whole request, in-process)")
        print(f"{'request':<40} {'p50':>7} {'p99':>7}")
        for name, action in (("POST /api/tickets", create),
                             ("GET /api/customers/{id}/overview", overview),
                             ("GET /api/tickets?phone=", screen_pop),
                             ("GET /api/tickets?phone= (an agent)", agent_list)):  # fmt: skip
            p50, p99 = timed(action, samples)
            print(f"{name:<40} {p50:>7.2f} {p99:>7.2f}")
        engine = make_engine(database_url)
        p50, p99 = timed(lambda: sla_pass(engine), max(samples // 10, 5))
        print(f"{'SLA watch pass (rolled back)':<40} {p50:>7.2f} {p99:>7.2f}")
        engine.dispose()


def sla_pass(engine: Engine) -> None:
    """One pass of the minute job over every running clock, undone so each pass does the
    same work (warnings, breaches and their escalations with background packs)."""
    calendar = parse_calendar("mon-fri 08:00-20:00; sat-sun 09:00-17:00", timezone="Asia/Shanghai")
    with Session(engine) as session:
        watch(session=session, calendar=calendar, now=NOW, warn_before=timedelta(hours=1))
        session.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="default: a fresh PostgreSQL --database")
    parser.add_argument("--database", default="hotline_bench", help="the PostgreSQL name")
    parser.add_argument("--redis-url", help="default: 127.0.0.1:6379 db 15, else embedded")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    database = args.database_url or fresh_postgres(args.database)
    with redis_url(args.redis_url, db=15) as url:
        run(database, url, args.tickets, args.samples)


if __name__ == "__main__":
    main()
