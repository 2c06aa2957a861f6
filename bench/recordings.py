"""Recording download throughput: emulated Twilio -> checked -> local storage.

    python bench/recordings.py                       # 40 recordings of 120 s, 1 and 4 workers
    python bench/recordings.py --count 100 --seconds 300 --workers 1 2 4

Each download is what the `recordings` job does (minus its two small database writes): an
authenticated GET of the media URL from the emulator's REST port (Twilio's WAV: 8 kHz, 16-bit,
two channels, 32 kB per second of call), the length and WAV header checks, the SHA-256, the
copy into the storage directory with fsync and the read-back check. Workers are threads, as
several RQ workers would be processes: the figure per worker carries over.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import unshadow_recordings  # noqa: F401  (before the package `recordings` is imported)
from twilio.rest import Client

from hotline.twilio_gateway import RestGateway
from recordings.download import fetch_and_store
from recordings.models import Recording
from recordings.storage import LocalStorage
from simulator.clock import SimClock
from simulator.exchange import Exchange
from simulator.recording import Recording as TwilioRecording
from simulator.server import EmulatorServer
from simulator.webhook import AppEndpoint

ACCOUNT = "AC" + "b" * 32
TOKEN = "bench-auth-token"
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def make_exchange() -> Exchange:
    # No app behind it: only the REST side is used.
    client = httpx.AsyncClient(base_url="http://127.0.0.1:9")
    return Exchange(
        endpoint=AppEndpoint(client, "http://127.0.0.1:9", TOKEN),
        account_sid=ACCOUNT,
        clock=SimClock(1),
    )


def add_recordings(server: EmulatorServer, count: int, seconds: int, round_: int) -> list[str]:
    assert server.exchange is not None
    sids = []
    for n in range(count):
        sid = f"RE{round_:08d}{n:024d}"
        server.exchange.recordings[sid] = TwilioRecording(
            sid=sid,
            call_sid=f"CA{n:032d}",
            account_sid=ACCOUNT,
            url=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{sid}",
            source="DialVerb",
            channels=2,
            start_time=T0,
            started_at=0.0,
            status="completed",
            duration=seconds,
        )
        server.exchange.recordings[sid].media()  # built before the clock starts
        sids.append(sid)
    return sids


def run(server: EmulatorServer, sids: list[str], workers: int, root: Path) -> tuple[float, int]:
    assert server.exchange is not None
    urls = {sid: server.exchange.recordings[sid].url for sid in sids}
    storage = LocalStorage(root)
    gateway = RestGateway(
        Client(ACCOUNT, TOKEN), api_base=server.base_url, timeout=30.0
    )  # media goes through plain httpx, rebased to the emulator

    def one(sid: str) -> int:
        recording = Recording(
            recording_sid=sid,
            call_sid="CA",
            status="completed",
            media_url=urls[sid],
            created_at=T0,
            updated_at=T0,
        )
        return fetch_and_store(recording=recording, gateway=gateway, storage=storage).size

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        total = sum(pool.map(one, sids))
    return time.perf_counter() - started, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--seconds", type=int, default=120, help="length of each recording")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    with EmulatorServer(make_exchange, TOKEN) as server, tempfile.TemporaryDirectory() as tmp:
        print(f"{args.count} recordings of {args.seconds} s (dual-channel WAV) each")
        print(" workers      MB  seconds    MB/s  recordings/s")
        for round_, workers in enumerate(args.workers):
            sids = add_recordings(server, args.count, args.seconds, round_)
            elapsed, total = run(server, sids, workers, Path(tmp) / f"run{round_}")
            megabytes = total / 1e6
            print(
                f"{workers:8d} {megabytes:7.1f} {elapsed:8.2f} {megabytes / elapsed:7.1f}"
                f" {len(sids) / elapsed:13.1f}"
            )


if __name__ == "__main__":
    main()
