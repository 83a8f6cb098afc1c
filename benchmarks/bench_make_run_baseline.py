"""`make run` against the code of the day its target was set, timed pass by pass in the same minutes: the
`make_run` section of `echelon bench` alone (about 5 minutes instead of the whole benchmark's 20).

    .venv/bin/python benchmarks/bench_make_run_baseline.py [--baseline a2b00e9]

Writes ``results/bench/make_run_baseline.json`` and prints one line. Needs git and the baseline commit in
the repository's history (a git worktree of it is made and removed); nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sim.bench.baseline import MAKE_RUN_BASELINE
from sim.bench.commands import make_run
from sim.bench.report import make_run_line

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=MAKE_RUN_BASELINE)
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "results" / ".cache")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench" / "make_run_baseline.json")
    args = parser.parse_args(argv)
    section = make_run(args.cache_dir, baseline=args.baseline)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(section, indent=2) + "\n", encoding="utf-8")
    print(make_run_line(section))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
