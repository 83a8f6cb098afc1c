"""``echelon bench``: every measurement in one record, written as bench.json, bench.png and bench.md.

Sections, each a function of the plan returning its parameters and measurements (``SECTIONS``):
routing against per-query networkx, model throughput, cost as the network grows (synthetic sites in fresh
processes), cost as incidents grow, and the peak memory of a default comparison. Targets are reported as
pass or fail in the record and the text, never asserted: speed is shown, not tested.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sim import __version__
from sim.bench import commands, model, routing, scale
from sim.bench.figure import draw
from sim.bench.machine import python_loop_s
from sim.bench.readme_block import write_block
from sim.bench.report import FIGURE, markdown, scale_block
from sim.errors import ConfigError

SEED = 20251101


@dataclass(frozen=True)
class Plan:
    """What to measure and how hard. ``full()`` is the default; ``quick()`` stays under about a minute."""

    nodes: tuple[int, ...] = (1_000, 3_000, 10_000, 30_000, 100_000)
    incidents: tuple[int, ...] = (1_000, 3_000, 10_000, 30_000, 100_000)
    short_run_incidents: int = 500  # the run on each synthetic network
    routing_sites: tuple[str, ...] = ("daishan", "helsinki")
    routing_queries: int = 1000
    routing_baseline_queries: int = 50
    routing_repeat: int = 3
    model_repeat: int = 5
    compare_overrides: tuple[str, ...] = ()  # the default comparison: 3 policies x 10 x 30 days
    command_overrides: tuple[str, ...] = ()  # added to `make run` and the 10-run sweep (quick: short runs)
    sweep_fleets: int = 5  # the sweep's fleet sizes, x 2 policies: 10 runs
    quick: bool = False

    @classmethod
    def quick_plan(cls) -> Plan:
        return cls(
            nodes=(1_000, 3_000, 10_000),
            incidents=(1_000, 3_000, 10_000),
            short_run_incidents=200,
            routing_sites=("daishan",),
            routing_queries=200,
            routing_baseline_queries=5,
            routing_repeat=1,
            model_repeat=1,
            compare_overrides=("run.replications=2", "run.days=2", "run.policies=[police_only,echelon_135]"),
            command_overrides=("run.replications=2", "run.days=2"),
            sweep_fleets=2,
            quick=True,
        )

    def checked(self) -> Plan:
        """The plan, or one ConfigError line on what is wrong with it."""
        for key in ("nodes", "incidents"):
            values = getattr(self, key)
            if not values or any(v < 100 for v in values) or list(values) != sorted(set(values)):
                raise ConfigError(
                    f"bench {key}: increasing whole numbers of at least 100, got {list(values)}"
                )
        return self


@dataclass(frozen=True)
class Context:
    plan: Plan
    cache_dir: Path
    progress: Callable[[str, int, int], None]


def _routing(ctx: Context) -> dict:
    p = ctx.plan
    rows = [
        routing.bench_site(
            name,
            p.routing_queries,
            p.routing_baseline_queries,
            p.routing_repeat,
            [f"cache_dir={ctx.cache_dir}"],
        )
        for name in p.routing_sites
    ]
    return {"parameters": {**routing.META, "echelon_repeat": p.routing_repeat}, "rows": rows}


def _model(ctx: Context) -> dict:
    rows = model.measure(
        ["echelon_135", "police_only"], ctx.plan.model_repeat, [f"cache_dir={ctx.cache_dir}"]
    )
    return {
        "parameters": {
            "site": "default (daishan, SYNTHETIC)",
            "horizons_days_x_replications": [list(h) for h in model.HORIZONS],
            "timer": "time.process_time of sim.experiment.run, World apart, best of repeats",
            "repeat": ctx.plan.model_repeat,
        },
        "rows": rows,
        "target_incidents_per_cpu_s": model.TARGET,
    }


def _network_growth(ctx: Context) -> dict:
    return scale.network_growth(ctx.plan.nodes, ctx.plan.short_run_incidents, ctx.cache_dir, SEED)


def _incident_growth(ctx: Context) -> dict:
    return scale.incident_growth(ctx.plan.incidents, [f"cache_dir={ctx.cache_dir}"])


def _compare_memory(ctx: Context) -> dict:
    return scale.compare_memory(ctx.plan.compare_overrides, ctx.cache_dir)


def _make_run(ctx: Context) -> dict:
    return commands.make_run(ctx.cache_dir, ctx.plan.command_overrides)


def _workers(ctx: Context) -> dict:
    return commands.sweep_speedup(ctx.cache_dir, ctx.plan.command_overrides, fleets=ctx.plan.sweep_fleets)


# The record's sections in order; a further measurement is one more entry here: a function of the Context
# returning its parameters and results.
SECTIONS: dict[str, Callable[[Context], dict]] = {
    "routing": _routing,
    "model": _model,
    "network_growth": _network_growth,
    "incident_growth": _incident_growth,
    "compare_memory": _compare_memory,
    "make_run": _make_run,
    "workers": _workers,
}


def machine() -> dict:
    """What the figures were measured on: they mean little without it."""
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average_1min_at_start": os.getloadavg()[0],
        "python_loop_s_at_start": python_loop_s(),
        "echelon": __version__,
    }


def _write_text(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def run_bench(
    plan: Plan,
    out_dir: Path,
    cache_dir: Path,
    readme: Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict:
    """Measure every section of ``plan``; write bench.json, bench.png and bench.md into ``out_dir`` (and
    README's bench blocks into ``readme``, a full run only); return the record."""
    plan = plan.checked()
    if readme is not None and plan.quick:
        raise ConfigError("readme: README's blocks are written from the full benchmark only; drop quick=true")
    if readme is not None and not Path(readme).is_file():
        raise ConfigError(f"readme: no such file '{readme}'")
    progress = progress or (lambda stage, done, total: None)
    ctx = Context(plan, Path(cache_dir), progress)
    record: dict = {
        "machine": machine(),
        "quick": plan.quick,
        "plan": dataclasses.asdict(plan),
        "sections": {},
    }
    start = time.perf_counter()
    record["section_wall_s"] = {}
    progress("benchmarking", 0, len(SECTIONS))
    for done, (name, section) in enumerate(SECTIONS.items(), start=1):
        began = time.perf_counter()
        record["sections"][name] = section(ctx)
        record["section_wall_s"][name] = time.perf_counter() - began
        progress("benchmarking", done, len(SECTIONS))
    record["wall_s"] = time.perf_counter() - start
    record["machine"]["load_average_1min_at_end"] = os.getloadavg()[0]
    record["machine"]["python_loop_s_at_end"] = python_loop_s()
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_text(out_dir / "bench.json", json.dumps(record, indent=2) + "\n")
    draw(record, out_dir / "bench.png")
    _write_text(out_dir / "bench.md", markdown(record))
    if readme is not None:
        shown = Path("results/bench/bench.json")
        s = record["sections"]
        write_block(readme, "bench", routing.readme_block(s["routing"]["rows"], shown))
        write_block(readme, "bench-model", model.readme_block(s["model"]["rows"], shown))
        write_block(readme, "bench-scale", scale_block(record))
        small_png(out_dir / "bench.png", Path(readme).parent / FIGURE)
    return record


def small_png(source: Path, target: Path) -> Path:
    """A copy of the figure in 256 colours, small enough to commit beside README."""
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image.convert("RGB").quantize(256).save(target, optimize=True)
    return target
