"""The Hotline as production runs it, under simulated calls at rising rates.

    python bench/cluster_load.py                           # 1, 2, 5, 10, 20, 40... calls/s
    python bench/cluster_load.py --rates 2 5 --seconds 10  # a quick look

bench/cluster.py starts the cluster: its own redis-server, the PostgreSQL database
`hotline_loadbench` (created, migrated once, dropped at the end), `hotline api --workers 4`
(uvicorn: a master and 4 worker processes, as the Dockerfile runs it) and 2 `hotline worker`
processes (RQ with the scheduler), in production mode with webhook signatures checked. The
emulated Twilio and its callers run in this process and sign every webhook.

Each rate places Poisson calls for `--seconds` real seconds; the simulation runs `--speed`
times faster than real time, so a 3-minute conversation takes 9 real seconds at the default
speed. Before each rate enough virtual agents are signed in to answer every call that asks
for one at `--occupancy` (Erlang's offered load: calls/s x share needing an agent x real
seconds an agent is busy per call), so the load is the whole path: menu, queue, routing, the
dial to the agent, the talk, wrap-up, the call log and recording jobs. The bench stops after
the first rate whose webhook p99 exceeds `--p99-limit` ms.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import unshadow_recordings  # noqa: F401  (bench/ off sys.path, the repository on it)

from bench.cluster import Cluster, ClusterConfig
from bench.load_figures import RateFigures, RouteLatency, rate_figures, route_latencies
from simulator.callstats import LoadReport
from simulator.harness import DEFAULT_WRAPUP_SECONDS, Harness
from simulator.hosting import free_port
from simulator.load import LoadPlan, LoadRun, agent_phones, load_menu, menu_skills, plan_calls
from simulator.provisioning import AgentSpec, ProvisioningError, admin_client, agent_roster
from simulator.provisioning import provision_agents as provision_in_order

GENERATOR = "load generator (emulator)"
RING_MEAN_SECONDS = 4.0  # the virtual agents ring 2-6 simulated seconds
PROVISIONING_CONNECTIONS = 8
DRAIN_TIMEOUT_SECONDS = 60.0
# The chains (router heartbeat, call logger, sweepers) put a job on a queue every second or so:
# a handful queued at any moment is the steady state, not a backlog.
ROUTINE_JOBS = 8
# A queued job waiting longer than this means the workers are behind (the chains run every
# second, so a second is the steady state's longest wait).
LAG_LIMIT_SECONDS = 1.0


@dataclass
class Backlog:
    """Jobs queued or running, the oldest queued job's wait, ended calls not yet logged: the
    most seen during a rate and the last."""

    jobs: int = 0
    most_jobs: int = 0
    lag: float = 0.0
    most_lag: float = 0.0
    unlogged: int = 0
    most_unlogged: int = 0

    def see(self, cluster: Cluster) -> None:
        counts = cluster.backlog()
        self.unlogged = counts.pop("ended calls")
        self.jobs = sum(counts.values())
        self.lag = cluster.queue_lag()
        self.most_jobs = max(self.most_jobs, self.jobs)
        self.most_lag = max(self.most_lag, self.lag)
        self.most_unlogged = max(self.most_unlogged, self.unlogged)

    @property
    def behind(self) -> bool:
        return self.jobs > ROUTINE_JOBS or self.lag > LAG_LIMIT_SECONDS or self.unlogged > 0


def agent_share(menu: Mapping[str, Any], seed: int) -> float:
    """The share of callers whose journey asks for an agent."""
    sample = plan_calls(LoadPlan(calls=2000, seed=seed), menu, random.Random(seed))
    return sum(1 for planned in sample if planned.skill) / len(sample)


def agents_needed(rate: float, share: float, busy_seconds: float, occupancy: float) -> int:
    return max(1, math.ceil(rate * share * busy_seconds / occupancy))


async def provision(url: str, admin_token: str, roster: Sequence[AgentSpec]) -> list[str]:
    """Create and make available, several at a time (one by one would take minutes)."""
    async with admin_client(url, admin_token) as client:
        slices = [roster[n::PROVISIONING_CONNECTIONS] for n in range(PROVISIONING_CONNECTIONS)]
        made = await asyncio.gather(*(provision_in_order(client, s) for s in slices if s))
    if any(ids is None for ids in made):
        raise ProvisioningError("the Hotline has no agent API")
    return [agent_id for ids in made if ids for agent_id in ids]


def cpu_percent(seconds: float, wall: float) -> str:
    return f"{100 * seconds / wall:.0f}%" if wall else "-"


HEADER = (
    f"{'rate':>5} {'agents':>6} {'offered':>7} {'sustain':>7} {'calls':>5} {'answer':>6} "
    f"{'cut':>4} {'call s':>6} {'webhooks':>8} {'req/s':>5} {'p50 ms':>6} {'p99 ms':>6} "
    f"{'errors':>6} {'jobs':>7} {'lag s':>7} {'unlogged':>8} {'drain s':>7} "
    f"{'app CPU':>7} {'gen CPU':>7}"
)


Behind = tuple[str, str, str, str]


def row(f: RateFigures, agents: int, behind: Behind, cpu: tuple[str, str]) -> str:
    jobs, lag, unlogged, drain = behind
    return (
        f"{f.rate:>5g} {agents:>6} {f.offered_per_s:>7.1f} {f.sustained_per_s:>7.1f} "
        f"{f.calls:>5} {f.answered:>6} {f.cut_off:>4} {f.call_seconds_p50:>6.1f} "
        f"{f.webhooks:>8} {f.webhooks_per_s:>5.0f} {f.p50_ms:>6.1f} {f.p99_ms:>6.1f} "
        f"{f.errors:>6} {jobs:>7} {lag:>7} {unlogged:>8} {drain:>7} {cpu[0]:>7} {cpu[1]:>7}"
    )


def wait_drained(cluster: Cluster, backlog: Backlog) -> float | None:
    """Seconds until the workers are back to routine, None if not within the timeout."""
    started = time.monotonic()
    backlog.see(cluster)
    while backlog.behind:
        if time.monotonic() - started > DRAIN_TIMEOUT_SECONDS:
            return None
        time.sleep(0.25)
        backlog.see(cluster)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rates", type=float, nargs="+", default=[1, 2, 5, 10, 20, 40, 60, 80, 100]
    )
    parser.add_argument("--seconds", type=float, default=40.0, help="real seconds of arrivals")
    parser.add_argument("--grace", type=float, default=30.0, help="real seconds for the last calls")
    parser.add_argument("--speed", type=float, default=20.0)
    parser.add_argument("--talk-mean", type=float, default=180.0, help="simulated seconds")
    parser.add_argument("--patience-mean", type=float, default=120.0, help="simulated seconds")
    parser.add_argument("--occupancy", type=float, default=0.85)
    parser.add_argument("--p99-limit", type=float, default=100.0, help="ms")
    parser.add_argument("--api-workers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fork", action="store_true", help="RQ forks a work horse per job")
    parser.add_argument("--database", default="hotline_loadbench")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    args = parser.parse_args()

    print(f"{os.cpu_count()} cores; load average before: {os.getloadavg()}")
    wrapup = max(1, round(DEFAULT_WRAPUP_SECONDS / args.speed))
    emulator_port = free_port()
    cluster = Cluster(
        ClusterConfig(
            api_workers=args.api_workers,
            workers=args.workers,
            database=args.database,
            twilio_api_base=f"http://127.0.0.1:{emulator_port}",
            fork=args.fork,
            keep_files=args.keep_logs,
            env={
                "HOTLINE_BUSINESS_HOURS": "always",
                "HOTLINE_HOLIDAYS": "",
                "HOTLINE_WRAPUP_SECONDS": str(wrapup),
            },
        )
    )
    menu = load_menu()
    share = agent_share(menu, args.seed)
    busy = (RING_MEAN_SECONDS + args.talk_mean) / args.speed + wrapup
    base = LoadPlan(talk_mean_seconds=args.talk_mean, seed=args.seed)
    roster = agent_roster(
        agents_needed(max(args.rates), share, busy, args.occupancy), menu_skills(menu), "bench"
    )
    print(
        f"{args.api_workers} API processes (uvicorn --workers), {args.workers} RQ workers, "
        f"PostgreSQL, own redis-server; speed x{args.speed:g}: talk {args.talk_mean:g} s "
        f"simulated = {args.talk_mean / args.speed:.1f} s real, wrap-up {wrapup} s; "
        f"{share:.0%} of callers ask for an agent"
    )
    with cluster:
        harness = Harness(
            cluster.account,
            answerer=agent_phones(base),
            speed=args.speed,
            url=cluster.url,
            public_url=cluster.config.public_url,
            emulator_port=emulator_port,
        )
        harness.start()
        cluster.memory.watch(os.getpid(), GENERATOR, children=False)
        try:
            run_rates(
                args,
                cluster,
                harness,
                roster,
                lambda rate: agents_needed(rate, share, busy, args.occupancy),
            )
        finally:
            harness.stop()
            cluster.memory.sample()
        print_memory(cluster)
    if args.keep_logs:
        print(f"logs: {cluster.workdir}")
    print(f"load average after: {os.getloadavg()}")


async def figures_of(rate: float, run: LoadRun, report: LoadReport, speed: float) -> RateFigures:
    """On the emulator's loop, which owns the calls' transcripts."""
    return rate_figures(rate, run, report, speed)


async def routes_of(run: LoadRun) -> list[RouteLatency]:
    return route_latencies(run)


def print_routes(routes: Sequence[RouteLatency]) -> None:
    print(f"\n{'webhook path at that rate':<36} {'requests':>8}", end="")
    print(f" {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}")
    for route in routes:
        print(
            f"{route.path:<36} {route.requests:>8} {route.p50_ms:>7.1f} {route.p99_ms:>7.1f} "
            f"{route.max_ms:>7.1f}"
        )


def app_cpu(cluster: Cluster) -> float:
    """CPU seconds of the cluster's processes so far (this process left out)."""
    cluster.memory.sample()
    return sum(p.cpu_seconds for p in cluster.memory.peaks() if p.label != GENERATOR)


def run_rates(
    args: argparse.Namespace,
    cluster: Cluster,
    harness: Harness,
    roster: Sequence[AgentSpec],
    agents_for: Callable[[float], int],
) -> None:
    menu = load_menu()
    signed_in = 0
    print(HEADER)
    for rate in args.rates:
        wanted = agents_for(rate)
        if wanted > signed_in:
            url, token = cluster.url, cluster.account.admin_token
            harness.emulator.run(
                provision(url, token, roster[signed_in:wanted]), timeout=60 + wanted
            )
            signed_in = wanted
        plan = LoadPlan(
            calls=max(1, round(rate * args.seconds)),
            rate=rate / args.speed,
            talk_mean_seconds=args.talk_mean,
            patience_mean_seconds=args.patience_mean,
            seed=args.seed,
        )
        run = harness.new_run(plan_calls(plan, menu, random.Random(plan.seed)))
        cluster.memory.open_window()
        backlog = Backlog()
        app_before, gen_before = app_cpu(cluster), time.process_time()
        wall_before = time.monotonic()
        running = harness.start_run(run, args.seconds + args.grace)
        while not running.done():
            backlog.see(cluster)
            time.sleep(0.5)
        report = running.result()
        cluster.memory.close_window()
        backlog.see(cluster)
        at_end = f"{backlog.most_jobs}/{backlog.jobs}"
        lag = f"{backlog.most_lag:.1f}/{backlog.lag:.1f}"
        unlogged = f"{backlog.most_unlogged}/{backlog.unlogged}"
        wall = time.monotonic() - wall_before
        app, gen = app_cpu(cluster) - app_before, time.process_time() - gen_before
        figured = harness.emulator.run(figures_of(rate, run, report, args.speed))
        drained = wait_drained(cluster, backlog)
        print(
            row(
                figured,
                signed_in,
                (at_end, lag, unlogged, "never" if drained is None else f"{drained:.1f}"),
                (cpu_percent(app, wall), cpu_percent(gen, wall)),
            ),
            flush=True,
        )
        if figured.p99_ms > args.p99_limit:
            print(f"first rate with p99 > {args.p99_limit:g} ms: {rate:g} calls/s")
            print_routes(harness.emulator.run(routes_of(run)))
            return
    print(f"p99 stayed within {args.p99_limit:g} ms up to {max(args.rates):g} calls/s")


def print_memory(cluster: Cluster) -> None:
    print(f"\n{'process':<26} {'pid':>7} {'peak RSS MiB':>12} {'under calls':>11} {'CPU s':>6}")
    for peak in cluster.memory.peaks():
        whole = peak.hwm_kib / 1024
        calls = "-" if peak.window_hwm_kib is None else f"{peak.window_hwm_kib / 1024:.1f}"
        print(f"{peak.label:<26} {peak.pid:>7} {whole:>12.1f} {calls:>11} {peak.cpu_seconds:>6.1f}")


if __name__ == "__main__":
    main()
