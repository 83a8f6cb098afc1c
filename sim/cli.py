"""The ``echelon`` command. Subcommands take Hydra overrides: ``echelon site site=helsinki seed=3``.

Bad input (config, site, file) ends in one clear line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import signal
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sim import __version__, parallel
from sim.errors import ConfigError, EchelonError, Stopped


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold a stop signal until the block ends, then act on it.

    Why: Hydra and OmegaConf, interrupted half-way through composing, can leave a broken object whose next
    error (an AttributeError, an empty message) hides the Ctrl-C. Composing takes well under a second."""
    caught: list[int] = []
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.getsignal(sig) for sig in stops}
    try:
        for sig in stops:
            if previous[sig] is not signal.SIG_IGN:
                signal.signal(sig, lambda signum, _frame: caught.append(signum))
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if caught:
        raise Stopped(caught[0])


def load_configs(overrides: Sequence[str], policies: Sequence[str] = ()):
    """The configuration, and one per policy in ``policies`` (each with ``policy=<name>`` added).

    A relative ``results_dir`` or ``cache_dir`` is made absolute against the current folder: the command
    writes under ``./results/`` (the Python API reads relative ones against the project folder)."""
    from sim.config import load_config, paths_from

    here = Path.cwd()
    with _signals_deferred():
        return paths_from(load_config(overrides), here), [
            paths_from(load_config([*overrides, f"policy={p}"]), here) for p in policies
        ]


SITE_IN_NAME = ("site", "site.name", "site.path")  # the folder's name says the site already
# a site is drawn without them
NOT_FOR_SITE = ("policy", "incidents", "fleet", "delays", "run", "ladder", "sensitivity")


def _settings(cfgs: dict, *, vary: Sequence[str] = (), ignore: Sequence[str] = ()) -> list:
    """What the labelled configs change from the defaults (``sim.config_diff``), one list for them all."""
    from sim.config import reference_config
    from sim.config_diff import changed_settings, merge_settings

    with _signals_deferred():
        default = reference_config()
        per_config = {
            label: changed_settings(cfg, default, reference_config(cfg.choices), vary=vary, ignore=ignore)
            for label, cfg in cfgs.items()
        }
    return merge_settings(per_config)


def _stem(*parts: str, settings: Sequence = (), skip: Sequence[str] = ()) -> str:
    """``compare-daishan-coordination=strict``: the kind of run, its site, and what it changed."""
    from sim.config_diff import short_label

    label = short_label(settings, skip=(*SITE_IN_NAME, *skip))
    return "-".join([*parts, label] if label else parts)


UNITS = {"simulating": "run", "measuring": "run"}  # a run: one policy's replication
BAR = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {unit}s [{elapsed}<{remaining}]"


@contextmanager
def _progress() -> Iterator:
    """A progress callback (``sim.experiment.Progress``) drawing one tqdm bar per stage on stderr; silent
    when stderr is not a terminal (a pipe, a log file, a test), so nothing but results reaches a log. A bar
    is wiped when its stage is done, so the lines printed after it stay clean."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def close() -> None:
        for bar in bars.values():
            bar.close()
        bars.clear()

    def show(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            close()
            bars[stage] = tqdm(
                total=total,
                desc=stage,
                unit=UNITS.get(stage, "step"),
                file=sys.stderr,
                disable=None,
                leave=False,
                dynamic_ncols=True,
                bar_format=BAR if total > 1 else "{desc} ...",  # one step: only what is going on
            )
        bars[stage].update(done - bars[stage].n)
        if done >= total:
            close()

    try:
        yield show
    finally:
        close()


# What a worker process of `run` and `compare` imports: started early, it has them by the time it is used.
WORKER_MODULES = ("sim.experiment", "sim.analysis.plot_results", "sim.site.isochrones")


def _warm_workers(cfg) -> None:
    """Start the worker processes of a run or comparison in the background (``sim.parallel.warm_up``): the
    figures drawn from its incident tables are drawn in them, and a large run's replications simulated,
    while this process goes on with its own share."""
    parallel.warm_up((cfg.run.workers or parallel.cores()) - 1, WORKER_MODULES)


def _config(overrides: Sequence[str]):
    """The validated configuration, and its destinations checked, before any heavy library loads."""
    from sim.config import check_input_files
    from sim.result_folder import check_writable

    cfg, _ = load_configs(overrides)
    check_input_files(cfg)
    check_writable(Path(cfg.results_dir), "results_dir")
    check_writable(Path(cfg.cache_dir), "cache_dir")
    return cfg


def _site(cfg, progress=None):
    """Build the site and say at once what the user should know about it (placeholders, gaps)."""
    from sim.site.build import build_site

    stage = f"building site '{cfg.site.name}'"
    if progress:
        progress(stage, 0, 1)
    site = build_site(cfg)
    if progress:
        progress(stage, 1, 1)
    for w in site.warnings:
        print(f"warning: {w}")
    return site


def _run_warnings(site, cfg, n_incidents: int) -> list[str]:
    """The site's warnings, and one if chance gave no incident at all (printed and put in the report)."""
    found = list(site.warnings)
    if n_incidents == 0:
        found.append(
            f"no incident occurred in {cfg.run.replications} replication(s) x {cfg.run.days:g} days; "
            "every metric is empty: lengthen run.days or raise the rates"
        )
        print(f"warning: {found[-1]}")
    return found


def cmd_site(overrides: Sequence[str]) -> int:
    """Build, validate and draw a site; print where the files went."""
    cfg = _config(overrides)
    from sim.site.outputs import write_site_outputs

    with _progress() as progress:
        site = _site(cfg, progress)
        settings = _settings({"site": cfg}, ignore=NOT_FOR_SITE)
        stem = _stem("site", site.name, settings=settings)
        progress("writing", 0, 1)
        out = write_site_outputs(site, cfg, stem=stem, settings=settings)
        progress("writing", 1, 1)
    summary = json.loads((out / "summary.json").read_text())
    out = _shown(out)
    counts = summary["counts"]
    print(
        f"site '{site.name}'{' (SYNTHETIC)' if site.synthetic else ''}: {summary['network']['nodes']} road "
        f"nodes, {counts['enterprises']} enterprises, {counts['stations']} stations, "
        f"{counts['fire_stations']} fire stations, {counts['grids']} grids, "
        f"{counts['drone_nests']} drone nests"
    )
    shares = summary["enterprises_within_s_of_own_grid_post"]
    if all(share is not None for share in shares.values()):  # null when no enterprise is in a grid
        cover = ", ".join(f"{float(t) / 60:g} min {share:.0%}" for t, share in shares.items())
        print(f"enterprises reached from their own grid's post ({summary['measured_as']}): {cover}")
    print(f"wrote {out}/site.png")
    print(f"  and site.gpkg (layers for QGIS), enterprises.csv, summary.json, config.yaml in {out}")
    return 0


def _shown(folder: Path) -> Path:
    """A result folder as the user named it: relative to the current folder when it is inside it."""
    try:
        return folder.relative_to(Path.cwd())
    except ValueError:
        return folder


def _print_outputs(out, comparison: bool = True) -> None:
    out = _shown(out)
    print(f"wrote {out}/summary.html")
    print(
        "  and summary.md, events and incidents (.parquet, .csv), metrics_*.csv, "
        + ("paired_differences.csv, " if comparison else "")
        + f"figures in {out}"
    )


def cmd_run(overrides: Sequence[str]) -> int:
    """One configuration (one policy), all its replications."""
    cfg = _config(overrides)
    from sim.experiment import run, write_results

    label = cfg.choices.get("policy", cfg.policy.name)  # the file name: two files may share a policy function
    _warm_workers(cfg)
    settings = _settings({label: cfg}, ignore=("run.policies", "run.baseline", "ladder"))
    stem = _stem("run", label, cfg.site.name, settings=settings, skip=("policy",))
    with _progress() as progress:
        site = _site(cfg, progress)
        reps = run(cfg, site, label, progress)
        n = sum(len(r.incidents) for r in reps)
        found = _run_warnings(site, cfg, n)
        out = write_results(reps, {label: cfg}, site, None, stem, found, settings=settings, progress=progress)
    print(
        f"policy '{label}' on site '{site.name}'{' (SYNTHETIC)' if site.synthetic else ''}: "
        f"{cfg.run.replications} replication(s) x "
        f"{cfg.run.days:g} days, "
        f"{n} incidents"
    )
    _print_outputs(out, comparison=False)
    return 0


def cmd_compare(overrides: Sequence[str]) -> int:
    """The policies in run.policies on the same incidents, with paired differences against run.baseline."""
    from sim.errors import ConfigError

    base = _config(overrides)
    names = list(base.run.policies)
    if base.run.baseline not in names:
        raise ConfigError(f"run.baseline '{base.run.baseline}' is not among run.policies {names}")
    cfgs = dict(zip(names, load_configs(overrides, names)[1], strict=True))
    _warm_workers(base)
    from sim.experiment import compare, write_results

    # A comparison varies the policy on purpose: its choice is not a setting, a key set in it is.
    settings = _settings(cfgs, vary=("policy",), ignore=("ladder",))
    stem = _stem("compare", base.site.name, settings=settings, skip=("run.policies", "run.baseline"))
    with _progress() as progress:
        site = _site(base, progress)
        reps = compare(cfgs, site, progress)
        n = sum(len(r.incidents) for r in reps if r.policy == names[0])
        found = _run_warnings(site, base, n)
        out = write_results(
            reps, cfgs, site, base.run.baseline, stem, found, settings=settings, progress=progress
        )
    print(
        f"compared {', '.join(names)} on site '{site.name}'{' (SYNTHETIC)' if site.synthetic else ''}: "
        f"{base.run.replications} replications x {base.run.days:g} days, {n} incidents per policy "
        "(the same incidents for every policy)"
    )
    _print_outputs(out)
    return 0


def cmd_ladder(overrides: Sequence[str]) -> int:
    """What each part of the platform (``policy``) adds to ``run.baseline``: ordered steps, Shapley values."""
    target = _config(overrides)
    (baseline,) = load_configs(overrides, [target.run.baseline])[1]
    from sim.ladder import run_ladder, summary_line, write_ladder

    # The target's policy choice is a setting (the ladder climbs to it); the rungs' policies are not.
    labels = [c.choices.get("policy", c.policy.name) for c in (target, baseline)]
    settings = _settings(dict(zip(labels, (target, baseline), strict=True)), ignore=("run.policies",))
    settings = [s for s in settings if s.key != "policy" or s.value == labels[0]]
    stem = _stem("ladder", target.site.name, settings=settings)
    with _progress() as progress:
        site = _site(target, progress)
        result = run_ladder(target, baseline, site, list(site.warnings), progress)
        progress("writing", 0, 1)
        out = _shown(write_ladder(result, stem=stem, settings=settings))
        progress("writing", 1, 1)
    print(summary_line(result))
    for w in result.warnings:
        if w not in site.warnings:  # printed already
            print(f"warning: {w}")
    print(f"wrote {out}/ladder.html")
    print(
        "  and ladder.md, contributions.csv, "
        + ("shapley.csv, " if result.shapley is not None else "")
        + f"rungs.csv, waterfall.png, config.yaml in {out}"
    )
    return 0


def cmd_sensitivity(overrides: Sequence[str]) -> int:
    """The verdict (``sensitivity.metric``, target minus baseline policy) with each parameter in
    ``sensitivity.parameters`` at its low and high value, one at a time: a table, a tornado chart and a
    report."""
    cfg = _config(overrides)
    from sim.sensitivity import arm_configs, run_sensitivity, summary_line, write_sensitivity

    with _progress() as progress:
        progress("composing arms", 0, 1)
        arms = arm_configs(cfg, overrides, compose=lambda o: load_configs(o)[0])  # refuses bad values now
        progress("composing arms", 1, 1)
        # Each arm varies its parameter and both policies on purpose: neither is a setting of the run.
        ignore = ("policy", "run.policies", "run.baseline", "ladder", "lab")
        settings = _settings({"sensitivity": cfg}, ignore=ignore)
        stem = _stem("sensitivity", cfg.site.name, settings=settings)
        site = _site(cfg, progress)
        result = run_sensitivity(cfg, arms, site, list(site.warnings), progress, build=_site)
        progress("writing", 0, 1)
        out = _shown(write_sensitivity(result, stem=stem, settings=settings))
        progress("writing", 1, 1)
    print(summary_line(result))
    for w in result.warnings:
        if w not in site.warnings:
            print(f"warning: {w}")
    print(f"wrote {out}/sensitivity.html")
    print(f"  and sensitivity.md, sensitivity.csv, tornado.png, config.yaml in {out}")
    return 0


def cmd_grid(overrides: Sequence[str]) -> int:
    """Grid layouts compared statically and under load; ``optimise`` adds the optimal posts for
    ``budget=K`` teams (``lab.budget``), the simulator's refinement and the curve against team counts."""
    args = list(overrides)
    optimise = bool(args) and args[0] in ("optimise", "optimize")
    if optimise:
        args = args[1:]
    args = [f"lab.{a}" if a.startswith("budget=") else a for a in args]  # the issue's `budget=K`
    base = _config(args)
    policy = f"policy={base.lab.policy}"
    cfg = load_configs([*args, policy])[0]
    loads = {load: load_configs([*args, policy, f"incidents={load}"])[0] for load in base.lab.loads}
    from sim.lab.study import check_layout_specs, run_study
    from sim.lab.write import write_study

    check_layout_specs(cfg)
    settings = _settings({"grid": cfg}, ignore=("ladder",))
    stem = _stem("grid-optimise" if optimise else "grid", cfg.site.name, settings=settings)
    with _progress() as progress:
        site = _site(cfg, progress)
        study = run_study(cfg, site, loads, optimise_posts=optimise, progress=progress)
        progress("writing", 0, 1)
        out = _shown(write_study(study, stem, settings))
        progress("writing", 1, 1)
    from sim.lab.report import recommend

    for w in study.warnings:
        print(f"warning: {w}")
    _, lines = recommend(study)
    for line in lines:
        if line.startswith(("Recommended", "Provisional")):
            print(line.replace("**", ""))
    print(
        f"compared {len(study.layouts)} layouts on site '{site.name}'"
        f"{' (SYNTHETIC)' if site.synthetic else ''} under {len(loads)} load(s): "
        f"{cfg.run.replications} replications x {cfg.run.days:g} days each, "
        "the same incidents for every layout"
    )
    print(f"wrote {out}/grid.html")
    print(f"  and grid.md, layouts.png, compliance.png, workload.png, the tables (CSV) and layouts/ in {out}")
    return 0


DRILL_KEYS = ("scenario", "lang", "decisions", "frame_s")  # a drill's own keys; the rest are Hydra's


def _drill_args(overrides: Sequence[str], command: str) -> tuple[dict[str, str], list[str]]:
    """Split ``scenario=... lang=... decisions=...`` from the Hydra overrides."""
    from sim.errors import ConfigError

    mine, rest = {}, []
    for o in overrides:
        key, _, value = o.partition("=")
        if key in DRILL_KEYS:
            mine[key] = value
        else:
            rest.append(o)
    lang = mine.setdefault("lang", "en")
    if lang not in ("en", "zh"):
        raise ConfigError(f"echelon {command}: lang is en or zh, got {lang!r}")
    frame = mine.get("frame_s", "")
    try:
        ok = frame == "" or 1 <= float(frame) <= 3600
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(
            f"echelon {command}: frame_s is the drill seconds per animation frame, 1 to 3600, got {frame!r}"
        )
    return mine, rest


def _scenario(args: dict[str, str]):
    """The scenario named on the command line, with a decisions file's choices in place of its own."""
    from sim.drill.scenario import load_decisions, load_scenario, shipped_names
    from sim.errors import ScenarioError

    if not args.get("scenario"):
        raise ScenarioError(
            "echelon drill needs scenario=<name or file.yaml>; shipped scenarios: "
            + ", ".join(shipped_names())
        )
    scenario = load_scenario(args["scenario"])
    if args.get("decisions"):
        scenario = load_decisions(scenario, args["decisions"])
    return scenario


def _with_decisions_file(step, scenario, args: dict[str, str]):
    """Run ``step``; a site check that fails on a decision read from ``decisions=<file>`` names that file
    (where the trainer has to look), not the scenario its decisions replaced."""
    from sim.errors import ScenarioError

    try:
        return step()
    except ScenarioError as err:
        head = f"{scenario.path}: decisions["
        if not args.get("decisions") or not str(err).startswith(head):
            raise
        where = str(Path(args["decisions"]).expanduser())
        raise ScenarioError(
            f"{where}: {str(err).removeprefix(f'{scenario.path}: ')} (checked against {scenario.path})"
        ) from None


def cmd_drill(overrides: Sequence[str]) -> int:
    """Replay a scripted drill under one or more policies: log, narrative, timeline, animation, report."""
    args, hydra = _drill_args(overrides, "drill")
    scenario = _scenario(args)
    from sim.drill.run import drill_overrides

    full = drill_overrides(scenario, hydra)
    cfg = _config(full)
    policies = list(cfg.run.policies)
    cfgs = dict(zip(policies, load_configs(full, policies)[1], strict=True))
    from sim.drill.outputs import write_drill
    from sim.drill.run import run_drill

    settings = _settings(cfgs, vary=("policy",), ignore=("ladder", "run"))
    stem = _stem("drill", scenario.id, settings=settings, skip=("run.policies", "run.baseline"))
    with _progress() as progress:
        site = _site(cfg, progress)
        run = _with_decisions_file(lambda: run_drill(scenario, cfg, cfgs, site, progress), scenario, args)
        frame_s = float(args["frame_s"]) if args.get("frame_s") else None
        out = _shown(write_drill(run, Path(cfg.results_dir), stem, args["lang"], settings, progress, frame_s))
    n = len(run.drill.incidents)
    print(
        f"drill '{scenario.id}' on site '{site.name}'{' (SYNTHETIC)' if site.synthetic else ''}: "
        f"{', '.join(a.label for a in run.arms)}; {len(run.drill.labels)} scripted incident(s), "
        f"{n - len(run.drill.labels)} background, {len(scenario.injects)} injects"
    )
    print(f"wrote {out}/")
    return 0


REPLAY_KEYS = ("incident", "replication", "policies", "lang", "results_dir", "cache_dir")


def cmd_replay(folder: str, options: Sequence[str]) -> int:
    """One incident of a run or compare folder, replayed as a drill from its log: narrative, timeline,
    animation and after-action report, every policy of the folder side by side."""
    from sim.errors import ConfigError

    given = {}
    for o in options:
        key, sep, value = o.partition("=")
        if not sep or key not in REPLAY_KEYS:
            allowed = ", ".join(f"{k}=..." for k in REPLAY_KEYS)
            raise ConfigError(f"echelon replay: options are {allowed}, got {o!r}")
        given[key] = value
    lang = given.get("lang", "en")
    if lang not in ("en", "zh"):
        raise ConfigError(f"echelon replay: lang is en or zh, got {lang!r}")
    if "incident" not in given:
        raise ConfigError("echelon replay needs incident=<id> (the incident column of incidents.csv)")
    from sim.drill.replay import load_source
    from sim.result_folder import check_writable

    policies = [p for p in given.get("policies", "").strip("[]").split(",") if p]
    source = load_source(folder, given["incident"], given.get("replication", "0"), policies)
    cfg = next(iter(source.cfgs.values()))
    results_dir = Path(given.get("results_dir", "results")).expanduser().resolve()
    cache_dir = Path(given.get("cache_dir", cfg.cache_dir)).expanduser().resolve()
    cfg = dataclasses.replace(cfg, results_dir=str(results_dir), cache_dir=str(cache_dir))
    check_writable(results_dir, "results_dir")
    check_writable(cache_dir, "cache_dir")
    from sim.drill.outputs import write_replay

    with _progress() as progress:
        site = _site(cfg, progress)
        out = _shown(write_replay(source, cfg, site, results_dir, lang, progress))
    arms = ", ".join(a["label"] for a in source.meta["arms"])
    print(f"replayed incident {given['incident']} of {folder} under {arms}")
    print(f"wrote {out}/")
    return 0


def _keys(command: str, args: Sequence[str], allowed: Sequence[str]) -> dict[str, str]:
    """``key=value`` arguments of a command that takes no Hydra overrides; anything else is refused."""
    from sim.errors import ConfigError

    keys: dict[str, str] = {}
    for arg in args:
        key, eq, value = arg.partition("=")
        if not eq or key not in allowed:
            raise ConfigError(f"unknown argument {arg!r}; 'echelon {command}' takes {', '.join(allowed)}")
        keys[key] = value
    return keys


def cmd_scenario_export(args: Sequence[str]) -> int:
    """A scenario's MSEL (msel.csv), printable inject cards and a copy of its file, in a new result folder."""
    import shutil

    from sim.drill.msel import export_msel
    from sim.drill.scenario import find_scenario, load_scenario
    from sim.errors import ConfigError
    from sim.result_folder import check_writable, result_folder

    keys = _keys("scenario export", args, ("scenario", "lang", "results_dir", "cache_dir"))
    if not keys.get("scenario"):
        raise ConfigError("say which scenario: echelon scenario export scenario=<name or path.yaml>")
    lang = keys.get("lang", "en")
    if lang not in ("en", "zh"):
        raise ConfigError(f"lang: the inject cards' language, en or zh, got {lang!r}")
    scenario = load_scenario(keys["scenario"])
    paths = [f"{k}={keys[k]}" for k in ("results_dir", "cache_dir") if k in keys]
    results_dir = Path(load_configs(paths)[0].results_dir)
    check_writable(results_dir, "results_dir")
    with result_folder(results_dir, f"msel-{scenario.id}") as (tmp, final):
        export_msel(scenario, tmp, lang)
        shutil.copyfile(find_scenario(keys["scenario"]), tmp / "scenario.yaml")
    out = _shown(final)
    print(
        f"scenario '{scenario.id}': {len(scenario.injects)} inject(s), {len(scenario.objectives)} "
        f"objective(s), {len(scenario.decisions)} decision(s)"
    )
    print(f"wrote {out}/msel.csv")
    print(f"  and inject_cards.html (in {lang}), scenario.yaml in {out}")
    return 0


def cmd_scenario_import(args: Sequence[str]) -> int:
    """A trainer's edited MSEL back into a scenario file; an existing file is replaced only on force=true."""
    import os
    import secrets

    from sim.drill.msel import import_msel
    from sim.drill.scenario import dump_scenario
    from sim.errors import ConfigError

    usage = "echelon scenario import <msel.csv> [out=<path.yaml>] [force=true]"
    files = [a for a in args if not re.match(r"[A-Za-z_]+=", a)]
    if len(files) != 1:
        raise ConfigError(f"give one MSEL CSV file, got {len(files)}: {usage}")
    csv_path = Path(files[0]).expanduser()
    keys = _keys(
        "scenario import", [a for a in args if a != files[0]], ("out", "force", "results_dir", "cache_dir")
    )
    force = keys.get("force", "false").lower()
    if force not in ("true", "false"):
        raise ConfigError(f"force: true or false, got {keys['force']!r}")
    out = Path(keys["out"]).expanduser() if keys.get("out") else csv_path.with_suffix(".yaml")
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise ConfigError(f"out: a .yaml file for the scenario, got '{out}'")
    if not out.parent.is_dir():
        raise ConfigError(f"out: folder '{out.parent}' does not exist")
    if out.exists() and force != "true":
        raise ConfigError(f"'{out}' exists; give another out=<path.yaml>, or force=true to replace it")
    scenario = import_msel(csv_path)
    tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.write_text(dump_scenario(scenario), encoding="utf-8")
        if force == "true":
            os.replace(tmp, out)
        else:
            os.link(tmp, out)  # never replaces a file made meanwhile: FileExistsError instead
    except FileExistsError:
        raise ConfigError(
            f"'{out}' exists; give another out=<path.yaml>, or force=true to replace it"
        ) from None
    except OSError as err:
        raise ConfigError(f"cannot write '{out}' ({err.strerror or err})") from None
    finally:
        tmp.unlink(missing_ok=True)
    print(
        f"read {csv_path}: scenario '{scenario.id}', {len(scenario.injects)} inject(s), "
        f"{len(scenario.objectives)} objective(s), {len(scenario.decisions)} decision(s)"
    )
    print(f"wrote {out}")
    return 0


def cmd_sweep(args: Sequence[str]) -> int:
    """Every combination of Hydra multirun overrides, each run in its own folder; a rerun skips finished
    runs."""
    from sim.config import load_config
    from sim.sweep import sweep

    def load(overrides: Sequence[str]):
        with _signals_deferred():
            cfg = load_config(overrides)
        return cfg

    plan, counts = sweep(args, Path.cwd(), load)
    shown = _shown(plan.folder)
    before = counts["finished_before"]
    print(
        f"sweep of {counts['runs']} runs ({', '.join(plan.swept_keys) or 'nothing swept'}): "
        f"{counts['done']} finished" + (f", {before} of them before this command" if before else "")
    )
    for name, why in counts["failed"].items():
        print(f"  failed: {name}: {why}", file=sys.stderr)
    print(f"wrote {shown}/runs/ (one folder per run); gather them with: echelon collect {shown}")
    return 1 if counts["failed"] or counts["done"] < counts["runs"] else 0


def cmd_collect(args: Sequence[str]) -> int:
    """A sweep folder's finished runs into tidy tables and a comparison report (``sim.collect``)."""
    from sim.collect import collect, parse_options

    if not args or "=" in args[0]:
        raise ConfigError("collect: give the sweep folder first: echelon collect results/sweep-daishan-...")
    options = parse_options(args[1:])
    out, n = collect(Path(args[0]), options)
    print(
        f"collected {n['runs']} of {n['planned']} runs"
        + (f" ({n['failed']} failed)" if n["failed"] else "")
        + f"; {n['findings']} paired difference(s) are findings"
    )
    print(f"wrote {_shown(out)}/report.html")
    print("  and report.md, runs.parquet (a row per run and metric), replications.parquet,")
    print("  configurations.csv, paired_differences.csv")


def cmd_bench(args: Sequence[str]) -> int:
    """How fast and how big: routing, model throughput, cost as the network and the incidents grow, peak
    memory; writes results/bench/ (bench.json, bench.png, bench.md)."""
    from sim.errors import ConfigError

    keys = _keys("bench", args, ("quick", "readme", "nodes", "incidents", "results_dir", "cache_dir"))
    quick = keys.get("quick", "false").lower()
    if quick not in ("true", "false"):
        raise ConfigError(f"quick: true or false, got {keys['quick']!r}")
    from sim.bench.run import Plan, run_bench

    plan = Plan.quick_plan() if quick == "true" else Plan()
    for key in ("nodes", "incidents"):
        if key in keys:
            try:
                sizes = tuple(int(v.replace("_", "")) for v in keys[key].strip("[]").split(","))
            except ValueError:
                raise ConfigError(f"{key}: whole numbers separated by commas, got {keys[key]!r}") from None
            plan = dataclasses.replace(plan, **{key: sizes})
    cfg = _config([f"{k}={keys[k]}" for k in ("results_dir", "cache_dir") if k in keys])
    readme = Path(keys["readme"]).expanduser() if keys.get("readme") else None
    out = Path(cfg.results_dir) / "bench"
    with _progress() as progress:
        record = run_bench(plan, out, Path(cfg.cache_dir), readme, progress)
    from sim.bench.report import summary_lines

    for line in summary_lines(record):
        print(line)
    out = _shown(out)
    print(f"wrote {out}/bench.json")
    rewrote = f"; rewrote the bench blocks of {readme}" if readme else ""
    print(f"  and bench.png, bench.md in {out}{rewrote}")
    return 0


COMMANDS = {
    "site": cmd_site,
    "run": cmd_run,
    "compare": cmd_compare,
    "ladder": cmd_ladder,
    "sensitivity": cmd_sensitivity,
    "drill": cmd_drill,
    "grid": cmd_grid,
    "sweep": cmd_sweep,
    "collect": cmd_collect,
    "bench": cmd_bench,
}
SCENARIO_COMMANDS = {"export": cmd_scenario_export, "import": cmd_scenario_import}


SUBCOMMANDS = {  # name: (one-line help, description)
    "site": (
        "build, validate and draw a site (road network + facilities + grids)",
        "Build, validate and draw a site. E.g. site=helsinki, site=file site.path=area.osm.pbf, "
        "grid.cell_m=500.",
    ),
    "run": (
        "simulate one configuration (policy=..., site=..., seed=...)",
        "Simulate one configuration: every replication, event log, metrics, figures, summary. "
        "E.g. policy=police_only run.days=7.",
    ),
    "compare": (
        "compare the policies in run.policies on the same incidents",
        "Compare dispatch policies with common random numbers, replications, 95% confidence "
        "intervals and paired differences against run.baseline.",
    ),
    "ladder": (
        "what each part of the platform (policy) adds to run.baseline, step by step and Shapley",
        "Add the platform's parts (ladder.steps: one_key, guards, echelons, drones, county) to run.baseline "
        "one at a time, on the same incidents: each step's contribution with a paired 95% CI, and each "
        "part's order-free Shapley value (ladder.shapley). E.g. ladder.steps=[guards,one_key,echelons,"
        "drones,county] run.days=7.",
    ),
    "sensitivity": (
        "vary the main delays and rates one at a time: a tornado chart of what moves the verdict",
        "Set each parameter in sensitivity.parameters (a config key, low and high values from "
        "docs/parameters.md) to its low and its high value, one at a time; in each arm run both "
        "sensitivity.policies on the same incidents and take the paired difference of sensitivity.metric "
        "(target minus baseline) with its 95% CI: a table sorted by swing, a tornado chart and a report of "
        "which parameters can flip the verdict. E.g. sensitivity.metric=escalation_rate_dispute run.days=7.",
    ),
    "grid": (
        "compare grid layouts (coverage, simulated load); `grid optimise budget=K` places K teams",
        "Compare emergency-grid layouts (lab.layouts: squares, hexagons, clusters, network_voronoi, "
        "jurisdictions; lab.files=[planner.gpkg]) on the road network (1-3-5 minute coverage) and under "
        "each load in lab.loads on the same incidents, with replications and paired differences. "
        "`echelon grid optimise budget=K` adds K optimal posts (maximal covering, exact), refines them "
        "with the simulator and draws compliance against the number of teams.",
    ),
    "sweep": (
        "run every combination of Hydra multirun overrides, each in its own folder; resumable",
        "Expand Hydra's multirun grammar (policy=a,b fleet.echelons_per_grid=1,2 seed='range(10)'; "
        "sweep=<conf/sweep name or file.yaml>) into runs, each simulated with all its replications into "
        "<sweep folder>/runs/<swept values>/. The same command again skips finished runs. Launchers: "
        "hydra/launcher=joblib (default, all cores; hydra.launcher.n_jobs=N), basic, ray, submitit_local, "
        "submitit_slurm. Then: echelon collect <sweep folder>.",
    ),
    "collect": (
        "gather a sweep folder into tidy Parquet tables and a comparison report",
        "Read the finished runs of a sweep folder (echelon collect results/sweep-...) into collected/: "
        "runs.parquet (a row per run and metric), replications.parquet, configurations.csv and a report "
        "with 95% intervals, paired differences and the replications a wanted precision needs. Options: "
        "baseline=<key>=<value>, precision=0.1 (half-width as a share of the estimate), half_width=<x> "
        "metric=<name>.",
    ),
    "drill": (
        "replay a scripted drill (scenario=...): narrative, timeline, animation, after-action report",
        "Replay a tabletop drill from scenarios/ (scenario=<name or file.yaml>) under the scenario's "
        "policies or run.policies=[...] side by side, on the same incidents with the same luck; "
        "decisions=<file.yaml> replays the trainees' choices beside the policy's; frame_s=<seconds> sets "
        "the animation's step; lang=zh writes it in "
        "Chinese.",
    ),
    "bench": (
        "measure routing, throughput and how costs grow with the network and incidents (quick=true)",
        "Benchmarks into results/bench/ (bench.json, bench.png, bench.md): routing against per-query "
        "networkx, incidents per CPU-second, set-up time and peak memory on synthetic networks of 1,000 to "
        "100,000 nodes, CPU per incident from 1,000 to 100,000 incidents, the peak memory of a default "
        "compare. quick=true: up to 10,000 nodes and incidents (a minute or two); readme=README.md rewrites "
        "README's bench blocks (a full run only); nodes=1000,3000 and incidents=... set the sizes.",
    ),
}


SCENARIO_ACTIONS = {  # name: (help, what it takes)
    "export": (
        "write a scenario's MSEL (msel.csv), printable inject cards and a copy of it to a new folder",
        "scenario=<name or path.yaml> [lang=zh] [results_dir=...]",
    ),
    "import": (
        "read an (edited) MSEL CSV back into a scenario YAML file",
        "<msel.csv> [out=<path.yaml>, default: beside the CSV] [force=true: replace an existing file]",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="echelon", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"echelon {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, description) in SUBCOMMANDS.items():
        p = sub.add_parser(
            name, help=help_text, description=description + " Overrides are Hydra's key=value."
        )
        p.add_argument("overrides", nargs="*", help="Hydra overrides (key=value)")
    p = sub.add_parser(
        "replay",
        help="replay one incident of a run or compare folder as a drill (incident=...)",
        description="Replay one incident of a folder written by echelon run or compare, from its log alone: "
        "narrative, timeline, animation and after-action report, every policy side by side. Options: "
        "incident=<id> (required), replication=<k> (0), policies=a,b, lang=en|zh, results_dir=...",
    )
    p.add_argument("folder", help="a results folder of echelon run or compare")
    p.add_argument("overrides", nargs="*", help="key=value options")
    p = sub.add_parser(
        "scenario",
        help="a drill scenario as its MSEL (CSV), printable inject cards, and back",
        description="Drill scenarios and their Master Scenario Events List (sim/drill/msel.py).",
    )
    actions = p.add_subparsers(dest="action", required=True)
    for name, (help_text, usage) in SCENARIO_ACTIONS.items():
        a = actions.add_parser(name, help=help_text, description=f"{help_text}: {usage}")
        a.add_argument("args", nargs="*", help=usage)
    return parser


_STOPS: list[int] = []  # the stop signals this command received


def _stop_on(signum: int, _frame: object) -> None:
    """SIGTERM or SIGHUP (``timeout``, a closed terminal, a batch system) unwinds like Ctrl-C, so the
    partial result folder is removed; further signals are ignored while that cleanup runs."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    _STOPS.append(signum)
    raise Stopped(signum)


def _interrupted(signum: int, _frame: object) -> None:
    """Ctrl-C, as Python's own handler, remembered: a compiled module interrupted while it starts up
    (matplotlib's, when a command draws its first figure) reports the KeyboardInterrupt as an ImportError
    of its own, which is then known to be the stop."""
    _STOPS.append(signum)
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    warnings.filterwarnings("ignore", category=UserWarning, module="pyrosm")
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    _STOPS.clear()
    try:
        for sig in previous:
            if previous[sig] is not signal.SIG_IGN:  # nohup: the user asked to ignore it
                signal.signal(sig, _interrupted if sig == signal.SIGINT else _stop_on)
        args = build_parser().parse_args(argv)
        if args.command == "replay":
            return cmd_replay(args.folder, args.overrides)
        if args.command == "scenario":
            return SCENARIO_COMMANDS[args.action](args.args)
        return COMMANDS[args.command](args.overrides)
    except EchelonError as err:
        print(f"echelon: error: {err}", file=sys.stderr)
        for problem in getattr(err, "problems", []):
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        return _stopped(getattr(err, "signum", signal.SIGINT), getattr(err, "kept", None))
    except Exception as err:
        if not (_STOPS and _from_a_stop(err)):
            raise  # a fault of the program: its traceback is the report
        return _stopped(_STOPS[0], None)  # the stop, reported by the code it interrupted as its own error
    finally:
        parallel.forget_warm_up()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _from_a_stop(err: BaseException) -> bool:
    """``err`` is how interrupted code reported the stop: a KeyboardInterrupt in its chain, or an ImportError
    (a compiled module interrupted while it starts up says only "initialization failed")."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return isinstance(err, ImportError)


def _stopped(signum: int, kept: str | None) -> int:
    """The one line of a stopped command (a sweep says which finished runs it keeps); its exit status."""
    parallel.stop_workers()
    kept = kept or "nothing was written"
    print(f"echelon: stopped by {signal.Signals(signum).name}; {kept}", file=sys.stderr)
    return 128 + signum


if __name__ == "__main__":
    sys.exit(main())
