"""Model throughput: incidents simulated per CPU-second on the default site, every agent and the log on.

Two horizons, as `echelon run` uses the model: one replication of 3,650 days (per-incident work dominates),
and 10 replications of 30 days (the default comparison: start-up matters). CPU time is ``time.process_time``
of ``sim.experiment.run`` for one policy: the incident stream of every replication, building the agents
(once per run: later replications restart them), the runs, and turning each log into a table. The site
and its World (travel tables, watched places: built once per site and shared by every policy) are timed
apart and reported in their own column. Best of --repeat runs.

    .venv/bin/python benchmarks/bench_model.py [--repeat 5] [--policy echelon_135 police_only]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sim.config import load_config
from sim.experiment import run
from sim.model.world import World
from sim.site.build import build_site

OUT = Path("results/bench_model.json")
HORIZONS = ((3650.0, 1), (30.0, 10))  # (days, replications)
TARGET = 2000.0  # incidents per CPU-second (the bar)


def _best_cpu_s(fn, repeat: int):
    best, out = None, None
    for _ in range(repeat):
        start = time.process_time()
        out = fn()
        cpu_s = time.process_time() - start
        best = cpu_s if best is None else min(best, cpu_s)
    return best, out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", nargs="+", default=["echelon_135", "police_only"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    site = build_site(load_config([]))
    world_s, _ = _best_cpu_s(lambda: World.build(site), args.repeat)
    rows = []
    for days, reps in HORIZONS:
        for policy in args.policy:
            cfg = load_config([f"policy={policy}", f"run.days={days}", f"run.replications={reps}"])
            cpu_s, out = _best_cpu_s(lambda cfg=cfg: run(cfg, site), args.repeat)
            cpu_s -= world_s  # run() builds the site's World once; reported in its own column
            n = sum(len(r.incidents) for r in out)
            rows.append(
                {
                    "site": site.name,
                    "policy": policy,
                    "days": days,
                    "replications": reps,
                    "incidents": n,
                    "events": sum(len(r.events) for r in out),
                    "cpu_s": cpu_s,
                    "world_cpu_s": world_s,
                    "incidents_per_cpu_s": n / cpu_s,
                }
            )
    print(
        "| site | policy | days x replications | incidents | events logged | CPU s "
        "| incidents per CPU-second | site's World, once, CPU s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        flag = "" if r["incidents_per_cpu_s"] >= TARGET else " (below 2,000)"
        print(
            f"| {r['site']} | {r['policy']} | {r['days']:g} x {r['replications']} | {r['incidents']:,} "
            f"| {r['events']:,} | {r['cpu_s']:.3f} | {r['incidents_per_cpu_s']:,.0f}{flag} "
            f"| {r['world_cpu_s']:.3f} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"timer": "time.process_time, best of repeats", "rows": rows}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
