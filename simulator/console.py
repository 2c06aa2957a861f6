"""What a simulation shows in the terminal: the live counts and the final report."""

from __future__ import annotations

from rich.table import Table

from simulator.callstats import SERVICE_LEVEL_SECONDS, SHORT_ABANDON_SECONDS, LoadReport
from simulator.load import Snapshot


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s"


def live_table(snapshot: Snapshot, total_calls: int) -> Table:
    table = Table(title=f"hotline simulate — {snapshot.sim_seconds:.0f} s simulated")
    for column in ("offered", "in IVR", "queued", "talking", "done"):
        table.add_column(column, justify="right")
    for column in ("answered", "abandoned", "errors"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{snapshot.offered}/{total_calls}",
        str(snapshot.in_ivr),
        str(snapshot.queued),
        str(snapshot.talking),
        str(snapshot.done),
        str(snapshot.answered),
        str(snapshot.abandoned),
        str(snapshot.errors),
    )
    return table


def report_table(report: LoadReport, wall_seconds: float) -> Table:
    table = Table(title="Simulation report (measured from Twilio's side)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("calls offered", str(report.calls)),
        ("  ended in the IVR", str(report.ended_in_ivr)),
        ("  reached a queue", str(report.reached_queue)),
        ("answered", str(report.answered)),
        (f"abandoned (after {SHORT_ABANDON_SECONDS:g} s)", str(report.abandoned)),
        (f"short abandons (< {SHORT_ABANDON_SECONDS:g} s, excluded)", str(report.short_abandons)),
        ("abandon rate", _share(report.abandon_rate)),
        (f"service level SL({SERVICE_LEVEL_SECONDS:g} s)", _share(report.service_level)),
        ("ASA (average speed of answer)", _seconds(report.asa_seconds)),
        ("AHT (talk, as Twilio sees it)", _seconds(report.aht_seconds)),
    ]
    rows += [
        (
            f"queue wait {skill} p50 / p90 ({waits.calls} calls)",
            f"{waits.p50:.0f} / {waits.p90:.0f} s",
        )
        for skill, waits in report.waits_by_skill.items()
    ]
    rows += [
        ("webhook requests", str(report.webhook_requests)),
        (
            "webhook latency p50 / p99 (real time)",
            f"{report.latency_p50_ms:.1f} / {report.latency_p99_ms:.1f} ms",
        ),
        ("cut off at the time limit", str(report.cut_off)),
        ("simulated / real time", f"{report.sim_seconds:.0f} s / {wall_seconds:.1f} s"),
    ]
    errors = ", ".join(f"{code}: {count}" for code, count in report.errors_by_code.items())
    rows.append(("Twilio errors by code", errors or "none"))
    for figure, value in rows:
        table.add_row(figure, value)
    return table
