"""One measurement in a fresh process: a site's set-up, its World and a run of about N incidents; or a
whole ``echelon compare``.

Why a fresh process: peak resident memory only grows, so a site measured after another one would report
the larger of the two; and a fresh interpreter pays no leftovers of earlier sections. The parent
(``sim.bench.scale``) starts ``python -m sim.bench.probe '<json>'`` and reads one JSON line back.

Why VmHWM and not ``ru_maxrss``: on Linux a child's ``ru_maxrss`` starts at its parent's peak (the kernel
carries it across fork and exec), so every probe started by a benchmark that had built a site read at
least that site's memory. VmHWM (/proc/self/status) is the peak of this process image alone.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sim.errors import ConfigError


def peak_rss_mb() -> float:
    """This process's peak resident set so far, MiB: VmHWM where /proc has it (Linux), else ``ru_maxrss``
    (KiB on Linux, bytes on macOS; inherited from the parent, so an upper bound)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 1024.0**2


def probe(overrides: Sequence[str], incidents: int, policy: str = "echelon_135") -> dict:
    """Set up the site of ``overrides`` (timed, validated as ``echelon`` does), build its World (timed),
    then simulate one replication of ``policy`` long enough for about ``incidents`` incidents at the
    configured rates (CPU-timed: the incident stream, the agents, the run, the log as a table)."""
    from sim.config import load_config
    from sim.experiment import simulate
    from sim.model.incidents import expected_per_replication
    from sim.model.world import World
    from sim.site.build import build_site

    if incidents < 1:
        raise ConfigError(f"incidents: at least 1, got {incidents}")
    out: dict = {"import_peak_rss_mb": peak_rss_mb()}
    cfg = load_config([*overrides, f"policy={policy}", "run.replications=1", "run.days=1"])
    start = time.perf_counter()
    site = build_site(cfg)
    out |= {
        "setup_s": time.perf_counter() - start,
        "setup_peak_rss_mb": peak_rss_mb(),
        "nodes": site.graph.number_of_nodes(),
        "edges": site.graph.number_of_edges(),
        "enterprises": len(site.enterprises),
        "stations": len(site.stations),
        "fire_stations": len(site.fire_stations),
        "grids": len(site.grids),
        "site_warnings": len(site.warnings),
    }
    start = time.perf_counter()
    world = World.build(site)
    out |= {"world_s": time.perf_counter() - start, "world_peak_rss_mb": peak_rss_mb()}
    per_day = expected_per_replication(world, cfg)
    if per_day <= 0:
        raise ConfigError(f"site {cfg.site.name}: no incident can occur (no enterprise, no watched place)")
    days = incidents / per_day
    cfg = load_config([*overrides, f"policy={policy}", "run.replications=1", f"run.days={days}"])
    start = time.process_time()
    rep = simulate(site, cfg, 0, world)
    cpu_s = time.process_time() - start
    n = len(rep.incidents)
    return out | {
        "policy": policy,
        "days": days,
        "incidents": n,
        "events": len(rep.events),
        "run_cpu_s": cpu_s,
        "cpu_ms_per_incident": 1000.0 * cpu_s / n if n else None,
        "peak_rss_mb": peak_rss_mb(),
    }


def compare(args: Sequence[str]) -> dict:
    """``echelon compare <args>`` in this process (its output silenced): wall time and peak RSS. Worker
    processes it may start are not counted."""
    import contextlib
    import io

    from sim.cli import main as cli_main

    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        status = cli_main(["compare", *args])
    if status != 0:
        raise RuntimeError(f"echelon compare {' '.join(args)} ended with status {status}")
    return {"wall_s": time.perf_counter() - start, "peak_rss_mb": peak_rss_mb()}


def main(argv: Sequence[str] | None = None) -> int:
    args = json.loads((argv if argv is not None else sys.argv[1:])[0])
    if "compare" in args:
        result = compare(args["compare"])
    else:
        result = probe(args["overrides"], int(args["incidents"]), args.get("policy", "echelon_135"))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
