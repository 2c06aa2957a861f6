"""Supervisors' alerts over HTTP: the list, and acknowledging one. Thin: routing/alerts.py
holds the rules and records; routing/alert_feed.py tells the streams."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hotline.auth import Supervisor
from hotline.deps import ClockDep, RowId, ServicesDep, SessionDep
from hotline.errors import ERROR_RESPONSES, NotFound
from routing import alert_feed, alerts
from routing.alerts import AlertState
from routing.models import AlertPublic

router = APIRouter(prefix="/api/supervisor", tags=["alerts"], responses=ERROR_RESPONSES)


@router.get("/alerts", response_model=list[AlertPublic])
def list_alerts(
    session: SessionDep,
    _: Supervisor,
    state: Annotated[AlertState, Query(description="open: not acknowledged yet")] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[AlertPublic]:
    """Alerts, newest first; `open` ones stay until a supervisor acknowledges them."""
    return [alerts.public(a) for a in alerts.list_alerts(session=session, state=state, limit=limit)]


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertPublic)
def acknowledge_alert(
    alert_id: RowId,
    session: SessionDep,
    services: ServicesDep,
    clock: ClockDep,
    supervisor: Supervisor,
) -> AlertPublic:
    """Acknowledge an alert; again changes nothing (the first acknowledgement stays)."""
    alert, changed = alerts.acknowledge(
        session=session, alert_id=alert_id, agent_id=supervisor.agent_id, now=clock.now()
    )
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    acknowledged = alerts.public(alert)
    if changed:
        # Committed before the streams hear of it, so what they show is what the API reads.
        session.commit()
        alert_feed.publish(services.redis, acknowledged)
    return acknowledged
