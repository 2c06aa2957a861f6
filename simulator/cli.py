"""`hotline simulate`: a realistic load of virtual callers (and agents) on a Hotline, with a live
view and, at the end, the contact-centre figures as Twilio saw them.

Exit status: 0, 1 when any Twilio-visible error happened, 2 when the run could not start.
"""

from __future__ import annotations

import argparse
import random
import secrets
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hotline.settings import DEV_ACCOUNT_SID, DEV_ADMIN_TOKEN, DEV_AUTH_TOKEN, Settings

if TYPE_CHECKING:
    # Imported where used: `hotline serve` builds this parser and needs none of them.
    from concurrent.futures import Future

    from rich.console import Console

    from simulator.callstats import LoadReport
    from simulator.harness import Harness
    from simulator.load import LoadRun

EXIT_OK = 0
EXIT_TWILIO_ERRORS = 1
EXIT_NOT_STARTED = 2
DEFAULT_TIME_LIMIT_SECONDS = 600.0
REFRESH_SECONDS = 0.25


def _count(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text}")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def _probability(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `simulate` options, on `hotline simulate` or `python -m simulator.cli`."""
    target = parser.add_argument_group("the Hotline")
    target.add_argument("--url", help="a running Hotline (default: start one on a free port)")
    target.add_argument("--public-url", help="the base URL it signs webhooks with (default: --url)")
    target.add_argument("--token", default=DEV_AUTH_TOKEN, help="the Twilio auth token it checks")
    target.add_argument("--account-sid", default=DEV_ACCOUNT_SID, help="the Twilio account SID")
    target.add_argument(
        "--admin-token", default=DEV_ADMIN_TOKEN, help="its admin bearer token (for agents)"
    )
    target.add_argument(
        "--number",
        default=Settings.model_fields["twilio_phone_number"].default,
        help="the hotline number callers dial",
    )
    target.add_argument(
        "--emulator-port",
        type=int,
        default=0,
        help="port of the emulated Twilio REST API (default: any free one)",
    )
    load = parser.add_argument_group("the load")
    load.add_argument("--calls", type=_count, default=100, help="calls to place")
    load.add_argument(
        "--rate", type=_positive, default=1.0, help="calls per simulated second (Poisson)"
    )
    load.add_argument("--agents", type=int, default=10, help="virtual agents to sign in")
    load.add_argument(
        "--talk-mean", type=_positive, default=180.0, help="mean talk time, s (lognormal)"
    )
    load.add_argument(
        "--patience-mean",
        type=_positive,
        default=90.0,
        help="callers' mean patience in the queue, s (exponential)",
    )
    load.add_argument(
        "--no-answer", type=_probability, default=0.03, help="chance an agent misses a call"
    )
    load.add_argument(
        "--speed", type=_positive, default=1.0, help="simulated seconds per real second"
    )
    load.add_argument("--seed", type=int, default=1)
    load.add_argument(
        "--time-limit",
        type=_positive,
        default=DEFAULT_TIME_LIMIT_SECONDS,
        help="real seconds after which callers still on the line hang up",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no live view (also when stdout is not a terminal)"
    )


def run_simulation(args: argparse.Namespace) -> int:
    """Run one simulation from parsed options; the exit status."""
    from rich.console import Console

    from simulator.console import report_table
    from simulator.harness import Account, Harness, UnreachableHotline
    from simulator.hosting import HostingError
    from simulator.load import LoadPlan, agent_phones, load_menu, menu_skills, plan_calls
    from simulator.provisioning import NO_AGENT_API, ProvisioningError, agent_roster

    console = Console()
    plan = LoadPlan(
        calls=args.calls,
        rate=args.rate,
        agents=max(0, args.agents),
        talk_mean_seconds=args.talk_mean,
        patience_mean_seconds=args.patience_mean,
        no_answer_probability=args.no_answer,
        seed=args.seed,
    )
    menu = load_menu()
    planned = plan_calls(plan, menu, random.Random(plan.seed))
    account = Account(args.token, args.account_sid, args.admin_token, args.number)
    harness = Harness(
        account,
        answerer=agent_phones(plan),
        speed=args.speed,
        url=args.url,
        public_url=args.public_url,
        emulator_port=args.emulator_port,
    )
    agent_ids: list[str] = []
    try:
        harness.start()
        where = args.url or f"{harness.url} (started here)"
        print(f"Hotline: {where}; emulated Twilio REST API: {harness.emulator.base_url}")
        if plan.agents:
            # Logins unique per run, so runs against one Hotline do not collide.
            roster = agent_roster(plan.agents, menu_skills(menu), secrets.token_hex(3))
            provisioned = harness.provision(roster)
            if provisioned is None:
                print(NO_AGENT_API)
            else:
                agent_ids = provisioned
                print(f"{len(agent_ids)} agents signed in and available")
        run = harness.new_run(planned)
        future = harness.start_run(run, args.time_limit)
        if not (args.quiet or not console.is_terminal):
            _watch(console, harness, run, future, plan.calls)
        report: LoadReport = future.result()
    except (HostingError, UnreachableHotline, ProvisioningError) as exc:
        print(f"hotline simulate: {exc}", file=sys.stderr)
        return EXIT_NOT_STARTED
    finally:
        try:
            harness.sign_out(agent_ids)
        finally:
            harness.stop()
    console.print(report_table(report, run.wall_seconds))
    return exit_status(report)


def exit_status(report: LoadReport) -> int:
    """Non-zero when Twilio would have shown any error in its debugger."""
    return EXIT_TWILIO_ERRORS if report.errors else EXIT_OK


def _watch(
    console: Console, harness: Harness, run: LoadRun, future: Future[LoadReport], total: int
) -> None:
    """Redraw the live counts until the run ends (its outcome is read by the caller)."""
    from concurrent.futures import TimeoutError as FutureTimeout

    from rich.live import Live

    from simulator.console import live_table

    with Live(live_table(harness.snapshot(run), total), console=console) as live:
        while True:
            try:
                future.result(timeout=REFRESH_SECONDS)
            except FutureTimeout:
                live.update(live_table(harness.snapshot(run), total))
                continue
            except Exception:
                return
            live.update(live_table(harness.snapshot(run), total))
            return


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulator.cli", description=__doc__)
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_simulation(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
