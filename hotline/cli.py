"""The `hotline` command: serve, api, worker, migrate, demo-data, simulate, check."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence

from hotline.child_process import KeptProcess
from hotline.clock import SystemClock
from hotline.db import make_engine, migrate
from hotline.logging import configure_logging
from hotline.settings import Settings, get_settings
from simulator.cli import add_arguments as add_simulate_arguments

log = logging.getLogger("hotline")


def _migrate(settings: Settings) -> None:
    migrate(settings.database_url)
    log.info("database migrated")


def _demo_data(settings: Settings, *, only_if_empty: bool) -> bool:
    from hotline.demo_data import load_demo_data

    engine = make_engine(settings.database_url)
    try:
        return load_demo_data(engine, now=SystemClock().now(), only_if_empty=only_if_empty)
    finally:
        engine.dispose()


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    _migrate(settings)
    return 0


def cmd_demo_data(settings: Settings, _: argparse.Namespace) -> int:
    _migrate(settings)
    loaded = _demo_data(settings, only_if_empty=False)
    print("demo data loaded" if loaded else "demo data not loaded")
    return 0


def cmd_api(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run(
        "hotline.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        log_level=settings.log_level.lower(),
        access_log=False,
    )
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from rq import SimpleWorker, Worker

    from crm.callback_jobs import SWEEPER
    from crm.jobs import SLA_WATCH
    from crm.survey_jobs import SURVEY_SWEEPER
    from hotline.chains import ChainKeeper
    from hotline.jobs import QUEUE_NAMES
    from hotline.probes import WORKER_TTL_SECONDS
    from hotline.redis import sync_client
    from ivr.jobs import CALL_LOGGER
    from recordings.jobs import RETENTION
    from routing.jobs import HEARTBEAT

    if settings.redis_url is None:
        print("HOTLINE_REDIS_URL is not set; `hotline serve` runs a worker with an embedded Redis")
        return 2
    connection = sync_client(settings.redis_url)
    # Started now, and again by the keeper whenever one dies (a Redis outage breaks them).
    keeper = ChainKeeper(
        connection,
        [HEARTBEAT, CALL_LOGGER, SWEEPER, SURVEY_SWEEPER, RETENTION, SLA_WATCH],
    )
    keeper.check()
    keeper.start()
    if settings.sim_clock_key:
        _start_sim_ticker()
    # The router's heartbeat runs every second; its routine lines would drown the log.
    for name in ("rq.worker", "rq.queue", "rq.scheduler"):
        logging.getLogger(name).addFilter(_QuietHeartbeat())
    worker_class = Worker if args.fork else SimpleWorker
    # A worker whose whole process group was killed leaves RQ's scheduler lock behind for a
    # minute; another worker tries to take the scheduler over only at its maintenance, every
    # 10 minutes by RQ's default: scheduled jobs (survey sends, chain links) would wait that long.
    worker = worker_class(
        list(args.queues or QUEUE_NAMES), connection=connection, worker_ttl=WORKER_TTL_SECONDS,
        maintenance_interval=MAINTENANCE_SECONDS,
    )  # fmt: skip
    worker.work(with_scheduler=True, logging_level=settings.log_level.upper())
    return 0


MAINTENANCE_SECONDS = 60


def _start_sim_ticker() -> None:
    """On a simulated clock the router's timers fire every simulated second, not every wall
    second (see hotline/sim_clock.py)."""
    from hotline.jobs import services
    from hotline.sim_clock import SharedSimClock, SimTicker
    from routing.jobs import tick

    clock = services().clock
    if not isinstance(clock, SharedSimClock):
        raise RuntimeError("HOTLINE_SIM_CLOCK_KEY is set but the services run on another clock")
    SimTicker(clock, tick).start()


class _QuietHeartbeat(logging.Filter):
    """Drops the routine lines of the once-a-second jobs."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        routine = any(
            name in message for name in ("heartbeat", "call_logger", "call-logger", "survey-sweep")
        )
        return record.levelno > logging.INFO or not routine


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """API, RQ worker and scheduler in one process group: what `make run` starts."""
    import uvicorn

    from hotline.app import create_app
    from hotline.redis import EmbeddedRedis

    # Treat SIGTERM like Ctrl-C so the worker and the embedded Redis stop with us.
    signal.signal(signal.SIGTERM, _interrupt)
    _migrate(settings)
    if args.demo_data_if_empty and settings.demo_data:
        _demo_data(settings, only_if_empty=True)
    embedded = None
    if settings.redis_url is None:
        embedded = EmbeddedRedis(settings.embedded_redis_path)
        settings = settings.model_copy(update={"redis_url": embedded.url})
    env = {**os.environ, "HOTLINE_REDIS_URL": settings.redis_url or ""}
    worker = KeptProcess([sys.executable, "-m", "hotline.cli", "worker"], env=env, name="worker")
    worker.start()
    try:
        print(f"Hotline on http://{args.host}:{args.port}  (Ctrl-C stops everything)")
        uvicorn.run(
            create_app(settings),
            host=args.host,
            port=args.port,
            log_level=settings.log_level.lower(),
            access_log=False,
        )
    finally:
        worker.stop()
        if embedded is not None:
            embedded.close()
    return 0


def cmd_simulate(settings: Settings, args: argparse.Namespace) -> int:
    """Virtual callers and agents against a Hotline, measured from Twilio's side."""
    from simulator.cli import run_simulation

    return run_simulation(args)


def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when the process kind is healthy: for container health checks."""
    from hotline.probes import check_api, check_worker

    if args.what == "api":
        healthy, detail = check_api(args.url)
    else:
        healthy, detail = check_worker(settings)
    print(detail)
    return 0 if healthy else 1


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signum)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="API + worker + scheduler (+ embedded Redis)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--demo-data-if-empty", action="store_true", help="seed the demo bank on an empty database"
    )
    serve.set_defaults(handler=cmd_serve)

    api = commands.add_parser("api", help="the web API only (production)")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    api.add_argument("--workers", type=int, default=1)
    api.set_defaults(handler=cmd_api)

    worker = commands.add_parser("worker", help="an RQ worker with the scheduler (production)")
    # Jobs here are short and ours: running them in-process keeps the database pool and starts
    # each in milliseconds. --fork isolates every job in a child process instead.
    worker.add_argument("--fork", action="store_true", help="run each job in a forked child")
    worker.add_argument("queues", nargs="*", help="queues to serve (default: all)")
    worker.set_defaults(handler=cmd_worker)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(
        handler=cmd_migrate
    )
    commands.add_parser("demo-data", help="load the demo bank").set_defaults(handler=cmd_demo_data)

    check = commands.add_parser("check", help="health probe for containers (exit 0 = healthy)")
    check.add_argument("what", choices=["api", "worker"])
    check.add_argument("--url", default="http://127.0.0.1:8000", help="the API to probe")
    check.set_defaults(handler=cmd_check)

    simulate = commands.add_parser(
        "simulate", help="virtual callers and agents on emulated Twilio, then a report"
    )
    add_simulate_arguments(simulate)
    simulate.set_defaults(handler=cmd_simulate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level)
    try:
        result: int = args.handler(settings, args)
    except KeyboardInterrupt:
        return 0
    return result


if __name__ == "__main__":
    sys.exit(main())
