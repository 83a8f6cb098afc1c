"""Routing benchmark: unit-to-incident travel times with sim.site.routing against per-query networkx.

The measurement is ``sim.bench.routing`` (``echelon bench`` runs it too); this script runs it alone:

    .venv/bin/python benchmarks/bench_routing.py [--sites daishan helsinki] [--queries N] [--readme README.md]

With ``--readme`` the block between README's ``bench`` markers is rewritten from the values just measured:
the table and every sentence that quotes a figure.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sim.bench.readme_block import write_block
from sim.bench.routing import META, OUT, Mismatch, bench_site, markdown, readme_block

__all__ = ["bench_site", "main", "markdown", "readme_block"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", nargs="+", default=["daishan", "helsinki"])
    parser.add_argument("--queries", type=int, default=1000, help="incidents per site (default 1000)")
    parser.add_argument(
        "--baseline-queries",
        type=int,
        default=50,
        help="incidents the networkx baseline is timed on, then scaled (default 50)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs for the Echelon paths")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--readme", type=Path, help="rewrite this README's block between its bench markers")
    args = parser.parse_args(argv)
    if args.queries < 1 or args.baseline_queries < 1 or args.repeat < 1:
        parser.error("--queries, --baseline-queries and --repeat must be >= 1")

    rows = []
    for name in args.sites:
        print(f"benchmarking {name} ...", file=sys.stderr, flush=True)
        try:
            rows.append(bench_site(name, args.queries, args.baseline_queries, args.repeat))
        except Mismatch as err:
            sys.exit(f"ABORT: {err}")
    print(markdown(rows))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {**META, "echelon_repeat": args.repeat}
    args.out.write_text(json.dumps({"meta": meta, "sites": rows}, indent=2) + "\n")
    print(f"\nwritten {args.out}", file=sys.stderr)
    if args.readme:
        write_block(args.readme, "bench", readme_block(rows, args.out))
        print(f"rewritten the bench block of {args.readme}", file=sys.stderr)


if __name__ == "__main__":
    main()
