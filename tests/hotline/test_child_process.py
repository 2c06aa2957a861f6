"""`hotline serve` keeps its worker running: a child that exits is started again, stop ends it."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from hotline.child_process import KeptProcess


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def gone(pid: int | None) -> bool:
    """No such process, or a zombie (an orphan waits for init to reap it)."""
    assert pid is not None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def wait_for(condition: Callable[[], bool], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_a_child_that_exits_is_started_again() -> None:
    kept = KeptProcess(python("raise SystemExit(3)"), first_delay=0.05, longest_delay=0.1)
    kept.start()
    deadline = time.monotonic() + 20
    while kept.starts < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    kept.stop()
    assert kept.starts >= 3
    starts = kept.starts
    time.sleep(0.3)
    assert kept.starts == starts, "started again after stop"


def test_stop_ends_a_running_child_once() -> None:
    kept = KeptProcess(python("import time; time.sleep(60)"))
    kept.start()
    pid = kept.pid
    kept.stop(interrupt_timeout=10)
    assert gone(pid) and kept.starts == 1


def test_a_child_deaf_to_interrupts_is_killed(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    kept = KeptProcess(
        python(
            "import pathlib, signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
            f"pathlib.Path({str(ready)!r}).touch(); time.sleep(60)"
        )
    )
    kept.start()
    deadline = time.monotonic() + 20
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    pid = kept.pid
    started = time.monotonic()
    kept.stop(interrupt_timeout=0.5)
    assert gone(pid) and time.monotonic() - started < 5


def test_what_a_dead_child_left_running_is_ended_before_the_next_start(tmp_path: Path) -> None:
    # As RQ's scheduler outlives a worker killed outright, holding the scheduler's lock.
    left = tmp_path / "grandchild"
    spawn = (
        "import pathlib, subprocess, sys, time; "
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        f"pathlib.Path({str(left)!r} + str(p.pid)).touch(); time.sleep(60)"
    )
    kept = KeptProcess(python(spawn), first_delay=0.05)
    kept.start()
    assert wait_for(lambda: len(list(tmp_path.glob("grandchild*"))) == 1)
    first = int(next(tmp_path.glob("grandchild*")).name.removeprefix("grandchild"))
    pid = kept.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: kept.starts == 2)
    assert gone(first)
    assert wait_for(lambda: len(list(tmp_path.glob("grandchild*"))) == 2)
    second = [p for p in tmp_path.glob("grandchild*") if p.name != f"grandchild{first}"]
    kept.stop()
    assert gone(int(second[0].name.removeprefix("grandchild")))
