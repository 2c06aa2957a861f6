"""The app under a simulated call load at rising arrival rates, measured from Twilio's side.

    python bench/simulate_load.py             # one `hotline serve`: SQLite, embedded Redis
    python bench/simulate_load.py --rates 2 5 --seconds 5

One emulated Twilio and one self-started Hotline serve every run. Each run places Poisson
calls at a rate in calls per real second for `--seconds` of arrivals (the simulation runs
`--speed` times faster than real time, so a call's menus and hold take seconds); callers
walk the menu, wait in queue and hang up as in `hotline simulate`. Each run is cut off after
`--time-limit` real seconds, so the whole bench ends by itself.
"""

from __future__ import annotations

import argparse
import random

from hotline.settings import DEV_ACCOUNT_SID, DEV_ADMIN_TOKEN, DEV_AUTH_TOKEN, Settings
from simulator.harness import Account, Harness
from simulator.load import LoadPlan, agent_phones, load_menu, menu_skills, plan_calls
from simulator.provisioning import NO_AGENT_API, agent_roster


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", type=float, nargs="+", default=[2, 5, 10, 20])
    parser.add_argument("--seconds", type=float, default=10.0, help="real seconds of arrivals")
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--time-limit", type=float, default=40.0, help="real seconds per run")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    base = LoadPlan(agents=args.agents, patience_mean_seconds=60, seed=args.seed)
    number = Settings.model_fields["twilio_phone_number"].default
    account = Account(DEV_AUTH_TOKEN, DEV_ACCOUNT_SID, DEV_ADMIN_TOKEN, number)
    harness = Harness(account, answerer=agent_phones(base), speed=args.speed)
    menu = load_menu()
    harness.start()
    try:
        if args.agents:
            agents = harness.provision(agent_roster(args.agents, menu_skills(menu), "bench"))
            print(NO_AGENT_API if agents is None else f"{len(agents)} agents available")
        print(
            f"{'calls/s':>8} {'calls':>6} {'answered':>9} {'webhooks':>9} {'req/s':>7} "
            f"{'p50 ms':>7} {'p99 ms':>7} {'errors':>7} {'cut off':>8} {'real s':>7}"
        )
        for rate in args.rates:
            calls = max(1, round(rate * args.seconds))
            plan = LoadPlan(
                calls=calls,
                rate=rate / args.speed,
                agents=args.agents,
                patience_mean_seconds=base.patience_mean_seconds,
                seed=args.seed,
            )
            run = harness.new_run(plan_calls(plan, menu, random.Random(plan.seed)))
            report = harness.start_run(run, args.time_limit).result()
            errors = ",".join(f"{c}x{n}" for c, n in report.errors_by_code.items()) or "0"
            print(
                f"{rate:>8g} {report.calls:>6} {report.answered:>9} {report.webhook_requests:>9} "
                f"{report.webhook_requests / run.wall_seconds:>7.0f} "
                f"{report.latency_p50_ms:>7.1f} {report.latency_p99_ms:>7.1f} {errors:>7} "
                f"{report.cut_off:>8} {run.wall_seconds:>7.1f}"
            )
    finally:
        harness.stop()


if __name__ == "__main__":
    main()
