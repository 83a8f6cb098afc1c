"""How fast this (virtual) machine runs just now, and how much CPU time its host takes back: yardsticks the
other figures are read against. A shared VM's speed wanders by a third within minutes here."""

from __future__ import annotations

import math
import time
from pathlib import Path

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
