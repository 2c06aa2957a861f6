"""Resolving a ticket schedules its SMS survey and its follow-up call, and enqueues both
after the commit; reopening it cancels them."""

from __future__ import annotations

import pytest
import redis
from fastapi.testclient import TestClient
from rq.registry import ScheduledJobRegistry
from sqlalchemy import Engine
from sqlmodel import Session, select

from crm.models import Callback
from crm.survey_models import Survey, SurveyState
from hotline.clock import FrozenClock
from tests.crm.cases import Crew, add_crew, add_customer, call_sid, log_call


@pytest.fixture
def crew(app_client: TestClient, engine: Engine, clock: FrozenClock) -> Crew:
    return add_crew(engine, clock)


def resolve(client: TestClient, crew: Crew, number: str) -> None:
    response = client.post(
        f"/api/tickets/{number}/transition",
        json={"to": "resolved", "resolution_code": "refunded", "summary": "已退款"},
        headers=crew.supervisor.headers,
    )
    assert response.status_code == 200, response.text


def scheduled_jobs(redis_client: redis.Redis, queue: str) -> list[str]:
    return list(ScheduledJobRegistry(queue, connection=redis_client).get_job_ids())


def test_resolving_schedules_a_survey_and_a_follow_up_call(
    app_client: TestClient,
    crew: Crew,
    engine: Engine,
    clock: FrozenClock,
    redis_client: redis.Redis,
) -> None:
    customer = add_customer(engine, clock)
    number = log_call(engine, clock, sid=call_sid(1), customer_id=customer)
    resolve(app_client, crew, number)
    with Session(engine) as session:
        survey = session.exec(select(Survey)).one()
        callback = session.exec(select(Callback)).one()
    assert survey.state == SurveyState.scheduled
    assert callback.reason != "voicemail" and callback.status == "scheduled"
    # Both jobs wait in RQ's scheduler for their time: enqueued after the commit.
    assert len(scheduled_jobs(redis_client, "notify")) == 1
    assert len(scheduled_jobs(redis_client, "callbacks")) == 1
    overview = app_client.get(
        f"/api/customers/{customer}/overview", headers=crew.supervisor.headers
    ).json()
    assert [survey["state"] for survey in overview["surveys"]] == ["scheduled"]
    assert [callback["reason"] for callback in overview["callbacks"]] == [callback.reason]


def test_reopening_cancels_the_pending_survey_and_call(
    app_client: TestClient, crew: Crew, engine: Engine, clock: FrozenClock
) -> None:
    customer = add_customer(engine, clock)
    number = log_call(engine, clock, sid=call_sid(2), customer_id=customer)
    resolve(app_client, crew, number)
    reopened = app_client.post(
        f"/api/tickets/{number}/transition",
        json={"to": "open", "reason": "客户来电说仍未解决"},
        headers=crew.supervisor.headers,
    )
    assert reopened.status_code == 200
    with Session(engine) as session:
        assert session.exec(select(Survey)).one().state == SurveyState.cancelled
        assert session.exec(select(Callback)).one().status == "cancelled"
    resolve(app_client, crew, number)  # resolved again: one new survey, not two at once
    with Session(engine) as session:
        states = sorted(str(survey.state) for survey in session.exec(select(Survey)))
    assert states == ["cancelled", "scheduled"]
