"""Scheduled CRM jobs: the SLA watch, every minute, as a chain of RQ jobs (hotline/chains.py)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta

from crm.sla_watch import watch
from hotline.chains import Chain
from hotline.db import session_scope
from hotline.jobs import services

log = logging.getLogger(__name__)

QUEUE = "default"
SLA_WATCH_EVERY_SECONDS = 60
SLA_WATCH_CHAIN = "crm:sla-watch:chain"
SLA_WATCH_LOCK = "crm:sla-watch:lock"


def watch_slas() -> dict[str, int] | None:
    """One pass of the SLA watch; None if another worker is running one."""
    svc = services()
    if not svc.redis.set(SLA_WATCH_LOCK, 1, nx=True, ex=5 * 60):
        return None
    try:
        with session_scope(svc.engine) as session:
            report = watch(
                session=session,
                calendar=svc.calendar,
                now=svc.clock.now(),
                warn_before=timedelta(minutes=svc.settings.sla_warn_before_minutes),
            )
    finally:
        svc.redis.delete(SLA_WATCH_LOCK)
    if report.warned or report.breached or report.overdue_handoffs:
        log.info("SLA watch: %s", asdict(report))
    return asdict(report)


def sla_watch(token: str = "") -> dict[str, int] | None:
    """Run the SLA watch; again in a minute."""
    svc = services()
    try:
        return watch_slas()
    finally:
        SLA_WATCH.next(svc.redis, token, svc.clock.now())


SLA_WATCH = Chain(
    mark=SLA_WATCH_CHAIN,
    queue=QUEUE,
    func=sla_watch,
    every_seconds=SLA_WATCH_EVERY_SECONDS,
    # Longer than the interval, so a live chain's mark never lapses between links.
    ttl_seconds=3 * SLA_WATCH_EVERY_SECONDS,
)
