"""How fast this (virtual) machine runs just now, and how much of its second core it gives: the yardsticks
the other figures are read against. A shared VM's speed wanders by a third over an hour here, and when its
host is busy two processes no longer run twice as fast as one, whatever code they run."""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

LOOP = (
    "import time\nt = time.perf_counter(); s = 0\nfor i in range({n}): s += i\nprint(time.perf_counter() - t)"
)
PROC_STAT = Path("/proc/stat")


def python_loop_s(n: int = 10_000_000) -> float:
    """Seconds of a fixed pure-Python loop (best of 3) in this process: how fast the machine runs now."""
    best = math.inf
    for _ in range(3):
        start, total = time.perf_counter(), 0
        for i in range(n):
            total += i
        best = min(best, time.perf_counter() - start)
    return best


def _loops(count: int, n: int) -> list[float]:
    """``count`` fresh interpreters running the same loop at once; each one's own loop seconds."""
    code = LOOP.format(n=n)
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    return [float(p.communicate()[0]) for p in procs]


def two_process_speedup(n: int = 20_000_000, repeats: int = 3) -> dict:
    """The machine's own speed-up on two processes: a pure-Python loop (no memory traffic, no imports, no
    I/O) alone and then in two processes at once, ``repeats`` times; each time 2 x alone / the slower of the
    two. The ceiling, at this moment, of any two-worker speed-up measured beside it."""
    ratios = []
    for _ in range(repeats):
        alone = _loops(1, n)[0]
        together = _loops(2, n)
        ratios.append(2 * alone / max(together))
    return {"loop_iterations": n, "passes_speedup": ratios, "speedup": statistics.median(ratios)}


def cpu_jiffies() -> tuple[int, int] | None:
    """(stolen, all) CPU time since boot, in jiffies, from Linux's /proc/stat; None elsewhere. Stolen: time
    the hypervisor gave this VM's virtual CPUs to someone else while they had work."""
    try:
        fields = PROC_STAT.read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if fields[0] != "cpu" or len(fields) < 9:
        return None
    values = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return values[7], sum(values)


def stolen_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """The share of all CPU time between two ``cpu_jiffies`` readings that was stolen; None if unknown."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])
