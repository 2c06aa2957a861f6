"""A child process kept running: `hotline serve` starts its RQ worker this way.

Under Docker Compose a worker that exits is restarted by the `restart:` policy; `make run` has no
such supervisor, and a worker that quit (RQ lets a Redis error outside its dequeue end the
process) would leave calls unlogged and surveys unsent while the API went on answering.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence

log = logging.getLogger(__name__)

# Doubling from the first delay to the last, so a worker that cannot start does not spin.
FIRST_DELAY_SECONDS = 1.0
LONGEST_DELAY_SECONDS = 30.0
# A child that ran this long before exiting was healthy: the next restart is quick again.
HEALTHY_AFTER_SECONDS = 60.0
# What the dead child's own children get to finish (RQ's scheduler releases its lock).
ORPHANS_SECONDS = 5.0


class KeptProcess:
    """Starts `command`, and again whenever it exits, until `stop`."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        name: str = "child",
        first_delay: float = FIRST_DELAY_SECONDS,
        longest_delay: float = LONGEST_DELAY_SECONDS,
    ) -> None:
        self._command = list(command)
        self._env = dict(env) if env is not None else None
        self._name = name
        self._first_delay = first_delay
        self._longest_delay = longest_delay
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._keep, name=f"keep-{name}", daemon=True)
        self.starts = 0

    @property
    def pid(self) -> int | None:
        with self._lock:
            return self._process.pid if self._process is not None else None

    def start(self) -> None:
        if self._spawn():
            self._thread.start()

    def stop(self, *, interrupt_timeout: float = 10.0) -> None:
        """Ask the child and its own children (RQ's scheduler) to finish, SIGINT: RQ ends its
        job first; kill them if they will not."""
        with self._lock:  # no new child after this: `_spawn` checks under the same lock
            self._stopping.set()
            process = self._process
        if process is not None:
            _end_group(process, signal.SIGINT, timeout=interrupt_timeout)
        self._thread.join(timeout=interrupt_timeout)

    def _spawn(self) -> bool:
        with self._lock:
            if self._stopping.is_set():
                return False
            # A session of its own, so the child's children are stopped with it: a worker killed
            # outright would leave its scheduler process running, holding the scheduler's lock.
            self._process = subprocess.Popen(self._command, env=self._env, start_new_session=True)
            self.starts += 1
            return True

    def _keep(self) -> None:
        delay = self._first_delay
        while not self._stopping.is_set():
            with self._lock:
                process = self._process
            assert process is not None
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            _end_group(process, signal.SIGTERM, timeout=ORPHANS_SECONDS)
            if time.monotonic() - started >= HEALTHY_AFTER_SECONDS:
                delay = self._first_delay
            log.warning(
                "%s (pid %s) exited with code %s; starting it again in %.0f s",
                self._name, process.pid, code, delay,
            )  # fmt: skip
            if self._stopping.wait(delay) or not self._spawn():
                return
            delay = min(delay * 2, self._longest_delay)


def _end_group(process: subprocess.Popen[bytes], first: signal.Signals, *, timeout: float) -> None:
    """`first` to the child's process group, SIGKILL to whatever is left of it after `timeout`."""
    group = process.pid  # the leader of its own session
    deadline = time.monotonic() + timeout
    try:
        os.killpg(group, first)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
        while time.monotonic() < deadline:
            os.killpg(group, 0)  # ProcessLookupError once nobody is left in the group
            time.sleep(0.05)
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
