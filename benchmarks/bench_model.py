"""Model throughput: incidents simulated per CPU-second on the default site, every agent and the log on.

Workload: the default configuration (site daishan, policy echelon_135, all incident kinds, drones patrolling
and on overwatch) over a long horizon at the configured rates, so that per-incident work dominates and
start-up (building agents, the incident stream) is counted but amortised. CPU time is
``time.process_time`` of the whole replication: incident generation, model construction and the run.
Reported: incidents, events logged, CPU seconds, incidents per CPU-second (best of --repeat runs).

    .venv/bin/python benchmarks/bench_model.py [--days 3650] [--policy echelon_135] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sim.config import load_config
from sim.experiment import simulate
from sim.model.world import World
from sim.site.build import build_site

OUT = Path("results/bench_model.json")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=3650.0)
    parser.add_argument("--policy", nargs="+", default=["echelon_135", "police_only"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    rows = []
    for policy in args.policy:
        cfg = load_config([f"policy={policy}", f"run.days={args.days}", "run.replications=1"])
        site = build_site(cfg)
        world = World.build(site)
        best = None
        for _ in range(args.repeat):
            start = time.process_time()
            rep = simulate(site, cfg, 0, world)
            cpu_s = time.process_time() - start
            best = cpu_s if best is None else min(best, cpu_s)
        n = len(rep.incidents)
        rows.append(
            {
                "site": site.name,
                "policy": policy,
                "days": args.days,
                "incidents": n,
                "events": len(rep.events),
                "cpu_s": best,
                "incidents_per_cpu_s": n / best,
            }
        )
    print("| site | policy | simulated days | incidents | events | CPU s | incidents per CPU-second |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['site']} | {r['policy']} | {r['days']:g} | {r['incidents']} | {r['events']} "
            f"| {r['cpu_s']:.2f} | {r['incidents_per_cpu_s']:,.0f} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"timer": "time.process_time, best of repeats", "rows": rows}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
