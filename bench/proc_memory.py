"""Peak resident memory and CPU time of a set of processes and their children, from /proc.

VmHWM ("high-water mark") is the most resident memory a process ever had; it is read while the
process lives, so a thread samples it (and finds new children, such as RQ's scheduler or work
horses) until stopped. A process that has ended keeps the last values read.

Peaks can also be kept for chosen windows only (`open_window()` .. `close_window()`), such as
the calls of a load run without the set-up between runs: opening a window resets the kernel's
mark (`5` to /proc/<pid>/clear_refs) and the window peak is the most read inside windows.
"""

from __future__ import annotations

import os
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


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far, None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
    cpu_seconds: float = 0.0
    # The most resident memory inside windows; None when no window saw the process.
    window_hwm_kib: int | None = None


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
        self._in_window = False

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
        # Read under the lock: a mark read before a window's reset must not count inside it.
        with self._lock:
            hwm, cpu = status_kib(pid, "VmHWM"), cpu_seconds(pid)
            if hwm is None or cpu is None:
                return
            peak = self._peaks.setdefault(pid, Peak(label, pid))
            peak.hwm_kib = max(peak.hwm_kib, hwm)
            peak.cpu_seconds = max(peak.cpu_seconds, cpu)
            if self._in_window:
                peak.window_hwm_kib = max(peak.window_hwm_kib or 0, hwm)

    def open_window(self) -> None:
        """From now on peaks count for the window too; the kernel's marks start afresh."""
        self.sample()
        with self._lock:
            for pid in self._peaks:
                try:
                    Path(f"/proc/{pid}/clear_refs").write_text("5")
                except OSError:
                    continue  # gone, or not ours to reset
            self._in_window = True

    def close_window(self) -> None:
        self.sample()
        with self._lock:
            self._in_window = False

    def peaks(self) -> list[Peak]:
        """Every process seen, in the order first seen."""
        with self._lock:
            return [
                Peak(p.label, p.pid, p.hwm_kib, p.cpu_seconds, p.window_hwm_kib)
                for p in self._peaks.values()
            ]

    def cpu_total(self) -> float:
        """CPU seconds used so far by every process seen (sample() first for a fresh figure)."""
        with self._lock:
            return sum(p.cpu_seconds for p in self._peaks.values())
