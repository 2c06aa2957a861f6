"""Webhook throughput and latency: signed incoming-call and menu requests at a running Hotline.

    python bench/webhooks.py                      # starts its own `hotline serve` on a temp dir
    python bench/webhooks.py --url http://127.0.0.1:8000 --token "$TWILIO_AUTH_TOKEN"

Each simulated call is one journey of Twilio requests, signed as Twilio signs them:
incoming -> Gather "2" (credit cards) -> Gather "1" (bills, enqueued) -> status `completed`.
Prints requests/s and p50/p99 latency per route and overall.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

from hotline.settings import DEV_AUTH_TOKEN


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), 0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Bench:
    def __init__(self, url: str, public_url: str, token: str) -> None:
        self.url = url
        self.public_url = public_url
        self.validator = RequestValidator(token)
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors = 0

    async def post(
        self, client: httpx.AsyncClient, route: str, path: str, params: dict[str, str]
    ) -> str:
        signature = self.validator.compute_signature(self.public_url + path, params)
        started = time.perf_counter()
        response = await client.post(
            path,
            content=urlencode(params),
            headers={
                "X-Twilio-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        self.latencies[route].append((time.perf_counter() - started) * 1000)
        if response.status_code != 200 or not response.text.startswith("<?xml"):
            self.errors += 1
        return response.text

    async def journey(self, client: httpx.AsyncClient) -> None:
        base = {
            "CallSid": "CA" + uuid.uuid4().hex,
            "AccountSid": "AC" + "0" * 32,
            "From": f"+86138{uuid.uuid4().int % 10**8:08d}",
            "To": "+864008895555",
            "CallStatus": "in-progress",
            "ApiVersion": "2010-04-01",
            "Direction": "inbound",
        }
        await self.post(client, "incoming", "/twilio/voice/incoming", base)
        await self.post(client, "gather", "/twilio/voice/gather?step=1", {**base, "Digits": "2"})
        await self.post(client, "gather", "/twilio/voice/gather?step=2", {**base, "Digits": "1"})
        await self.post(
            client,
            "status",
            "/twilio/voice/status",
            {**base, "CallStatus": "completed", "SequenceNumber": "3", "CallDuration": "40"},
        )

    async def run(self, calls: int, concurrency: int) -> float:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=self.url, limits=limits, timeout=30) as client:
            await self.journey(client)  # warm-up: menus rendered, pools opened
            self.latencies.clear()
            remaining = iter(range(calls))

            async def worker() -> None:
                for _ in remaining:
                    await self.journey(client)

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return time.perf_counter() - started

    def report(self, elapsed: float, calls: int, concurrency: int) -> None:
        every = [value for values in self.latencies.values() for value in values]
        print(
            f"{calls} calls, {len(every)} webhook requests, "
            f"{concurrency} concurrent, {elapsed:.1f} s"
        )
        print(f"{'route':<10} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
        for route, values in [*sorted(self.latencies.items()), ("all", every)]:
            print(
                f"{route:<10} {len(values):>9} {percentile(values, 0.5):>8.1f} "
                f"{percentile(values, 0.99):>8.1f} {statistics.fmean(values):>8.1f}"
            )
        print(f"throughput: {len(every) / elapsed:.0f} requests/s; errors: {self.errors}")


def start_server(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "HOTLINE_EMBEDDED_REDIS_PATH": str(workdir / "redis.db"),
        "HOTLINE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "HOTLINE_BUSINESS_HOURS": "always",
        "HOTLINE_LOG_LEVEL": "WARNING",
    }
    env.pop("HOTLINE_REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "serve", "--port", str(port), "--demo-data-if-empty"],
        env=env,
    )
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("the server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running Hotline; default: start one")
    parser.add_argument("--public-url", help="the base URL the app signs with (default: --url)")
    parser.add_argument(
        "--token", default=DEV_AUTH_TOKEN, help="the Twilio auth token the app checks"
    )
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    server = None
    with tempfile.TemporaryDirectory() as workdir:
        url = args.url
        if url is None:
            server = start_server(args.port, Path(workdir))
            url = f"http://127.0.0.1:{args.port}"
        try:
            bench = Bench(url, args.public_url or url, args.token)
            processes = {"api": server.pid} if server else {}
            if server:
                # `hotline serve` starts the worker (and the embedded Redis) as its children.
                for child in children(server.pid):
                    name = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
                    processes["worker" if b"worker" in name else "redis"] = child
            before = {name: cpu_seconds(pid) for name, pid in processes.items()}
            elapsed = asyncio.run(bench.run(args.calls, args.concurrency))
            bench.report(elapsed, args.calls, args.concurrency)
            requests = sum(len(values) for values in bench.latencies.values())
            for name, pid in processes.items():
                used = cpu_seconds(pid) - before[name]
                print(
                    f"{name} process CPU: {used:.1f} s = {used * 1e6 / requests:.0f} µs per request"
                )
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)


if __name__ == "__main__":
    main()
