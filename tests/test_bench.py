"""`echelon bench` writes every measurement, a figure and a text; bad options are one line. No timed
assertion: speed is shown by the benchmark, never tested."""

from __future__ import annotations

import dataclasses
import json

import pytest

from sim.bench.report import scale_block, summary_lines
from sim.bench.run import Plan, run_bench
from sim.bench.synthetic import lattice_side, network_osm_xml
from sim.cli import main

SECTIONS = ("routing", "model", "network_growth", "incident_growth", "compare_memory", "make_run", "workers")


def test_the_synthetic_network_is_deterministic_and_grows_with_the_size():
    small = network_osm_xml(1_000, seed=3)
    assert small == network_osm_xml(1_000, seed=3)
    assert small != network_osm_xml(1_000, seed=4)
    assert 'amenity" v="police"' in small and 'industrial" v="chemical"' in small
    assert lattice_side(100_000) ** 2 > 90 * lattice_side(1_000) ** 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["quick=maybe"], "quick: true or false"),
        (["nodes=1000,lots"], "nodes: whole numbers"),
        (["nodes=50"], "bench nodes: increasing whole numbers of at least 100"),
        (["incidents=3000,1000"], "bench incidents: increasing"),
        (["quick=true", "readme=README.md"], "from the full benchmark only"),
        (["speed=11"], "'echelon bench' takes quick, readme"),
    ],
)
def test_bad_options_are_one_line(args, message, tmp_path, capsys):
    assert main(["bench", *args, f"results_dir={tmp_path}"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "bench").exists()


@pytest.mark.slow
def test_a_tiny_bench_writes_every_section_a_figure_and_a_text(tmp_path, cache_dir):
    plan = dataclasses.replace(
        Plan.quick_plan(),
        nodes=(1_000, 3_000),
        incidents=(200, 600),
        short_run_incidents=50,
        routing_queries=20,
        routing_baseline_queries=2,
        compare_overrides=("run.replications=2", "run.days=2", "run.policies=[police_only,echelon_135]"),
    )
    run_bench(plan, tmp_path / "bench", cache_dir)
    record = json.loads((tmp_path / "bench" / "bench.json").read_text())
    assert (tmp_path / "bench" / "bench.png").stat().st_size > 10_000
    assert list(record["sections"]) == list(record["section_wall_s"]) == list(SECTIONS)
    assert {"cpu_count", "python", "date"} <= set(record["machine"])
    assert record["quick"] is True
    for name in SECTIONS:
        assert "parameters" in record["sections"][name], name
    net = record["sections"]["network_growth"]
    assert [r["target_nodes"] for r in net["rows"]] == [1_000, 3_000]
    for row in net["rows"]:
        assert 0.8 * row["target_nodes"] < row["nodes"] < 1.2 * row["target_nodes"]
        assert row["enterprises"] > 0 and row["stations"] > 0 and row["incidents"] > 0
        assert row["setup_s"] > 0 and row["peak_rss_mb"] >= row["setup_peak_rss_mb"] > 0
    assert net["targets"]["setup_s_ok"] is None  # no 100,000-node network: not judged
    inc = record["sections"]["incident_growth"]
    assert [r["target_incidents"] for r in inc["rows"]] == [200, 600]
    assert inc["targets"]["per_incident_ratio_last_over_first"] > 0
    assert record["sections"]["compare_memory"]["peak_rss_mb"] > 0
    run = record["sections"]["make_run"]
    assert len(run["wall_s"]) == 2 and run["targets"]["ratio_ok"] is None  # short runs: not judged
    assert run["baseline"]["not_timed"] and "speedup" not in run["baseline"]  # ... nor timed beside a2b00e9
    workers = record["sections"]["workers"]
    assert [r["workers"] for r in workers["rows"]] == [1, 2] and workers["rows"][0]["runs"] == 4
    assert workers["identical_results"] is True and workers["targets"]["speedup_ok"] is None
    assert len(workers["rows"][1]["passes_speedup"]) == 1  # short runs: one pass
    two = workers["rows"][1]
    assert len(two["passes_runs_wall_s"]) == 1 and 0.5 < two["runs_slower"] < 3  # side by side vs alone
    assert workers["rows"][0]["runs_slower"] == 1.0
    assert workers["ceiling"]["speedup"] >= 1.0 and len(workers["ceiling"]["passes_speedup"]) == 1
    assert "Side by side the runs took" in " ".join((tmp_path / "bench" / "bench.md").read_text().split())
    text = (tmp_path / "bench" / "bench.md").read_text()
    assert "## Cost as the network grows" in text and "not judged" in text
    block = scale_block(record)
    assert "make bench` rewrites" in " ".join(block.split()) and "bench_scale.png" in block
    assert len(summary_lines(record)) == len(SECTIONS)


def test_the_ceiling_is_the_one_worker_time_over_the_runs_work_side_by_side_shared_evenly():
    from sim.bench.commands import _ceiling, run_work_s

    # one worker took 20 s; side by side the runs took 6, 5 and 5 s of work: at best 8 s on two workers
    ceiling = _ceiling([20.0, 24.0], [[6.0, 5.0, 5.0], [8.0, 4.0, 4.0]])
    assert ceiling["passes_best_finish_s"] == [8.0, 8.0]
    assert ceiling["passes_speedup"] == [2.5, 3.0] and ceiling["speedup"] == 2.75
    # a run's work: its worker's wall time less its wait for helpers, plus the helpers' time
    assert run_work_s({"wall_s": 10.0, "waited_s": 1.5, "helpers_wall_s": 3.0}) == 11.5
    assert run_work_s({"wall_s": 10.0}) == 10.0  # a run.json written before runs were shared


def test_the_stolen_cpu_time_is_read_from_proc_stat(tmp_path, monkeypatch):
    from sim.bench import machine

    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 50 800 10 0 5 35 0 0\ncpu0 1 2 3\n")
    monkeypatch.setattr(machine, "PROC_STAT", stat)
    before = machine.cpu_jiffies()
    assert before == (35, 1000)  # steal is the eighth field; all is the sum of the first eight
    stat.write_text("cpu  200 0 50 800 10 0 5 135 0 0\n")
    assert machine.stolen_share(before, machine.cpu_jiffies()) == pytest.approx(0.5)
    assert machine.stolen_share(None, before) is None
    monkeypatch.setattr(machine, "PROC_STAT", tmp_path / "absent")
    assert machine.cpu_jiffies() is None  # not Linux: unknown, not zero


def test_the_baseline_is_checked_out_beside_and_removed_or_refused_in_one_reason(tmp_path):
    import subprocess

    from sim.bench.baseline import entry_module, worktree

    repo = tmp_path / "repo"
    (repo / "sim").mkdir(parents=True)
    (repo / "sim" / "cli.py").write_text("old = True\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "old"], cwd=repo, check=True)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True
    ).stdout.strip()
    (repo / "sim" / "entry.py").write_text("new = True\n")
    with worktree(repo, commit) as (tree, why):
        assert why == "" and (tree / "sim" / "cli.py").read_text() == "old = True\n"
        assert entry_module(tree) == "sim.cli" and entry_module(repo) == "sim.entry"  # older trees: sim.cli
    assert not tree.exists()
    listed = subprocess.run(["git", "worktree", "list"], cwd=repo, capture_output=True, text=True).stdout
    assert len(listed.splitlines()) == 1  # only the repository itself: nothing left behind
    with worktree(repo, "0" * 40) as (tree, why):
        assert tree is None and why.startswith(f"no checkout of {'0' * 40}")
    with worktree(tmp_path / "repo" / "sim", "HEAD~5") as (tree, why):
        assert tree is None and why
