"""``echelon bench``: how fast and how big, measured (``sim.bench.run``), and the measurements the
scripts in benchmarks/ share with it (routing, model throughput, README's measured blocks)."""
