"""Peak resident memory of a set of processes and their children, from Linux's /proc.

VmHWM ("high-water mark") is the most resident memory a process ever had; it is read while the
process lives, so a thread samples it (and finds new children, such as RQ's scheduler or work
horses) until stopped. A process that has ended keeps the last value read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.5


def status_kib(pid: int, field: str) -> int | None:
    """A `kB` line of /proc/<pid>/status (VmHWM, VmRSS), None once the process is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return None


def parents() -> dict[int, int]:
    """Every live process's parent pid."""
    found: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name, in parentheses, may hold spaces: the fields follow its ")".
            found[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


@dataclass
class Peak:
    label: str
    pid: int
    hwm_kib: int = 0


# Names a child from its root's label, its command line and its number among the root's
# children seen so far (from 1); None: "<root label> child <number>".
ChildNamer = Callable[[str, str, int], str | None]


class MemoryWatch:
    """`watch()` the roots, `start()` sampling, `peaks()` at any time, `stop()` at the end."""

    def __init__(self, name_child: ChildNamer | None = None) -> None:
        self._roots: dict[int, tuple[str, bool]] = {}
        self._peaks: dict[int, Peak] = {}
        self._children_seen: dict[str, int] = {}
        self._name_child = name_child
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, pid: int, label: str, *, children: bool = True) -> None:
        with self._lock:
            self._roots[pid] = (label, children)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="memory-watch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(5)
            self._thread = None
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.sample()

    def sample(self) -> None:
        tree = parents()
        with self._lock:
            roots = dict(self._roots)
        for pid, (label, children) in roots.items():
            self._record(pid, label)
            if children:
                for child in sorted(p for p, parent in tree.items() if parent == pid):
                    self._record(child, self._child_label(child, label))

    def _child_label(self, pid: int, root_label: str) -> str:
        known = self._peaks.get(pid)
        if known is not None:
            return known.label
        number = self._children_seen.get(root_label, 0) + 1
        self._children_seen[root_label] = number
        named = (
            self._name_child(root_label, command_line(pid), number) if self._name_child else None
        )
        return named or f"{root_label} child {number}"

    def _record(self, pid: int, label: str) -> None:
        hwm = status_kib(pid, "VmHWM")
        if hwm is None:
            return
        with self._lock:
            peak = self._peaks.setdefault(pid, Peak(label, pid))
            peak.hwm_kib = max(peak.hwm_kib, hwm)

    def peaks(self) -> list[Peak]:
        """Every process seen, in the order first seen."""
        with self._lock:
            return [Peak(p.label, p.pid, p.hwm_kib) for p in self._peaks.values()]
