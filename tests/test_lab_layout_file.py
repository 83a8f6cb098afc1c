"""A planner's layout file read into a Layout, and a layout written for a GIS tool and read back unchanged.

Files are made here with geopandas as a GIS tool saves them (WGS84, Chinese ids and folders, numbers as ids,
posts in the same GeoJSON or in a layer of their own); every bad file is refused in one line naming the file,
the feature or layer and the field."""

from __future__ import annotations

import json

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import LineString, Point, box

from sim.errors import SiteError
from sim.lab.layout import Layout, site_layout
from sim.lab.layout_file import read_layout_file, write_layout

WGS84 = "EPSG:4326"
TWO = ["R08C12", "R08C13"]  # neighbouring Daixi grids on Daishan island


@pytest.fixture(scope="module")
def layout(daishan_site) -> Layout:
    return site_layout(daishan_site)


def _same(read: Layout, written: Layout, tolerance_m: float) -> None:
    assert list(read.grids["id"]) == list(written.grids["id"])
    assert list(read.grids["zone"]) == list(written.grids["zone"])
    assert read.grids.crs == written.grids.crs
    for a, b in zip(read.grids.geometry, written.grids.geometry, strict=True):
        assert a.hausdorff_distance(b) <= tolerance_m
        assert abs(a.area - b.area) <= 10 * tolerance_m * max(1.0, b.length)
    columns = ["id", "grid", "node", "echelons"]
    assert read.posts[columns].values.tolist() == written.posts[columns].values.tolist()
    assert not read.warnings  # every grid had its post


def _planner_grids(site, ids) -> gpd.GeoDataFrame:
    """Two of the site's squares as a planner draws them in QGIS (WGS84), with ids of the planner's own."""
    squares = site.grids.set_index("id").loc[TWO]
    return gpd.GeoDataFrame({"id": ids}, geometry=squares.geometry.values, crs=site.crs).to_crs(WGS84)


def _post_point(site, grid: str) -> Point:
    """A point in WGS84 a few metres from the site's post of ``grid``."""
    post = site.posts.set_index("grid").geometry[grid]
    return gpd.GeoSeries([Point(post.x + 3.0, post.y + 4.0)], crs=site.crs).to_crs(WGS84).iloc[0]


def test_a_layout_written_as_a_geopackage_reads_back_the_same(daishan_site, layout, tmp_path):
    reach = gpd.GeoDataFrame(
        {"grid": TWO, "threshold_s": [300.0, 300.0]},
        geometry=[Point(daishan_site.grids.set_index("id").geometry[g].centroid).buffer(500) for g in TWO],
        crs=daishan_site.crs,
    )
    paths = write_layout(layout, tmp_path, reach=reach, site=daishan_site)
    assert [p.name for p in paths] == ["site.gpkg", "site_grids.geojson", "site_posts.geojson"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)  # no leftovers
    assert [row[0] for row in pyogrio.list_layers(paths[0])] == ["grids", "posts", "reach"]
    grids = gpd.read_file(paths[0], layer="grids")
    assert list(grids.columns) == ["id", "zone", "n_enterprises", "echelons", "geometry"]
    assert grids["n_enterprises"].tolist() == daishan_site.grids["n_enterprises"].tolist()
    assert list(gpd.read_file(paths[0], layer="posts").columns) == [
        "id",
        "grid",
        "echelons",
        "node",
        "snap_m",
        "geometry",
    ]
    assert gpd.read_file(paths[0], layer="reach")["threshold_s"].tolist() == [300.0, 300.0]

    read = read_layout_file(daishan_site, paths[0])
    assert read.name == "site" and str(paths[0]) in read.source
    _same(read, layout, 0.01)


def test_a_layout_written_as_geojson_is_wgs84_and_reads_back_the_same(daishan_site, layout, tmp_path):
    _, grids_path, posts_path = write_layout(layout, tmp_path, site=daishan_site)
    text = json.loads(grids_path.read_text(encoding="utf-8"))
    assert "crs" not in text  # RFC 7946: WGS84, no crs member
    lon, lat = text["features"][0]["geometry"]["coordinates"][0][0]
    assert 121 < lon < 123 and 29 < lat < 31
    assert text["features"][0]["properties"].keys() == {"id", "zone", "n_enterprises", "echelons"}
    posts = json.loads(posts_path.read_text(encoding="utf-8"))
    assert posts["features"][0]["properties"].keys() == {"id", "grid", "echelons", "node", "snap_m"}

    read = read_layout_file(daishan_site, grids_path, posts_path=posts_path)
    assert read.name == "site"
    _same(read, layout, 0.05)


def test_nothing_is_overwritten(daishan_site, layout, tmp_path):
    (tmp_path / "site_posts.geojson").write_text("mine", encoding="utf-8")
    with pytest.raises(SiteError, match=r"site_posts\.geojson already there; not overwritten"):
        write_layout(layout, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site_posts.geojson"]
    assert (tmp_path / "site_posts.geojson").read_text(encoding="utf-8") == "mine"
    with pytest.raises(SiteError, match="not a folder"):
        write_layout(layout, tmp_path / "nowhere")


def test_a_planners_geojson_with_chinese_ids_and_posts_in_it(daishan_site, tmp_path):
    folder = tmp_path / "网格方案"
    folder.mkdir()
    grids = _planner_grids(daishan_site, ["网格一", "网格二"])
    post = gpd.GeoDataFrame(
        {"id": ["一号岗"], "grid": ["网格一"]}, geometry=[_post_point(daishan_site, TWO[0])], crs=WGS84
    )
    features = json.loads(grids.to_json())["features"] + json.loads(post.to_json())["features"]
    path = folder / "岱山方案.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), "utf-8"
    )

    read = read_layout_file(daishan_site, path)
    assert read.name == "岱山方案" and read.grids.crs == daishan_site.crs
    assert list(read.grids["id"]) == ["网格一", "网格二"]
    assert list(read.grids["zone"]) == ["Daixi Industrial Zone"] * 2
    site_posts = daishan_site.posts.set_index("grid")
    posts = read.posts.set_index("grid")
    assert posts["id"]["网格一"] == "一号岗" and posts["node"]["网格一"] == site_posts["node"][TWO[0]]
    assert 4.9 < posts["snap_m"]["网格一"] < 5.1  # 3-4-5 metres from the node
    assert posts["id"]["网格二"] == "P-网格二" and posts["node"]["网格二"] == site_posts["node"][TWO[1]]
    assert read.warnings == (
        f"grid 网格二: no post in the file; placed at the 1-median of its enterprises "
        f"(road node {site_posts['node'][TWO[1]]})",
    )

    paths = write_layout(read, folder, site=daishan_site)
    assert paths[0].name == "岱山方案.gpkg"
    again = read_layout_file(daishan_site, paths[0])
    assert list(again.grids["id"]) == ["网格一", "网格二"] and list(again.posts["id"]) == [
        "一号岗",
        "P-网格二",
    ]


def test_a_geopackage_with_a_posts_layer_and_two_echelons(daishan_site, tmp_path):
    path = tmp_path / "plan.gpkg"
    _planner_grids(daishan_site, ["A", "B"]).assign(zone=["东区", ""]).to_file(path, layer="grids")
    posts = gpd.GeoDataFrame(
        {"grid": ["A"], "echelons": [3]}, geometry=[_post_point(daishan_site, TWO[0])], crs=WGS84
    ).to_crs(daishan_site.crs)  # a layer in another CRS than the grids'
    posts.to_file(path, layer="posts")
    read = read_layout_file(daishan_site, path, name="东区方案", echelons=2)
    assert read.name == "东区方案"
    assert read.grids.set_index("id")["zone"].to_dict() == {"A": "东区", "B": "Daixi Industrial Zone"}
    assert read.posts.set_index("grid")["echelons"].to_dict() == {"A": 3, "B": 2}
    assert read.posts.set_index("grid")["id"].to_dict() == {"A": "P-A", "B": "P-B"}
    assert read.n_echelons == 5


def test_numbers_as_ids_keep_their_text(daishan_site, tmp_path):
    path = tmp_path / "numbers.geojson"
    squares = [
        f["geometry"] for f in json.loads(_planner_grids(daishan_site, ["x", "y"]).to_json())["features"]
    ]
    point = _post_point(daishan_site, TWO[0])
    features = [
        {"type": "Feature", "properties": {"id": 7}, "geometry": squares[0]},
        {"type": "Feature", "properties": {"id": 12.5}, "geometry": squares[1]},
        {"type": "Feature", "properties": {"grid": 7, "echelons": 2.0}, "geometry": point.__geo_interface__},
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    read = read_layout_file(daishan_site, path)
    assert list(read.grids["id"]) == ["7", "12.5"]
    assert read.posts.set_index("grid")[["id", "echelons"]].to_dict("index")["7"] == {
        "id": "P-7",
        "echelons": 2,
    }


# --------------------------------------------------------------------------------------------- bad files


def _geojson(tmp_path, features: list[dict], name: str = "plan.geojson"):
    path = tmp_path / name
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), "utf-8"
    )
    return path


def _feature(props: dict, shape) -> dict:
    return {"type": "Feature", "properties": props, "geometry": shape.__geo_interface__}


def _square(k: int):
    return box(122.10 + 0.01 * k, 30.20, 122.105 + 0.01 * k, 30.205)


def _refused(site, path, **kwargs) -> SiteError:
    with pytest.raises(SiteError) as err:
        read_layout_file(site, path, **kwargs)
    assert "\n" not in str(err.value)
    return err.value


def test_a_missing_file_a_folder_and_an_unreadable_file_are_refused(daishan_site, tmp_path):
    assert (
        str(_refused(daishan_site, tmp_path / "无.gpkg")) == f"{tmp_path / '无.gpkg'}: layout file not found"
    )
    err = _refused(daishan_site, tmp_path)
    assert str(tmp_path) in str(err) and "is a folder; give the layout file inside it" in str(err)
    (tmp_path / "bad.geojson").write_text("not a map", encoding="utf-8")
    err = _refused(daishan_site, tmp_path / "bad.geojson")
    assert str(err).startswith(f"{tmp_path / 'bad.geojson'}: cannot read the layout (")
    good = _geojson(tmp_path, [_feature({"id": "A"}, _square(0))])
    err = _refused(daishan_site, good, posts_path=tmp_path / "posts.geojson")
    assert str(err) == f"{tmp_path / 'posts.geojson'}: posts file not found"


def test_a_geopackage_without_a_grids_layer_lists_its_layers(daishan_site, tmp_path):
    path = tmp_path / "plan.gpkg"
    gpd.GeoDataFrame({"id": ["A"]}, geometry=[_square(0)], crs=WGS84).to_file(path, layer="网格")
    gpd.GeoDataFrame({"grid": ["A"]}, geometry=[Point(122.1, 30.2)], crs=WGS84).to_file(path, layer="posts")
    err = _refused(daishan_site, path)
    assert str(path) in str(err) and "no layer 'grids'" in str(err) and "its layers: 网格, posts" in str(err)


def test_a_geopackage_of_one_layer_is_read_as_the_grids_whatever_its_name(daishan_site, tmp_path):
    path = tmp_path / "plan.gpkg"
    _planner_grids(daishan_site, ["北区", "南区"]).to_file(path, layer="网格图层")
    read = read_layout_file(daishan_site, str(path))
    assert list(read.grids["id"]) == ["北区", "南区"] and list(read.posts["grid"]) == ["北区", "南区"]


def test_a_grid_without_an_id_is_refused(daishan_site, tmp_path):
    path = _geojson(tmp_path, [_feature({"name": "A"}, _square(0))])
    err = _refused(daishan_site, path)
    assert str(err) == f"{path}: grids need an 'id' property on every polygon; found name"
    path = _geojson(
        tmp_path, [_feature({"id": "A"}, _square(0)), _feature({"id": " "}, _square(1))], "blank.geojson"
    )
    assert str(_refused(daishan_site, path)) == f"{path}: feature 2: id is empty; every grid needs one"
    gpkg = tmp_path / "plan.gpkg"
    gpd.GeoDataFrame({"name": ["A"]}, geometry=[_square(0)], crs=WGS84).to_file(gpkg, layer="grids")
    err = _refused(daishan_site, gpkg)
    assert str(err).startswith(f"{gpkg}: layer 'grids': grids need an 'id' property")


def test_duplicate_grid_ids_are_refused(daishan_site, tmp_path):
    path = _geojson(tmp_path, [_feature({"id": "网格一"}, _square(k)) for k in range(2)])
    err = _refused(daishan_site, path)
    assert str(err).startswith(f"{path}: id '网格一' is used by features 1, 2; one feature per grid")


def test_a_grid_that_is_not_a_polygon_is_refused(daishan_site, tmp_path):
    line = LineString([(122.1, 30.2), (122.2, 30.2)])
    path = _geojson(tmp_path, [_feature({"id": "A"}, _square(0)), _feature({"id": "B"}, line)])
    err = _refused(daishan_site, path)
    assert str(err) == f"{path}: feature 2 (B): a LineString; a grid is a Polygon or MultiPolygon"


def test_a_post_naming_no_grid_of_the_layout_is_refused(daishan_site, tmp_path):
    path = _geojson(
        tmp_path, [_feature({"id": "A"}, _square(0)), _feature({"id": "P1", "grid": "Z"}, Point(122.1, 30.2))]
    )
    err = _refused(daishan_site, path)
    assert str(err) == f"{path}: feature 2 (post P1): grid 'Z' is not a grid of the layout; grids: A"


def test_a_post_without_a_grid_property_is_refused(daishan_site, tmp_path):
    path = _geojson(tmp_path, [_feature({"id": "A"}, _square(0)), _feature({"id": "P1"}, Point(122.1, 30.2))])
    err = _refused(daishan_site, path)
    assert str(err) == (
        f"{path}: feature 2 (post P1): no 'grid' property; "
        "a post names the id of the grid it serves in 'grid'"
    )


@pytest.mark.parametrize("value", [0, 2.5, -1, "two"])
def test_echelons_must_be_a_whole_number_of_one_or_more(daishan_site, tmp_path, value):
    gpkg = tmp_path / "plan.gpkg"
    gpd.GeoDataFrame({"id": ["A"]}, geometry=[_square(0)], crs=WGS84).to_file(gpkg, layer="grids")
    posts = gpd.GeoDataFrame({"grid": ["A"], "echelons": [value]}, geometry=[Point(122.1, 30.2)], crs=WGS84)
    posts.to_file(gpkg, layer="posts")
    err = _refused(daishan_site, gpkg)
    shown = {0: "'0'", 2.5: "'2.5'", -1: "'-1'", "two": "'two'"}[value]
    assert str(err) == (
        f"{gpkg}: layer 'posts' feature 1: echelons {shown} is not allowed; "
        "allowed: a whole number of teams, 1 or more"
    )


def test_problems_in_a_separate_posts_file_name_that_file(daishan_site, tmp_path):
    grids = _geojson(tmp_path, [_feature({"id": "A"}, _square(0))])
    posts = _geojson(tmp_path, [_feature({"grid": "A", "echelons": 1.5}, Point(122.1, 30.2))], "岗位.geojson")
    err = _refused(daishan_site, grids, posts_path=posts)
    assert str(err) == (
        f"{grids}: {posts} feature 1: echelons '1.5' is not allowed; "
        "allowed: a whole number of teams, 1 or more"
    )


def test_every_problem_is_listed_under_one_line(daishan_site, tmp_path):
    features = [
        _feature({"id": "A"}, _square(0)),
        _feature({"id": "A"}, _square(1)),
        _feature({"id": ""}, _square(2)),
        _feature({"id": "P1", "grid": "Z", "echelons": 0}, Point(122.1, 30.2)),
        _feature({"id": "P2"}, Point(122.1, 30.2)),
        _feature({"id": "C"}, LineString([(122.1, 30.2), (122.2, 30.2)])),
    ]
    path = _geojson(tmp_path, features)
    err = _refused(daishan_site, path)
    assert str(err) == f"{path}: 6 problems in the layout"
    assert sorted(err.problems) == sorted(
        [
            "feature 3: id is empty; every grid needs one",
            "feature 6 (C): a LineString; a grid is a Polygon or MultiPolygon",
            "id 'A' is used by features 1, 2; one feature per grid (merge the parts into one MultiPolygon)",
            "feature 4 (post P1): grid 'Z' is not a grid of the layout; grids: A, C",
            "feature 4 (post P1): echelons '0' is not allowed; allowed: a whole number of teams, 1 or more",
            "feature 5 (post P2): no 'grid' property; a post names the id of the grid it serves in 'grid'",
        ]
    )


def test_two_posts_for_one_grid_or_one_post_id_twice_are_refused(daishan_site, tmp_path):
    features = [
        _feature({"id": "A"}, _square(0)),
        _feature({"id": "B"}, _square(1)),
        _feature({"id": "P", "grid": "A"}, Point(122.1, 30.2)),
        _feature({"id": "P", "grid": "B"}, Point(122.1, 30.2)),
    ]
    err = _refused(daishan_site, _geojson(tmp_path, features))
    assert str(err).endswith("post id 'P' is used by feature 3 (post P), feature 4 (post P); one id per post")
    features[3] = _feature({"id": "Q", "grid": "A"}, Point(122.1, 30.2))
    err = _refused(daishan_site, _geojson(tmp_path, features, "twice.geojson"))
    assert str(err).endswith(
        "twice.geojson: grid 'A' has posts in feature 3 (post P), feature 4 (post Q); one post per grid "
        "(give it echelons: 2 or more for more teams)"
    )


def test_the_features_own_ids_serve_when_there_is_no_id_property(daishan_site, tmp_path):
    """GDAL reads a feature's own numeric id as its number, not as a property; it is an id all the same."""
    squares = [
        f["geometry"] for f in json.loads(_planner_grids(daishan_site, ["x", "y"]).to_json())["features"]
    ]
    features = [
        {"type": "Feature", "id": 1, "properties": {"name": "一"}, "geometry": squares[0]},
        {"type": "Feature", "id": "二", "properties": {"name": "二"}, "geometry": squares[1]},
    ]
    read = read_layout_file(daishan_site, _geojson(tmp_path, features))
    assert list(read.grids["id"]) == ["1", "二"]


def test_a_polygon_without_area_is_refused_and_a_twisted_one_mended(daishan_site, tmp_path):
    flat = {"type": "Polygon", "coordinates": [[[122.1, 30.2], [122.2, 30.2], [122.1, 30.2]]]}
    path = _geojson(
        tmp_path,
        [_feature({"id": "A"}, _square(0)), {"type": "Feature", "properties": {"id": "B"}, "geometry": flat}],
    )
    err = _refused(daishan_site, path)
    assert str(err) == f"{path}: feature 2 (B): the polygon has no area; a grid covers land"

    square = _planner_grids(daishan_site, ["A", "B"]).geometry.iloc[0]
    (w, s, e, n) = square.bounds
    bowtie = {"type": "Polygon", "coordinates": [[[w, s], [e, n], [e, s], [w, n], [w, s]]]}
    path = _geojson(
        tmp_path, [{"type": "Feature", "properties": {"id": "8"}, "geometry": bowtie}], "bowtie.geojson"
    )
    read = read_layout_file(daishan_site, path)
    assert read.grids.geometry.iloc[0].is_valid and read.grids.geometry.iloc[0].area > 0
