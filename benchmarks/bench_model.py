"""Model throughput: incidents simulated per CPU-second on the default site, every agent and the log on.

The measurement is ``sim.bench.model`` (``echelon bench`` runs it too); this script runs it alone:

    .venv/bin/python benchmarks/bench_model.py [--repeat 5] [--policy echelon_135 police_only] \
        [--readme README.md]

With ``--readme`` the block between README's ``bench-model`` markers is rewritten from the values just
measured: the table and every sentence that quotes a figure.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sim.bench.model import OUT, measure, readme_block, table
from sim.bench.readme_block import write_block

__all__ = ["main", "readme_block", "table"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", nargs="+", default=["echelon_135", "police_only"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--readme", type=Path, help="rewrite this README's block between its bench-model markers"
    )
    args = parser.parse_args(argv)
    rows = measure(args.policy, args.repeat)
    print(table(rows))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"timer": "time.process_time, best of repeats", "rows": rows}, indent=2) + "\n"
    )
    if args.readme:
        write_block(args.readme, "bench-model", readme_block(rows, args.out))
        print(f"rewritten the bench-model block of {args.readme}", file=sys.stderr)


if __name__ == "__main__":
    main()
