"""bench/proc_memory.py: a process's peak resident memory over its life, and over windows only
(the kernel's mark reset when a window opens)."""

from __future__ import annotations

import subprocess
import sys

from bench.proc_memory import MemoryWatch

MIB = 1024
# Touches 80 MiB (a bytes object is written, unlike a calloc'ed bytearray), frees it, says so.
CHILD = "import sys, time; b = b'x' * (80 << 20); del b; print('freed', flush=True); time.sleep(60)"


def test_a_peak_before_the_window_counts_for_the_whole_run_only() -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "freed"
        watch = MemoryWatch()
        watch.watch(child.pid, "child", children=False)
        watch.sample()
        watch.open_window()
        watch.close_window()
        [peak] = watch.peaks()
        assert peak.label == "child" and peak.pid == child.pid
        assert peak.hwm_kib > 80 * MIB
        assert peak.window_hwm_kib is not None and peak.window_hwm_kib < 40 * MIB
        assert peak.cpu_seconds > 0
    finally:
        child.kill()
        child.wait()
