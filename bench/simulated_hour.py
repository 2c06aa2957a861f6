"""A full simulated hour at 50 calls/s with 500 agents, in compressed time.

    python bench/simulated_hour.py                       # 60 simulated minutes
    python bench/simulated_hour.py --minutes 2 --every 1 # a quick look
    kill -TERM <pid>                                     # stops a run, cleaning up

The Hotline runs as separate processes (bench/sim_cluster.py: its own redis-server, PostgreSQL
database `hotline_simhour_<pid>`, `--api-processes` uvicorn processes, `--workers` RQ workers); the
emulator plays Twilio from this process. Every one of them reads the same simulated time: the
emulator's `AdaptiveClock` publishes it in Redis, the app's processes read it there
(HOTLINE_SIM_CLOCK_KEY), so ring timeouts, talk, patience, hold pauses, wrap-up and escalation
steps all run on it. The governor (simulator/governor.py) runs that clock as fast as the
machine keeps webhooks fast and the workers' backlog small, and no faster: the compression
printed at the end is what the machine achieved, not a setting.

Call figures (service level, ASA, AHT, abandons) are in simulated seconds, measured from
Twilio's side; webhook latency is real wall time per request. The staffing is made for volume,
not realism: short talk (lognormal, mean `--talk-mean` s), a quick pick-up and `--wrapup` s of
wrap-up, so 500 agents can carry 50 calls/s and the hour exercises routing and webhooks at
that rate.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import random
import secrets
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import redis  # noqa: E402

from bench.sim_cluster import SIM_CLOCK_KEY, SimCluster, SimClusterConfig  # noqa: E402
from hotline.settings import DEV_ACCOUNT_SID, DEV_ADMIN_TOKEN, DEV_AUTH_TOKEN, Settings  # noqa: E402
from hotline.sim_clock import publish  # noqa: E402
from simulator.callers import Directory, VirtualAgent  # noqa: E402
from simulator.exchange import Exchange, PhoneNumber  # noqa: E402
from simulator.governor import CountingTransport, Governor, Limits  # noqa: E402
from simulator.harness import INCOMING_URL, STATUS_URL  # noqa: E402
from simulator.hosting import free_port  # noqa: E402
from simulator.hour import HourRun, RunSettings, weighted_roster  # noqa: E402
from simulator.load import LoadPlan, load_menu, plan_calls  # noqa: E402
from simulator.server import EmulatorServer  # noqa: E402
from simulator.virtual_clock import AdaptiveClock, sim_start  # noqa: E402
from simulator.webhook import AppEndpoint  # noqa: E402
from simulator.wire import WireTransport  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=60.0, help="simulated minutes")
    parser.add_argument("--rate", type=float, default=50.0, help="calls per simulated second")
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--api-processes", type=int, default=3)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--talk-mean", type=float, default=6.0, help="simulated seconds")
    parser.add_argument("--wrapup", type=int, default=1, help="HOTLINE_WRAPUP_SECONDS")
    parser.add_argument("--patience-mean", type=float, default=60.0, help="simulated seconds")
    parser.add_argument("--every", type=float, default=10.0, help="simulated minutes a line")
    parser.add_argument("--max-speed", type=float, default=60.0)
    parser.add_argument("--p90-ms", type=float, default=150.0, help="webhook p90 to keep under")
    return parser.parse_args()


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _stop)
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # the emulator's loop
    except ImportError:
        pass
    emulator_port = free_port()
    cluster = SimCluster(
        SimClusterConfig(
            twilio_api_base=f"http://127.0.0.1:{emulator_port}",
            api_processes=args.api_processes,
            workers=args.workers,
            env={"HOTLINE_WRAPUP_SECONDS": str(args.wrapup)},
        )
    )
    client = cluster.start_redis()
    clock = AdaptiveClock(
        1.0, sim_start(), publish=lambda anchor: publish(client, SIM_CLOCK_KEY, anchor)
    )
    # Connections for the governor's limit on requests in flight, not for every live call.
    transport = CountingTransport(WireTransport(max_connections=4 * Limits().in_flight))
    menu = load_menu()
    plan = LoadPlan(
        calls=round(args.rate * args.minutes * 60),
        rate=args.rate,
        agents=args.agents,
        talk_mean_seconds=args.talk_mean,
        patience_mean_seconds=args.patience_mean,
        no_answer_probability=0.0,
        seed=args.seed,
    )
    agent = VirtualAgent(
        ring_seconds=(1.0, 3.0),
        talk_mean_seconds=plan.talk_mean_seconds,
        rng=random.Random(args.seed + 1),
    )

    number = str(Settings.model_fields["twilio_phone_number"].default)

    def make_exchange() -> Exchange:
        http = httpx.AsyncClient(base_url=cluster.url, transport=transport, timeout=15)
        return Exchange(
            endpoint=AppEndpoint(http, cluster.url, DEV_AUTH_TOKEN),
            account_sid=DEV_ACCOUNT_SID,
            numbers=[PhoneNumber(number, INCOMING_URL, status_callback=STATUS_URL)],
            clock=clock,
            answerer=Directory(prefixes={"client:": agent}),
        )

    emulator = EmulatorServer(make_exchange, DEV_AUTH_TOKEN, port=emulator_port)
    uptime = Path("/proc/loadavg").read_text().split()[:3]
    print(
        f"simulated hour: {args.minutes:g} min at {args.rate:g} calls/s, {args.agents} agents, "
        f"{args.api_processes} API processes, {args.workers} worker(s); load average "
        f"{' '.join(uptime)} at start"
    )
    print(
        f"staffing for volume: talk lognormal mean {args.talk_mean:g} s, pick-up 1-3 s, "
        f"wrap-up {args.wrapup} s, patience exponential mean {args.patience_mean:g} s, "
        "no missed offers"
    )
    try:
        emulator.start()
        cluster.start_app()
        assert emulator.exchange is not None
        planned = plan_calls(plan, menu, random.Random(plan.seed))
        run = HourRun(
            exchange=emulator.exchange,
            settings=RunSettings(
                minutes=args.minutes,
                agents=args.agents,
                wrapup_seconds=args.wrapup,
                every_minutes=args.every,
                admin_token=DEV_ADMIN_TOKEN,
                url=cluster.url,
                number=number,
            ),
            planned=planned,
            roster=weighted_roster(args.agents, planned, secrets.token_hex(3)),
            governor=Governor(
                clock,
                transport,
                backlog=lambda: backlog(client),
                limits=Limits(p90_ms=args.p90_ms, max_speed=args.max_speed),
            ),
        )
        cpu_before = time.process_time()
        running = emulator.submit(run.run())
        try:
            # Waits in slices so SIGTERM (a background run ignores Ctrl-C) gets a look in.
            while True:
                try:
                    lines = running.result(timeout=1.0)
                    break
                except concurrent.futures.TimeoutError:
                    continue
        except BaseException:
            # Interrupted: the callers hang up, so stopping does not wait for all of them.
            emulator.run(run.cut_off())
            raise
        for line in lines:
            print(line, flush=True)
        cpu = {"emulator": time.process_time() - cpu_before, **cluster.cpu_seconds()}
        print(f"{'CPU seconds':<23}" + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        print(f"{'load average at end':<23}{load}")
    finally:
        started = time.monotonic()
        try:
            emulator.stop()
        finally:
            cluster.stop()
        print(f"(stopped in {time.monotonic() - started:.0f} s)")
    return 0


def backlog(client: redis.Redis) -> int:
    """RQ jobs waiting on the default queue plus ended calls not yet logged."""
    with client.pipeline(transaction=False) as pipe:
        pipe.llen("rq:queue:default")
        pipe.llen("ivr:ended")
        jobs, ended = pipe.execute()
    return int(jobs) + int(ended)


if __name__ == "__main__":
    sys.exit(main())
