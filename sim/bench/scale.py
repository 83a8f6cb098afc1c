"""How costs grow: with the road network (synthetic sites of 1,000 to 100,000 nodes), with the number of
incidents (the default site, longer runs), and the peak memory of a default comparison.

Every point is measured in a fresh process (``sim.bench.probe``, which runs ``echelon compare`` too), so
peak resident memory is that point's own and no point inherits another's heap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import sim
from sim.bench.synthetic import network_path, write_network

SETUP_TARGET_S = 60.0  # the issue: a 100,000-node site set up in under a minute
SETUP_TARGET_MB = 4096.0  # ... and under 4 GB
TARGET_NODES = 100_000
# 100,000 incidents at the default rates would take 320 years, beyond run.days' limit of 100: four times the
# rates (a light load still; incidents=stress is 60 times) for every count keeps the load the same.
RATE_MULTIPLIER = 4.0
FLAT_TARGET = 1.5  # per-incident cost at the most incidents over the fewest: "flat" means at most this


def _probe(args: dict, what: str) -> dict:
    """``python -m sim.bench.probe '<args>'`` in a fresh interpreter; the JSON it prints."""
    # The child imports this very copy of the code, whatever an installed `echelon` points at.
    root = str(Path(sim.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-m", "sim.bench.probe", json.dumps(args)], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        tail = " ".join(done.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"{what} failed (exit {done.returncode}): {tail}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def probe_in_subprocess(overrides: Sequence[str], incidents: int, policy: str = "echelon_135") -> dict:
    """``sim.bench.probe.probe`` in a fresh interpreter."""
    args = {"overrides": list(overrides), "incidents": incidents, "policy": policy}
    return _probe(args, f"probe {list(overrides)} ({incidents} incidents)")


def network_growth(sizes: Sequence[int], incidents: int, cache_dir: Path, seed: int) -> dict:
    """Per size: the synthetic network's file, then in a fresh process its site set-up, World and a short
    run; and whether the largest size meets the issue's set-up targets."""
    rows = []
    for nodes in sizes:
        fresh = not network_path(cache_dir / "bench", nodes, seed).exists()
        start = time.perf_counter()
        path = write_network(cache_dir / "bench", nodes, seed)
        generate_s = time.perf_counter() - start if fresh else None  # None: the cached file was reused
        overrides = ["site=file", f"site.path={path}", "site.name=bench_grid", f"cache_dir={cache_dir}"]
        row = probe_in_subprocess(overrides, incidents)
        rows.append(
            {"target_nodes": nodes, "generate_s": generate_s, "osm_mb": path.stat().st_size / 2**20, **row}
        )
    return {
        "parameters": {
            "sizes_nodes": list(sizes),
            "short_run_incidents": incidents,
            "seed": seed,
            "network": "sim.bench.synthetic: jittered 150 m lattice, default road classes, zones every 3 km, "
            "a police station per 25 km2, a fire station per 64 km2; loaded with site=file like a user's "
            "OSM XML",
            "setup": "sim.site.build.build_site with validation, wall time (time.perf_counter)",
            "memory": "ru_maxrss of a fresh process per size, after set-up, after World, after the run",
            "run": "one replication of echelon_135, CPU time (time.process_time) of sim.experiment.simulate",
        },
        "rows": rows,
        "targets": setup_targets(rows),
    }


def setup_targets(rows: Sequence[dict]) -> dict:
    """The issue's targets, judged on the largest network measured (pass, fail, or not measured)."""
    big = max(rows, key=lambda r: r["nodes"], default=None)
    if big is None or big["target_nodes"] < TARGET_NODES:
        return {
            "measured_nodes": big["nodes"] if big else 0,
            "setup_s_ok": None,
            "setup_rss_ok": None,
            "note": f"no network of {TARGET_NODES:,} nodes measured (quick run): targets not judged",
        }
    return {
        "measured_nodes": big["nodes"],
        "setup_s": big["setup_s"],
        "setup_s_target": SETUP_TARGET_S,
        "setup_s_ok": big["setup_s"] < SETUP_TARGET_S,
        "setup_peak_rss_mb": big["setup_peak_rss_mb"],
        "setup_rss_target_mb": SETUP_TARGET_MB,
        "setup_rss_ok": big["setup_peak_rss_mb"] < SETUP_TARGET_MB,
    }


def incident_growth(counts: Sequence[int], overrides: Sequence[str]) -> dict:
    """Per incident count: one replication on the default site at RATE_MULTIPLIER times the default rates
    (the same for every count), run.days raised until about that many incidents occur, in a fresh process;
    and the ratio of per-incident cost, most over fewest."""
    overrides = [*overrides, f"incidents.rate_multiplier={RATE_MULTIPLIER:g}"]
    rows = [probe_in_subprocess(overrides, n) | {"target_incidents": n} for n in counts]
    first, last = rows[0], rows[-1]
    ratio = last["cpu_ms_per_incident"] / first["cpu_ms_per_incident"]
    return {
        "parameters": {
            "target_incidents": list(counts),
            "site": "default (daishan, SYNTHETIC)",
            "policy": "echelon_135",
            "rate_multiplier": RATE_MULTIPLIER,
            "how": "the rates x rate_multiplier for every count, run.days raised; one replication; CPU time "
            "of sim.experiment.simulate "
            "(incident stream, agents, run, log as a table), World built before and not counted",
        },
        "rows": rows,
        "targets": {
            "per_incident_ratio_last_over_first": ratio,
            "ratio_target_max": FLAT_TARGET,
            "flat_ok": ratio <= FLAT_TARGET,
            "first_incidents": first["incidents"],
            "last_incidents": last["incidents"],
        },
    }


def compare_memory(overrides: Sequence[str], cache_dir: Path) -> dict:
    """Peak RSS and wall time of ``echelon compare`` (site, every policy and replication, metrics, figures,
    report) in a fresh process, writing into a temporary folder that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="echelon-bench-") as tmp:
        args = [f"results_dir={tmp}", f"cache_dir={cache_dir}", *overrides]
        result = _probe({"compare": args}, "echelon compare")
    return {
        "parameters": {
            "command": " ".join(["echelon compare", *overrides]),
            "memory": "peak RSS (VmHWM) of the process running it; worker processes, if any, not counted",
        },
        **result,
    }
