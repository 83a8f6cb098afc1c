"""The benchmark's words: bench.md (every section, short) and README's ``bench-scale`` block, every figure
in them from the record just measured."""

from __future__ import annotations

from sim.bench import model, routing
from sim.bench.readme_block import paragraph, sig

FIGURE = "docs/images/bench_scale.png"


def _load_at_end(machine: dict) -> str:
    end = machine.get("load_average_1min_at_end")
    return "?" if end is None else f"{end:.1f}"


def _verdict(ok: bool | None) -> str:
    return "not judged" if ok is None else ("PASS" if ok else "FAIL")


def network_table(section: dict) -> str:
    lines = [
        "| nodes (asked) | nodes | edges | enterprises | grids | set-up s | set-up peak RSS MiB | World s "
        "| peak RSS after a run MiB | incidents run | CPU ms per incident |",
        "|" + "---|" * 11,
    ]
    for r in section["rows"]:
        lines.append(
            f"| {r['target_nodes']:,} | {r['nodes']:,} | {r['edges']:,} | {r['enterprises']:,} "
            f"| {r['grids']:,} "
            f"| {sig(r['setup_s'])} | {r['setup_peak_rss_mb']:,.0f} | {sig(r['world_s'])} "
            f"| {r['peak_rss_mb']:,.0f} | {r['incidents']:,} | {sig(r['cpu_ms_per_incident'])} |"
        )
    return "\n".join(lines)


def incident_table(section: dict) -> str:
    lines = [
        "| incidents (asked) | incidents | days | events logged | CPU s | CPU ms per incident "
        "| peak RSS MiB |",
        "|" + "---|" * 7,
    ]
    for r in section["rows"]:
        lines.append(
            f"| {r['target_incidents']:,} | {r['incidents']:,} | {r['days']:,.0f} | {r['events']:,} "
            f"| {sig(r['run_cpu_s'])} | {sig(r['cpu_ms_per_incident'])} | {r['peak_rss_mb']:,.0f} |"
        )
    return "\n".join(lines)


def _targets_text(record: dict) -> str:
    s = record["sections"]
    net, inc = s["network_growth"]["targets"], s["incident_growth"]["targets"]
    if net.get("setup_s_ok") is None:
        setup = net["note"] + "."
    else:
        setup = (
            f"Set-up of the {net['measured_nodes']:,}-node site: {sig(net['setup_s'])} s against a target of "
            f"{net['setup_s_target']:g} s ({_verdict(net['setup_s_ok'])}), peak RSS "
            f"{net['setup_peak_rss_mb']:,.0f} MiB against {net['setup_rss_target_mb']:,.0f} MiB "
            f"({_verdict(net['setup_rss_ok'])})."
        )
    flat = (
        f"Per-incident cost at {inc['last_incidents']:,} incidents is "
        f"{inc['per_incident_ratio_last_over_first']:.2f}x that at {inc['first_incidents']:,} "
        f"(flat means at most {inc['ratio_target_max']:g}x: "
        f"{_verdict(inc['flat_ok'])})."
    )
    compare = s.get("compare_memory")
    mem = (
        f" `{compare['parameters']['command']}` peaks at {compare['peak_rss_mb']:,.0f} MiB resident "
        f"({sig(compare['wall_s'])} s wall)."
        if compare
        else ""
    )
    return f"{setup} {flat}{mem}{_commands_text(record)}"


def _commands_text(record: dict) -> str:
    """The two whole-command targets: `make run` against the 35 s before, a 10-run sweep on 2 workers."""
    s, text = record["sections"], ""
    if "make_run" in s:
        run = s["make_run"]
        text += (
            f" `make run` (its two comparisons, warm cache, each the median of "
            f"{len(run.get('passes_wall_s', [[]]))} timed pass(es)) takes {sig(run['total_s'])} s, "
            f"{run['faster_than_before']:.2f}x faster than the {run['parameters']['before_s']:g} s before"
        )
        base = run.get("baseline", {})
        if "speedup" in base:
            ratios = ", ".join(f"{x:.2f}x" for x in base["passes_speedup"])
            text += (
                f"; {base['commit']} (the code when that target was set), timed pass by pass in the same "
                f"minutes, took {sig(base['total_s'])} s: {base['speedup']:.2f}x, the median of each pass's "
                f"own ratio ({ratios}; target {run['targets']['ratio_target_min']:g}x: "
                f"{_verdict(run['targets']['ratio_ok'])})."
            )
        else:
            text += (
                f" (target {run['targets']['ratio_target_min']:g}x: {_verdict(run['targets']['ratio_ok'])}"
                + (
                    f"; {base['commit']} not timed beside it: {base['not_timed']}"
                    if base.get("not_timed")
                    else ""
                )
                + ")."
            )
    if "workers" in s:
        w = s["workers"]
        rows = {r["workers"]: r for r in w["rows"]}
        if 2 in rows:
            passes = len(rows[2].get("passes_wall_s", [0]))
            text += (
                f" A sweep of {rows[1]['runs']} runs takes {sig(rows[1]['wall_s'])} s on one worker and "
                f"{sig(rows[2]['wall_s'])} s on two (medians of {passes} pass(es)): "
                f"{rows[2]['speedup']:.2f}x, "
                f"the median of each pass's own ratio (target {w['targets']['speedup_target_min']:g}x: "
                f"{_verdict(w['targets']['speedup_ok'])}), "
                + ("the same results." if w["identical_results"] else "DIFFERENT RESULTS.")
            )
            text += _machine_text(w, rows[2])
    return text


def _machine_text(section: dict, two: dict) -> str:
    """What the machine left to two workers: the runs' work as long as it took side by side, shared evenly."""
    ceiling = section.get("ceiling", {})
    if not ceiling.get("speedup"):
        return ""
    stolen = [x for x in two.get("passes_stolen_share", []) if x is not None]
    slower = ", ".join(f"{x:.2f}x" for x in two["passes_runs_slower"])
    allowed = ", ".join(f"{x:.2f}x" for x in ceiling["passes_speedup"])
    return (
        f" Side by side the runs took {two['runs_slower']:.2f}x as long as in the one-worker sweep "
        f"(their own work summed, the median of the passes: {slower}), so, shared evenly and started at no "
        f"cost, they allowed at most {ceiling['speedup']:.2f}x ({allowed}): the machine's part; the rest of "
        "the gap is starting the workers and the command, and the last replications' uneven split"
        + (f". The hypervisor stole at most {max(stolen):.1%} of the CPU time" if stolen else "")
        + "."
    )


def _loop_text(m: dict) -> str:
    """The machine's speed at the start and end (a fixed Python loop), when the record has it."""
    if "python_loop_s_at_start" not in m:
        return ""
    end = m.get("python_loop_s_at_end")
    return (
        f"a fixed Python loop took {m['python_loop_s_at_start']:.2f} s at the start"
        + (f" and {end:.2f} s at the end" if end is not None else "")
        + " (the VM's speed wanders; every figure shares it); "
    )


def markdown(record: dict) -> str:
    """bench.md: what was measured, on what, the tables, and the targets' verdicts."""
    m, s = record["machine"], record["sections"]
    head = (
        f"# echelon bench{' (quick)' if record['quick'] else ''}\n\n"
        f"{m['cpu_count']} CPUs, Python {m['python']}, {m['platform']}, {m['date']}, load average "
        f"{m['load_average_1min_at_start']:.1f} at the start and {_load_at_end(m)} at the end; "
        + _loop_text(m)
        + f"{sig(record['wall_s'])} s in all ("
        + ", ".join(f"{name.replace('_', ' ')} {sig(t)} s" for name, t in record["section_wall_s"].items())
        + "). Every site here is SYNTHETIC. Figure: bench.png; every number: bench.json.\n"
    )
    parts = [
        head,
        "## Targets\n\n" + paragraph(_targets_text(record)),
        "## Routing against per-query networkx\n\n" + routing.markdown(s["routing"]["rows"]),
        "## Model throughput (default site)\n\n" + model.table(s["model"]["rows"]),
        "## Cost as the network grows (synthetic grids, a fresh process each)\n\n"
        + network_table(s["network_growth"]),
        "## Cost as incidents grow (default site, echelon_135, one replication, a fresh process each)\n\n"
        + incident_table(s["incident_growth"]),
    ]
    return "\n\n".join(parts) + "\n"


def scale_block(record: dict) -> str:
    """README's ``bench-scale`` block: both scaling tables, the verdicts and the figure."""
    m = record["machine"]
    net = record["sections"]["network_growth"]
    intro = paragraph(
        f"Measured on a {m['cpu_count']}-core machine ({m['date']}; `echelon bench`; 1-minute load average "
        f"{m['load_average_1min_at_start']:.1f} at the start, {_load_at_end(m)} at the end, the benchmark "
        "itself adding about 1), each point in a fresh process. Networks: synthetic street grids loaded "
        "through `site=file` like a user's OSM file, with zones, enterprises, stations, grids and posts that "
        "grow with the area; a run of about "
        f"{net['parameters']['short_run_incidents']:,} incidents on each (echelon_135)."
    )
    tail = paragraph(
        _targets_text(record)
        + " `make bench` rewrites this block and the figure's data from `results/bench/bench.json`; the "
        "figure below is a copy of `results/bench/bench.png`."
    )
    return "\n\n".join(
        [
            intro,
            network_table(net),
            incident_table(record["sections"]["incident_growth"]),
            tail,
            f"![echelon bench: routing, throughput, set-up time, memory and per-incident cost]({FIGURE})",
        ]
    )


def summary_lines(record: dict) -> list[str]:
    """What ``echelon bench`` prints: one line per section."""
    s = record["sections"]
    ratios = ", ".join(f"{r['speedup_table']:,.0f}x on {r['site']}" for r in s["routing"]["rows"])
    rates = [r["incidents_per_cpu_s"] for r in s["model"]["rows"]]
    big = max(s["network_growth"]["rows"], key=lambda r: r["nodes"])
    net = s["network_growth"]["targets"]
    inc = s["incident_growth"]["targets"]
    lines = [
        f"routing: Echelon's table against per-query networkx: {ratios}",
        f"model: {min(rates):,.0f} to {max(rates):,.0f} incidents per CPU-second on the default site "
        f"(target {model.TARGET:,.0f})",
        f"network: {big['nodes']:,} nodes set up in {sig(big['setup_s'])} s, peak "
        f"{big['setup_peak_rss_mb']:,.0f} MiB (targets at 100,000 nodes: time "
        f"{_verdict(net.get('setup_s_ok'))}, memory "
        f"{_verdict(net.get('setup_rss_ok'))})",
        f"incidents: CPU per incident at {inc['last_incidents']:,} is "
        f"{inc['per_incident_ratio_last_over_first']:.2f}x that at {inc['first_incidents']:,} "
        f"(flat: {_verdict(inc['flat_ok'])})",
    ]
    if "compare_memory" in s:
        c = s["compare_memory"]
        lines.append(f"compare: {c['parameters']['command']} peaks at {c['peak_rss_mb']:,.0f} MiB")
    if "make_run" in s:
        lines.append(make_run_line(s["make_run"]))
    if "workers" in s:
        w = {r["workers"]: r for r in s["workers"]["rows"]}
        lines.append(
            f"workers: a {w[1]['runs']}-run sweep {sig(w[1]['wall_s'])} s on 1 worker, "
            + ", ".join(f"{sig(r['wall_s'])} s on {n} ({r['speedup']:.2f}x)" for n, r in w.items() if n > 1)
            + f" ({_verdict(s['workers']['targets']['speedup_ok'])})"
        )
    return lines


def make_run_line(r: dict) -> str:
    """``make run``'s line: its time, against the baseline code timed beside it and the fixed 35 s."""
    base = r.get("baseline", {})
    against = (
        f"{base['speedup']:.2f}x faster than {base['commit']} in the same minutes "
        f"({sig(base['total_s'])} s), "
        if "speedup" in base
        else ""
    )
    return (
        f"make run: {sig(r['total_s'])} s, {against}{r['faster_than_before']:.2f}x faster than "
        f"{r['parameters']['before_s']:g} s ({_verdict(r['targets']['ratio_ok'])})"
    )
