"""A planner's facilities file (and grid file): every mistake refused in one line naming the file, the row
and what is allowed (see tests/bad_input.py); Chinese spreadsheets' encodings and grid ids that posts can
name. Every file is written by the test; the roads are the two-island fixture, so each case is quick."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest
from bad_input import Bad, refuse

from sim.cli import main
from sim.config import load_config
from sim.site.build import build_site

DATA = Path(__file__).parent / "data"
ROADS = ("site=file", f"site.path={DATA / 'two_islands.osm'}")
SMALL_CELLS = "grid.cell_m=200"  # Zone A (island A) then holds four cells
HEADER = "role,name,lon,lat"
A_LTD = "enterprise,A Ltd,122.001,30.001"  # cell R03C02 of island A
B_LTD = "enterprise,B Ltd,122.003,30.003"  # cell R02C03


def csv(*lines: str, name: str = "fac.csv", encoding: str = "utf-8"):
    """A maker writing ``lines`` as a CSV into the case's folder."""

    def make(folder: Path) -> None:
        (folder / name).write_text("\n".join(lines) + "\n", encoding=encoding)

    return make


def raw(data: bytes, name: str = "fac.csv"):
    def make(folder: Path) -> None:
        (folder / name).write_bytes(data)

    return make


def geojson(*features: tuple[dict, dict | None], name: str = "fac.geojson"):
    """A maker writing (properties, geometry) pairs as a GeoJSON FeatureCollection."""

    def make(folder: Path) -> None:
        items = [{"type": "Feature", "properties": p, "geometry": g} for p, g in features]
        (folder / name).write_text(json.dumps({"type": "FeatureCollection", "features": items}))

    return make


def square(lon: float, lat: float, size: float = 0.0015) -> dict:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def both(*makers):
    def make(folder: Path) -> None:
        for m in makers:
            m(folder)

    return make


FAC = "site.facilities={tmp}/fac.csv"
GEO = "site.facilities={tmp}/fac.geojson"


def bad(case_id: str, lines: tuple[str, ...], message: str, *extra: str) -> Bad:
    """A bad CSV on the two-island roads."""
    return Bad(case_id, (*ROADS, FAC, SMALL_CELLS, *extra), message, make=csv(*lines))


ENTERPRISE_COLUMNS = "role,name,lon,lat,workforce,guards_night,terminal_online_p,risk,kind,hazmat"
GOOD_ROW = "enterprise,A Ltd,122.001,30.001,40,2,0.9,low,logistics,no"

CASES = [
    # 1. numeric columns: row (as a spreadsheet numbers it), facility, column, what is allowed
    bad(
        "negative workforce",
        (ENTERPRISE_COLUMNS, GOOD_ROW, "enterprise,B Ltd,122.003,30.003,-5,2,0.9,low,logistics,no"),
        "fac.csv row 3 (B Ltd): workforce -5 is out of range; allowed: a whole number of people, 0 or more",
    ),
    bad(
        "workforce not a number",
        (ENTERPRISE_COLUMNS, "enterprise,B Ltd,122.003,30.003,many,2,0.9,low,logistics,no"),
        "row 2 (B Ltd): workforce 'many' is not a number; allowed: a whole number of people",
    ),
    bad(
        "workforce not whole",
        (ENTERPRISE_COLUMNS, "enterprise,B Ltd,122.003,30.003,12.5,2,0.9,low,logistics,no"),
        "workforce 12.5 is not a whole number",
    ),
    bad(
        "negative night guards",
        (ENTERPRISE_COLUMNS, "enterprise,B Ltd,122.003,30.003,40,-1,0.9,low,logistics,no"),
        "row 2 (B Ltd): guards_night -1 is out of range; allowed: a whole number of guards on duty (night",
    ),
    # 2. a probability
    bad(
        "terminal probability 5",
        (ENTERPRISE_COLUMNS, "enterprise,B Ltd,122.003,30.003,40,2,5,low,logistics,no"),
        "row 2 (B Ltd): terminal_online_p 5 is out of range; allowed: a probability from 0 to 1",
    ),
    bad(
        "terminal probability as percent",
        (ENTERPRISE_COLUMNS, "enterprise,B Ltd,122.003,30.003,40,2,85%,low,logistics,no"),
        "terminal_online_p '85%' is not a number; allowed: a probability from 0 to 1 (write 0.85 for 85%)",
    ),
    bad(
        "lon not a number",
        (HEADER, "enterprise,B Ltd,122°E,30.003"),
        "row 2 (B Ltd): lon '122°E' is not a number",
    ),
    bad(
        "lon and lat swapped",
        (HEADER, "enterprise,B Ltd,30.003,122.003"),
        "lat 122.003 is outside WGS84 range; allowed: a latitude in decimal degrees (WGS84), -90 to 90 "
        "(lon and lat swapped?)",
    ),
    bad(
        "no position",
        (HEADER, "enterprise,B Ltd,,"),
        "row 2 (B Ltd): no position: lon and lat must both be given",
    ),
    bad(
        "unknown risk",
        (ENTERPRISE_COLUMNS, "enterprise,B Ltd,122.003,30.003,40,2,0.9,extreme,logistics,no"),
        "risk 'extreme' is not allowed; allowed: high, low, medium",
    ),
    bad(
        "unknown kind",
        (ENTERPRISE_COLUMNS, "enterprise,B Ltd,122.003,30.003,40,2,0.9,low,bakery,no"),
        "row 2 (B Ltd): kind 'bakery' is not defined; allowed: petrochemical,",
    ),
    bad(
        "hazmat not yes or no",
        (ENTERPRISE_COLUMNS, "enterprise,B Ltd,122.003,30.003,40,2,0.9,low,logistics,maybe"),
        "hazmat 'maybe' is not allowed; allowed: true/false, yes/no, 1/0, 是/否",
    ),
    # 3. roles and duplicates
    bad(
        "unknown role",
        (HEADER, A_LTD, "hospital,City Hospital,122.002,30.002"),
        "row 3 (City Hospital): role 'hospital' is not one of enterprise, station, fire_station, post, nest",
    ),
    bad("empty name", (HEADER, A_LTD, "enterprise,,122.003,30.003"), "fac.csv row 3: name is empty"),
    bad(
        "duplicate police station",
        (HEADER, "station,East Station,122.0,30.0", A_LTD, "station,East Station,122.004,30.004"),
        "police station name 'East Station' is used 2 times, on row 2 and row 4; each police station needs",
    ),
    bad(
        "duplicate fire station",
        (HEADER, "fire_station,Brigade,122.0,30.0", A_LTD, "fire_station,Brigade,122.004,30.004"),
        "fire station name 'Brigade' is used 2 times, on row 2 and row 4",
    ),
    bad(
        "duplicate enterprise",
        (HEADER, A_LTD, "enterprise,A Ltd,122.003,30.003"),
        "enterprise name 'A Ltd' is used 2 times, on row 2 and row 3",
    ),
    bad(
        "duplicate enterprise id",
        ("role,name,lon,lat,id", "enterprise,A Ltd,122.001,30.001,E7", "enterprise,B Ltd,122.003,30.003,E7"),
        "enterprise id 'E7' is used 2 times, on row 2 and row 3",
    ),
    # 4. one post per grid
    bad(
        "two posts for one grid",
        (
            f"{HEADER},grid",
            f"{A_LTD},",
            "post,Post One,122.001,30.001,R03C02",
            "post,Post Two,122.0,30.0,R03C02",
        ),
        "fac.csv: posts 'Post One' (row 3) and 'Post Two' (row 4) both serve grid 'R03C02'; a grid has one "
        "post",
    ),
    bad(
        "post without grid column",
        (HEADER, A_LTD, "post,Post One,122.001,30.001"),
        "posts need a 'grid' column",
    ),
    bad(
        "post with empty grid",
        (f"{HEADER},grid", f"{A_LTD},", "post,Post One,122.001,30.001,"),
        "row 3 (Post One): grid is empty; a post names the grid it serves",
    ),
    # 6. a post naming a grid that does not exist: the post, the grid it asked for, the valid ids
    bad(
        "post for a grid that does not exist",
        (
            f"{HEADER},grid",
            f"{A_LTD},",
            "post,Post One,122.001,30.001,R03C02",
            "post,Post Two,122.0,30.0,G01",
        ),
        "fac.csv row 4 (Post Two): grid 'G01' does not exist; the 1 grid(s) are R03C02 (the grids layer of "
        "site.gpkg",
    ),
    bad(
        "a grid without a post",
        (f"{HEADER},grid", f"{A_LTD},", f"{B_LTD},", "post,Post One,122.001,30.001,R03C02"),
        "fac.csv: grid R02C03 has no post; add a row with role=post and grid=R02C03; the 2 grid(s) are",
    ),
    # 5. and 10.: files that hold no facilities or are no CSV
    bad("header only", (ENTERPRISE_COLUMNS,), "fac.csv: no facilities in it"),
    bad(
        "no lon and lat columns",
        ("role,name,x,y", "enterprise,A Ltd,122.001,30.001"),
        "fac.csv: a facilities CSV needs columns role, name, lon, lat; missing lon, lat; found role, name, "
        "x, y",
    ),
    bad(
        "separated by semicolons",
        ("role;name;lon;lat", "enterprise;A Ltd;122.001;30.001"),
        "(the columns look separated by ';' or tabs: save it with commas)",
    ),
    bad(
        "a row with more cells than the header",
        (HEADER, B_LTD, "enterprise,A, Ltd,122.001,30.001"),
        "fac.csv row 3: 5 cells but the header has 4 (an unquoted comma in a name?)",
    ),
    bad(
        "a title above the header",
        ("设施清单 2026", HEADER, A_LTD),
        "fac.csv row 1: the header has 1 cell(s) but every row has more; the first line must name",
    ),
    bad("a column twice", ("role,name,lon,lat,Name", f"{A_LTD},x"), "column(s) name appear more than once"),
    bad(
        "several problems at once",
        (
            ENTERPRISE_COLUMNS,
            "enterprise,B Ltd,122.003,30.003,-5,2,5,low,logistics,no",
            "hospital,H,122.0,30.0",
        ),
        "fac.csv: 3 problems in the facilities file",
    ),
    Bad("empty file", (*ROADS, FAC), "fac.csv: the file is empty", make=raw(b"")),
    Bad(
        "only a BOM and commas",
        (*ROADS, FAC),
        "fac.csv: the file is empty",
        make=raw(b"\xef\xbb\xbf,,,\r\n,,,\r\n"),
    ),
    bad(
        "row numbers count blank rows and a cell with a line break as one row",
        (HEADER, "", '"enterprise","A\nLtd",122.001,30.001', "", "enterprise,B Ltd,122.003,abc"),
        "fac.csv row 5 (B Ltd): lat 'abc' is not a number",
    ),
    Bad(
        "binary junk",
        (*ROADS, FAC),
        "fac.csv: not a text CSV (it holds binary data",
        make=raw(b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256))),
    ),
    Bad(
        "Excel 'Unicode text' (UTF-16)",
        (*ROADS, FAC),
        "not a text CSV",
        make=raw(f"{HEADER}\n{A_LTD}\n".encode("utf-16")),
    ),
    Bad(
        "neither UTF-8 nor GB18030",
        (*ROADS, FAC),
        "fac.csv: cannot decode the text: tried UTF-8 (with or without BOM) and GB18030 (GBK); in Excel or "
        "WPS use Save As > 'CSV UTF-8",
        make=raw(f"{HEADER}\n".encode() + b"enterprise,\x80\xff\x80\xff,122.001,30.001\n"),
    ),
    Bad("missing file", (*ROADS, "site.facilities={tmp}/nowhere.csv"), "'site.facilities': file not found: "),
    Bad(
        "a folder", (*ROADS, "site.facilities={tmp}"), "is a folder; give a file"
    ),
    Bad(
        "a spreadsheet",
        (*ROADS, "site.facilities={tmp}/fac.xlsx"),
        "unsupported file type 'fac.xlsx'; allowed: .csv, .geojson",
        make=raw(b"PK\x03\x04", name="fac.xlsx"),
    ),
    Bad(
        "GeoJSON station drawn as a line",
        (*ROADS, GEO),
        "fac.geojson feature 1 (East Station): geometry is a LineString; a police station needs Point",
        make=geojson(
            (
                {"role": "station", "name": "East Station"},
                {"type": "LineString", "coordinates": [[122.0, 30.0], [122.002, 30.0]]},
            )
        ),
    ),
    Bad("GeoJSON with no features", (*ROADS, GEO), "fac.geojson: no facilities in it", make=geojson()),
    Bad(
        "GeoJSON that is not JSON",
        (*ROADS, GEO),
        "fac.geojson: cannot read facilities",
        make=raw(b"{not json", name="fac.geojson"),
    ),
    Bad(
        "grid file with one id twice",
        (*ROADS, "grid=file", "grid.path={tmp}/grids.geojson"),
        "grids.geojson: id 'East' is used by features 1, 2; one feature per grid",
        make=geojson(
            ({"id": "East"}, square(122.0005, 30.0005)),
            ({"id": "East"}, square(122.002, 30.002)),
            name="grids.geojson",
        ),
    ),
    Bad(
        "grid file missing",
        (*ROADS, "grid=file", "grid.path={tmp}/grids.geojson"),
        "'grid.path': file not found",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_facilities_are_refused_in_one_line(case, tmp_path, cache_dir, capsys):
    refuse(case, tmp_path, cache_dir, capsys)


def _site(cache_dir, facilities: Path, *extra: str):
    cfg = load_config([*ROADS, f"cache_dir={cache_dir}", SMALL_CELLS, *extra])
    return build_site(
        dataclasses.replace(cfg, site=dataclasses.replace(cfg.site, facilities=str(facilities)))
    )


CHINESE = [
    "role,name,lon,lat,kind,workforce",
    "station,岱山县公安局高亭派出所,122.0,30.0,,",
    "enterprise,舟山某化工有限公司,122.001,30.001,chemical_storage,35",
    "enterprise,岱山（东沙）船舶修造厂,122.003,30.003,shipyard,",
]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "gb18030"])
def test_chinese_spreadsheet_csvs_load_and_names_round_trip(encoding, tmp_path, cache_dir):
    path = tmp_path / "设施.csv"
    path.write_text("\r\n".join(CHINESE) + "\r\n", encoding=encoding)  # as Excel on Windows writes it
    site = _site(cache_dir, path)
    assert list(site.enterprises["name"]) == ["舟山某化工有限公司", "岱山（东沙）船舶修造厂"]
    assert site.enterprises["workforce"].iloc[0] == 35
    assert "岱山县公安局高亭派出所" in set(site.stations["name"])


def test_chinese_path_with_parentheses_and_names_reach_enterprises_csv(tmp_path, cache_dir, capsys):
    folder = tmp_path / "舟山 (测试)"
    folder.mkdir()
    path = folder / "设施.csv"
    path.write_text("\n".join([*CHINESE, "enterprise,海边仓库,122.004,30.004,logistics,8"]), encoding="gbk")
    cfg = load_config([*ROADS, f"site.facilities='{path}'", f"cache_dir={cache_dir}", SMALL_CELLS])
    assert cfg.site.facilities == str(path)
    results = tmp_path / "results"
    code = main(
        ["site", *ROADS, f"site.facilities='{path}'", f"cache_dir={cache_dir}", f"results_dir={results}"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    (folder_out,) = results.iterdir()
    table = pd.read_csv(folder_out / "enterprises.csv")
    assert list(table["name"]) == ["舟山某化工有限公司", "岱山（东沙）船舶修造厂", "海边仓库"]
    assert (
        (folder_out / "enterprises.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    )  # Excel reads it as UTF-8
    # 8. the warehouse on the road outside Zone A is in no grid: a warning, printed by `echelon site`
    assert "warning: 1 enterprise(s) lie outside every grid, so no echelon is theirs: E0003 (海边仓库)" in out


def test_grid_ids_from_a_planners_file_are_kept_and_posts_use_them(tmp_path, cache_dir):
    grids = tmp_path / "grids.geojson"
    geojson(
        ({"id": "东区-1"}, square(122.0005, 30.0005)),
        ({"id": "7"}, square(122.0021, 30.0021)),
        name="grids.geojson",
    )(tmp_path)
    path = tmp_path / "fac.csv"
    posts = "post,West post,122.001,30.001,东区-1\npost,East post,122.003,30.003,7"
    path.write_text(f"{HEADER},grid\n{A_LTD},\n{B_LTD},\n{posts}\n")
    site = _site(cache_dir, path, "grid=file", f"grid.path={grids}")
    assert sorted(site.grids["id"]) == ["7", "东区-1"]
    assert dict(zip(site.enterprises["name"], site.enterprises["grid"], strict=True)) == {
        "A Ltd": "东区-1",
        "B Ltd": "7",
    }
    assert sorted(site.posts["id"]) == ["P-7", "P-东区-1"]
    assert not any("outside the grid they serve" in w for w in site.warnings)


def test_square_grid_ids_are_row_and_column_and_stay_when_enterprises_are_added(tmp_path, cache_dir):
    one = tmp_path / "one.csv"
    one.write_text(f"{HEADER}\n{A_LTD}\n")
    two = tmp_path / "two.csv"
    two.write_text(f"{HEADER}\n{B_LTD}\n{A_LTD}\n")
    first, second = _site(cache_dir, one), _site(cache_dir, two)
    assert list(first.grids["id"]) == ["R03C02"]
    assert sorted(second.grids["id"]) == ["R02C03", "R03C02"]
    a_grid = second.enterprises.set_index("name").loc["A Ltd", "grid"]
    assert a_grid == "R03C02"  # A Ltd's grid kept its id when B Ltd's cell became a grid


def test_a_post_outside_its_grid_is_a_warning(tmp_path, cache_dir):
    path = tmp_path / "fac.csv"
    path.write_text(f"{HEADER},grid\n{A_LTD},\npost,Far post,122.004,30.004,R03C02\n")
    site = _site(cache_dir, path)
    (warning,) = [w for w in site.warnings if "outside the grid they serve" in w]
    assert "row 3 (Far post) lies" in warning and "m outside grid R03C02" in warning


def test_geojson_with_a_footprint_and_typed_properties_loads(tmp_path, cache_dir):
    geojson(
        ({"role": "station", "name": "East Station"}, {"type": "Point", "coordinates": [122.0, 30.0]}),
        (
            {"role": "Enterprise", "name": "Tank farm", "workforce": 12, "hazmat": "是", "kind": "Logistics"},
            square(122.0006, 30.0006, 0.0008),
        ),
    )(tmp_path)
    site = _site(cache_dir, tmp_path / "fac.geojson")
    (tank,) = site.enterprises.itertuples()
    assert (tank.name, tank.kind, tank.workforce, tank.hazmat) == ("Tank farm", "logistics", 12, True)
    assert "East Station" in set(site.stations["name"])


def test_an_enterprise_without_a_kind_is_the_default_kind_with_a_warning(tmp_path, cache_dir):
    """Not the first kind listed (petrochemical): that would give a warehouse chemical leaks."""
    path = tmp_path / "fac.csv"
    path.write_text(f"{HEADER},kind\n{A_LTD},\n{B_LTD},shipyard\n")
    site = _site(cache_dir, path)
    assert list(site.enterprises["kind"]) == ["manufacturing", "shipyard"]
    (warning,) = [w for w in site.warnings if "name no kind" in w]
    assert warning.startswith("1 enterprise(s) in ") and "'manufacturing'" in warning
