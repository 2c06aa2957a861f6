"""The live figures over HTTP: JSON for supervisors, a Server-Sent Events stream, and
Prometheus `/metrics`. Thin: routing/stats.py reads and defines the figures."""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from time import monotonic
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import PlainTextResponse, StreamingResponse
from rq import Queue
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from crm import service as crm_service
from crm import survey_service
from hotline.auth import Supervisor
from hotline.context import Services
from hotline.db import session_scope
from hotline.deps import ServicesDep, SessionDep
from hotline.errors import ERROR_RESPONSES, NotFound, Unauthorized
from hotline.jobs import QUEUE_NAMES
from hotline.metrics import WebhookTimings
from routing import alert_feed, alerts, history
from routing.engine import SyncRouter
from routing.stats import Callbacks, Satisfaction, StatsReader
from routing.stats_figures import WINDOWS, CallbackCounts
from routing.stats_models import Csat, History, SupervisorStats

log = logging.getLogger(__name__)
router = APIRouter(tags=["live figures"], responses=ERROR_RESPONSES)

# The stream looks at the counters once a second and sends only what changed; a comment
# line now and then keeps proxies from closing a quiet connection.
STREAM_INTERVAL_SECONDS = 1.0
KEEP_ALIVE_SECONDS = 15.0


def get_stats_reader(request: Request, services: ServicesDep) -> StatsReader:
    sync_router: SyncRouter = request.app.state.sync_router
    return StatsReader(
        services.redis, sync_router.config, sl_target=services.settings.service_level_target
    )


StatsReaderDep = Annotated[StatsReader, Depends(get_stats_reader)]


def read_stats(*, reader: StatsReader, session: Session, now: datetime) -> SupervisorStats:
    """The figures as of `now`, callbacks from the CRM included."""
    periods = reader.periods(now)
    counts = crm_service.callback_figures(session=session, now=now, since=periods.starts())
    by_period = [
        CallbackCounts(*values)
        for values in zip(
            counts.scheduled, counts.placed, counts.connected, counts.failed, strict=True
        )
    ]
    callbacks = Callbacks(
        due=counts.due,
        holding=counts.holding,
        today=by_period[0],
        in_window=dict(zip(WINDOWS, by_period[1:], strict=True)),
    )
    today, in_window = survey_service.read_csat(
        reader.client, now=now, zone=reader.zone, windows=WINDOWS
    )
    satisfaction = Satisfaction(
        today=_csat(today), in_window={n: _csat(counts) for n, counts in in_window.items()}
    )
    return reader.read(now=now, callbacks=callbacks, satisfaction=satisfaction)


def _csat(counts: survey_service.CsatCounts) -> Csat:
    """CSAT = share of scores 4-5; also the mean score (ARCHITECTURE.md's definition)."""
    responses = counts.responses
    return Csat(
        responses=responses,
        mean_score=round(counts.score_sum / responses, 2) if responses else None,
        csat=round(counts.satisfied / responses, 4) if responses else None,
    )


@router.get("/api/supervisor/stats", response_model=SupervisorStats)
def supervisor_stats(
    reader: StatsReaderDep, session: SessionDep, services: ServicesDep, _: Supervisor
) -> SupervisorStats:
    return read_stats(reader=reader, session=session, now=services.clock.now())


def _snapshot(
    reader: StatsReader, services: Services, cursor: str | None
) -> tuple[str, str, str, list[tuple[str, str]]]:
    """(the figures as JSON, the same without the time it was made: what "changed" means,
    the alert feed's cursor, the alert changes after the cursor given)."""
    with session_scope(services.engine) as session:
        stats = read_stats(reader=reader, session=session, now=services.clock.now())
    if cursor is None:
        changes, cursor = [], alert_feed.latest(services.redis)
    else:
        changes = alert_feed.after(services.redis, cursor)
        cursor = changes[-1][0] if changes else cursor
    return (
        stats.model_dump_json(),
        stats.model_dump_json(exclude={"generated_at"}),
        cursor,
        changes,
    )


async def stats_events(
    request: Request,
    reader: StatsReader,
    services: Services,
    lifetime: float,
    alerts_after: str | None = None,
) -> AsyncIterator[str]:
    """SSE: the figures at once, then whenever they change (at most once a second), and each
    alert change as it happens (after `alerts_after`, a feed entry id, else from now on), for
    `lifetime` seconds; the browser's EventSource reconnects after `retry`."""
    yield f"retry: {int(STREAM_INTERVAL_SECONDS * 1000)}\n\n"
    last, last_sent = "", monotonic()
    ends = monotonic() + lifetime
    cursor = alerts_after
    while True:
        body, content, cursor, changes = await run_in_threadpool(
            _snapshot, reader, services, cursor
        )
        if content != last:
            yield f"event: stats\ndata: {body}\n\n"
            last, last_sent = content, monotonic()
        for entry_id, alert in changes:
            # The id comes back as Last-Event-ID when the browser reconnects.
            yield f"id: {entry_id}\nevent: alert\ndata: {alert}\n\n"
            last_sent = monotonic()
        if monotonic() - last_sent >= KEEP_ALIVE_SECONDS:
            yield ": keep-alive\n\n"
            last_sent = monotonic()
        if monotonic() >= ends or await request.is_disconnected():
            return
        await anyio.sleep(STREAM_INTERVAL_SECONDS)


@router.get(
    "/api/supervisor/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "`stats` events (SupervisorStats) and `alert` events (AlertPublic)",
        }
    },
)
def supervisor_stream(
    request: Request,
    reader: StatsReaderDep,
    services: ServicesDep,
    _: Supervisor,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    lifetime = services.settings.stats_stream_seconds
    after = alert_feed.valid_cursor(last_event_id)
    return StreamingResponse(
        stats_events(request, reader, services, lifetime, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/api/supervisor/history", response_model=History)
def supervisor_history(
    services: ServicesDep,
    _: Supervisor,
    minutes: Annotated[int, Query(ge=1, le=history.KEEP_MINUTES)] = 60,
) -> History:
    """One point a minute over the last `minutes` (this one included), oldest first."""
    return history.read(services.redis, now=services.clock.now(), minutes=minutes)


# --- Prometheus ------------------------------------------------------------------------------


def _metric(lines: list[str], name: str, kind: str, help_text: str) -> None:
    lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metrics_text(
    reader: StatsReader,
    services: Services,
    timings: WebhookTimings,
    now: datetime,
    alerts_open: Mapping[str, int] | None = None,
) -> str:
    """The Prometheus text exposition format (0.0.4), written by hand: no new dependency."""
    waiting, agents = reader.gauges(now=now)
    lines: list[str] = []
    if alerts_open is not None:
        _metric(lines, "hotline_alerts_open", "gauge", "Alerts not acknowledged yet, by kind.")
        lines += [f'hotline_alerts_open{{kind="{kind}"}} {n}' for kind, n in alerts_open.items()]
    _metric(lines, "hotline_queue_waiting", "gauge", "Callers waiting in the queue now.")
    lines += [f'hotline_queue_waiting{{queue="{_label(q)}"}} {n}' for q, (n, _) in waiting.items()]
    _metric(lines, "hotline_queue_longest_wait_seconds", "gauge", "Longest current wait.")
    lines += [
        f'hotline_queue_longest_wait_seconds{{queue="{_label(q)}"}} {w:.3f}'
        for q, (_, w) in waiting.items()
    ]
    _metric(lines, "hotline_agents", "gauge", "Agents by state.")
    lines += [f'hotline_agents{{state="{state}"}} {n}' for state, n in agents.items()]
    _metric(lines, "hotline_jobs_queued", "gauge", "Jobs waiting in each RQ queue.")
    for name in QUEUE_NAMES:
        count = Queue(name, connection=services.redis).count
        lines.append(f'hotline_jobs_queued{{queue="{name}"}} {count}')
    _metric(
        lines, "hotline_webhook_duration_seconds", "histogram",
        "Time to answer a Twilio webhook, in this process.",
    )  # fmt: skip
    for route, histogram in sorted(timings.by_route.items()):
        label = f'route="{_label(route)}"'
        for bound, count in histogram.cumulative():
            lines.append(f'hotline_webhook_duration_seconds_bucket{{{label},le="{bound}"}} {count}')
        lines.append(f"hotline_webhook_duration_seconds_sum{{{label}}} {histogram.total:.6f}")
        lines.append(f"hotline_webhook_duration_seconds_count{{{label}}} {sum(histogram.counts)}")
    return "\n".join(lines) + "\n"


def _alerts_open(services: Services) -> dict[str, int] | None:
    """Open alerts by kind; None while the database is away (the floor's gauges still come)."""
    try:
        with session_scope(services.engine) as session:
            return alerts.open_counts(session=session)
    except SQLAlchemyError:
        log.warning("no alert gauge: the database did not answer", exc_info=True)
        return None


@router.get("/metrics", response_class=PlainTextResponse, include_in_schema=False)
def metrics(request: Request, reader: StatsReaderDep, services: ServicesDep) -> PlainTextResponse:
    token = services.settings.metrics_token
    if not token:
        raise NotFound("metrics are off: set HOTLINE_METRICS_TOKEN")
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise Unauthorized("/metrics needs `Authorization: Bearer <HOTLINE_METRICS_TOKEN>`")
    timings: WebhookTimings = request.app.state.webhook_timings
    alerts_open = _alerts_open(services)
    text = metrics_text(reader, services, timings, services.clock.now(), alerts_open)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")
