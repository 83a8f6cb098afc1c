"""Bad configuration values, overrides and paths: each refused in one line before any work.

The harness (tests/bad_input.py) checks exit status 2, the one error line, no traceback and an empty
results_dir. Most rows fail while the config is validated; the last few only once the site is known
(no incident can occur, too many incidents for memory), and still leave nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from bad_input import Bad, refuse

from sim.config import load_config, plain_overrides
from sim.errors import ConfigError


def _file(name: str):
    def make(tmp: Path) -> None:
        (tmp / name).write_text("not a folder\n")

    return make


def _folder(name: str):
    def make(tmp: Path) -> None:
        (tmp / name).mkdir(parents=True)

    return make


FINITE = "expected a finite number"
CASES = [
    # run: horizon, replications, policies
    Bad("days inf", ("run.days=inf",), FINITE),
    Bad("days nan", ("run.days=nan",), FINITE),
    Bad("days 1e9", ("run.days=1e9",), "'run.days'"),
    Bad("days zero", ("run.days=0",), "'run.days'"),
    Bad("days text", ("run.days=month",), "'run.days'"),
    Bad("replications 1e9", ("run.replications=1000000000",), "'run.replications'"),
    Bad("replications zero", ("run.replications=0",), "'run.replications'"),
    Bad("replications fraction", ("run.replications=2.5",), "expected a whole number"),
    Bad(
        "policy twice",
        ("run.policies=[police_only,police_only]",),
        "police_only is listed twice",
        command="compare",
    ),
    Bad("no policies", ("run.policies=[]",), "at least one policy", command="compare"),
    Bad("unknown policy in list", ("run.policies=[police_only,nope]",), "'run.policies'", command="compare"),
    Bad("unknown baseline", ("run.baseline=nope",), "'run.baseline'", command="compare"),
    Bad(
        "baseline not compared",
        ("run.policies=[echelon_135,echelon_open]",),
        "not among run.policies",
        command="compare",
    ),
    Bad("unknown policy", ("policy=nope",), "unknown policy", command="run"),
    Bad("no tiers", ("policy.tiers=[]",), "at least one tier", command="run"),
    Bad("ladder step twice", ("ladder.steps=[guards,guards]",), "each part once", command="ladder"),
    Bad("tick zero", ("run.tick_s=0",), "'run.tick_s'"),
    # fleet and drones
    Bad("echelons 1e8", ("fleet.echelons_per_grid=100000000",), "from 0 to 50"),
    Bad("echelons negative", ("fleet.echelons_per_grid=-1",), "'fleet.echelons_per_grid'"),
    Bad("police cars float", ("fleet.police_cars_per_station=1e3",), "expected a whole number"),
    Bad("engines too many", ("fleet.fire_engines_per_station=1000",), "'fleet.fire_engines_per_station'"),
    Bad("recharge negative", ("fleet.drones.recharge_s=-1",), "'fleet.drones.recharge_s'"),
    Bad("launch negative", ("fleet.drones.launch_s=-5",), "'fleet.drones.launch_s'"),
    Bad("endurance zero", ("fleet.drones.endurance_s=0",), "'fleet.drones.endurance_s'"),
    Bad("drones per nest", ("fleet.drones.patrol_per_nest=1000",), "'fleet.drones.patrol_per_nest'"),
    Bad(
        "overwatch range",
        ("policy.drone_overwatch_range_m=-1",),
        "'policy.drone_overwatch_range_m'",
        command="run",
    ),
    # grid, network, enterprises
    Bad("cell inf", ("grid.cell_m=inf",), FINITE),
    Bad("cell tiny", ("grid.cell_m=10",), "from 50 to 100,000 m"),
    Bad("cell huge", ("grid.cell_m=1e7",), "from 50 to 100,000 m"),
    Bad("min enterprises zero", ("grid.min_enterprises=0",), "'grid.min_enterprises'"),
    Bad("speed inf", ("network.speeds_kph.trunk=inf",), FINITE),
    Bad("speed negative", ("network.speeds_kph.trunk=-60",), "speeds must be positive km/h"),
    Bad("speed text", ("network.speeds_kph.trunk=fast",), "expected a number"),
    Bad("speed 1000", ("network.speeds_kph.trunk=1000",), "at most 300"),
    Bad("emergency factor", ("network.emergency_time_factor=0",), "'network.emergency_time_factor'"),
    Bad("snap distance", ("network.max_snap_m=-1",), "'network.max_snap_m'"),
    Bad("terminal mean", ("enterprises.terminal_online_mean=5",), "a probability in [0, 1]"),
    Bad(
        "terminal concentration",
        ("enterprises.terminal_online_concentration=-1",),
        "terminal_online_concentration",
    ),
    Bad("workforce median", ("enterprises.kinds.petrochemical.workforce_median=0",), "workforce_median"),
    Bad(
        "risk weights",
        ("enterprises.kinds.manufacturing.risk_weights={low: 0, medium: 0, high: 0}",),
        "positive sum",
    ),
    Bad("isochrones empty", ("isochrones_s=[]",), "'isochrones_s'"),
    Bad("station longitude", ("site.stations=[{name: x, lon: 500, lat: 0}]",), "site.stations[0].lon"),
    # incidents and delays
    Bad("leak growth negative", ("incidents.leak_growth_m_per_min=-3",), "'incidents.leak_growth_m_per_min'"),
    Bad("leak max below initial", ("incidents.leak_max_radius_m=10",), "at least leak_initial_radius_m"),
    Bad("hour profile", ("incidents.hour_profile=[1,2]",), "24 multipliers"),
    Bad(
        "rate negative",
        ("incidents.kinds.theft.rate_per_enterprise_year=-1",),
        "rates must be >= 0",
        command="run",
    ),
    Bad(
        "delay negative",
        ("delays.mobilise_echelon.median_s=-5",),
        "delays.mobilise_echelon.median_s",
        command="run",
    ),
    Bad("seed negative", ("seed=-1",), "'seed'"),
    Bad("seed text", ("seed=abc",), "expected a whole number"),
    # overrides Hydra itself would misread, groups, unknown keys
    Bad("hydra setting", ("hydra.run.dir=/tmp/x",), "hydra.* settings are not used"),
    Bad("hydra added", ("+hydra.job.name=x",), "hydra.* settings are not used"),
    Bad("unknown site", ("site=atlantis",), "unknown site"),
    Bad("unknown key", ("+network.turbo=1",), "unknown config key 'network.turbo'"),
    Bad("unknown nested key", ("fleet.boats=2",), "unknown config key 'fleet.boats'"),
    # files and folders
    Bad("results_dir is a file", ("results_dir={tmp}/taken",), "is a file", make=_file("taken")),
    Bad(
        "results_dir below a file",
        ("results_dir={tmp}/taken/results",),
        "cannot write in",
        make=_file("taken"),
    ),
    Bad("results_dir read-only", ("results_dir=/proc/echelon-results",), "cannot write in"),
    Bad("cache_dir is a file", ("cache_dir={tmp}/cache",), "'cache_dir'", make=_file("cache")),
    Bad(
        "network missing, Chinese path",
        ("site=file", "site.path={tmp}/舟山 (东)/it's.osm.pbf"),
        "file not found",
    ),
    Bad("network is a folder", ("site=file", "site.path={tmp}/maps"), "is a folder", make=_folder("maps")),
    Bad("facilities missing", ("site.facilities={tmp}/设施.csv",), "'site.facilities': file not found"),
    Bad("grid file missing", ("grid=file", "grid.path={tmp}/grids.geojson"), "'grid.path': file not found"),
    Bad("place offline", ("site=place", "site.place=Daishan County, Zhejiang"), "needs the internet"),
    # known only once the site is built: still refused before the simulation, nothing written
    Bad("no incident can occur", ("incidents.rate_multiplier=0",), "no incident can occur", command="run"),
    Bad("too many for memory", ("run.days=36000", "run.replications=20"), "fit in memory", command="run"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_config_is_refused_in_one_line(case, tmp_path, cache_dir, capsys):
    refuse(case, tmp_path, cache_dir, capsys)


def test_the_table_is_large_enough():
    assert len(CASES) >= 60 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("site.path=/data/舟山.osm.pbf", "/data/舟山.osm.pbf"),
        ("site.path=/data/岱山 (东区)/it's.osm", "/data/岱山 (东区)/it's.osm"),
        ("site.path=C:\\地图\\area's\\", "C:\\地图\\area's\\"),
        ("site.place=Daishan County, Zhejiang", "Daishan County, Zhejiang"),
        ("site.place='Daishan County, Zhejiang'", "Daishan County, Zhejiang"),  # quoted as Hydra wants
    ],
)
def test_values_are_read_as_typed(typed, value):
    site = "file" if typed.startswith("site.path") else "place"
    online = [] if site == "file" else ["site.online=true"]  # a place is fetched; offline it is refused
    cfg = load_config([f"site={site}", *online, *plain_overrides([typed])])
    key = typed.split("=", 1)[0].split(".")[1]
    assert getattr(cfg.site, key) == value


def test_a_comma_list_for_a_list_key_is_a_list():
    cfg = load_config(["run.policies=police_only,echelon_135"])
    assert cfg.run.policies == ["police_only", "echelon_135"]


def test_a_users_network_is_named_after_its_file():
    cfg = load_config(["site=file", "site.path=/data/舟山 (东区).osm.pbf"])
    assert cfg.site.name == "舟山-东区"
    assert load_config(["site=file", "site.path=AREA.OSM.PBF", "site.name=zs"]).site.name == "zs"


def test_hydra_settings_are_refused_not_ignored():
    with pytest.raises(ConfigError, match="hydra"):
        load_config(["hydra.verbose=true"])


def test_a_bad_config_is_refused_before_the_heavy_libraries_load():
    """Why it answers in under a second: nothing of the road, geometry or plotting stack is imported."""
    import subprocess
    import sys

    code = (
        "import sys; from sim.cli import main; rc = main(['run', 'run.days=-1']); "
        "heavy = sorted(m for m in ('osmnx', 'geopandas', 'scipy', 'matplotlib', 'simpy', 'mesa') "
        "if m in sys.modules); "
        "print(rc, heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "2 []", done.stdout + done.stderr
