"""Grid-layout generators: every one gives a valid layout on both shipped sites, and is deterministic.

Valid means what the model relies on: unique grid ids, grids that do not overlap, every enterprise on the
land in exactly one grid, one post per grid that reaches all of its enterprises by road.
"""

from __future__ import annotations

import dataclasses
import inspect
import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from sim.errors import ConfigError
from sim.lab.generators import GENERATORS, generate, hex_tiling, land_of
from sim.site.grids import assign_to_polygons, grid_land, network_bounds_m

SEED = 11
ECHELONS = 2
NAMES = list(GENERATORS)
# Helsinki has 51 enterprises on a small piece of the city: smaller cells, fewer clusters.
PARAMS = {
    "daishan": {"cell_m": 1000.0, "hex_m": 800.0, "count": 20, "post_every": 4},
    "helsinki": {"cell_m": 500.0, "hex_m": 300.0, "count": 3, "post_every": 1},
}


def _post_nodes(site, every: int) -> list[int]:
    """Posts for network_voronoi: every n-th of the site's own posts (spread over the site, on roads)."""
    return [int(n) for n in site.posts["node"].to_numpy()[::every]]


def _specs(site, name: str) -> dict[str, dict]:
    p = PARAMS[name]
    return {
        "squares": {"generator": "squares", "cell_m": p["cell_m"]},
        "hexagons": {"generator": "hexagons", "cell_m": p["hex_m"]},
        "clusters": {"generator": "clusters", "count": p["count"]},
        "network_voronoi": {"generator": "network_voronoi", "post_nodes": _post_nodes(site, p["post_every"])},
        "jurisdictions": {"generator": "jurisdictions"},
    }


@pytest.fixture(scope="module", params=list(PARAMS))
def built(request):
    """(site name, site, specs, layouts): every generator run once per site for the whole module."""
    site = request.getfixturevalue(f"{request.param}_site")
    specs = _specs(site, request.param)
    return request.param, site, specs, {g: generate(site, spec, ECHELONS, SEED) for g, spec in specs.items()}


@pytest.mark.parametrize("generator", NAMES)
def test_layout_is_valid(built, generator):
    _, site, _, layout = built
    layout = layout[generator]
    grids, posts = layout.grids, layout.posts
    assert len(grids) > 0 and grids.crs == site.crs
    assert grids["id"].is_unique
    assert grids.geometry.is_valid.all()

    pairs = gpd.sjoin(grids[["geometry"]], grids[["geometry"]], predicate="intersects")
    pairs = pairs[pairs.index < pairs["index_right"]]
    shared_m2 = [
        grids.geometry[i].intersection(grids.geometry[j]).area for i, j in pairs["index_right"].items()
    ]
    assert max(shared_m2, default=0.0) < 1.0

    ents = site.enterprises
    land = land_of(site).geometry.union_all()
    on_land = ents.within(land)
    held = gpd.sjoin(ents[["geometry"]], grids[["id", "geometry"]], predicate="within").index.value_counts()
    counts = held.reindex(ents.index).fillna(0).astype(int)
    assert (counts[on_land] == 1).all(), ents[on_land & (counts != 1)]["id"].tolist()

    assert posts["grid"].is_unique and set(posts["grid"]) == set(grids["id"])
    assert (posts["echelons"] == ECHELONS).all()
    grid_of = assign_to_polygons(ents, grids)
    times_s = site.router.times_from(posts["node"])
    for k, post in enumerate(posts.itertuples()):
        members = ents[grid_of == post.grid]
        assert len(members) > 0
        assert np.isfinite(times_s[k, site.router.index(members["node"])]).all(), post.grid


@pytest.mark.parametrize("generator", NAMES)
def test_layout_is_deterministic(built, generator):
    _, site, specs, layouts = built
    first, again = layouts[generator], generate(site, specs[generator], ECHELONS, SEED)
    assert list(first.grids["id"]) == list(again.grids["id"])
    assert first.grids.geometry.geom_equals_exact(again.grids.geometry, tolerance=0.0).all()
    cols = ["id", "grid", "node", "echelons"]
    assert first.posts[cols].equals(again.posts[cols])
    assert (first.name, first.source, first.warnings) == (again.name, again.source, again.warnings)


def test_squares_are_the_sites_own_grids(daishan_site, daishan_cfg):
    """Same cell size, same cells: the generator and the site builder share the land and the ids."""
    layout = generate(daishan_site, {"generator": "squares", "cell_m": daishan_cfg.grid.cell_m}, 1, SEED)
    own = daishan_site.grids.set_index("id")
    assert set(layout.grids["id"]) == set(own.index)
    mine = layout.grids.set_index("id").geometry
    assert mine.geom_equals_exact(own.geometry.reindex(mine.index), tolerance=1e-6).all()
    assert layout.source == "square cells of 1,000 m"


def test_land_without_zones_is_the_enterprises_surroundings(helsinki_site):
    no_zones = helsinki_site.zones.iloc[0:0]
    land = grid_land(no_zones, helsinki_site.enterprises).geometry.union_all()
    hull = helsinki_site.enterprises.geometry.union_all().convex_hull
    assert land.contains(hull) and math.isclose(land.area, hull.buffer(200.0).area)
    site = dataclasses.replace(helsinki_site, zones=no_zones)
    layout = generate(site, {"generator": "squares", "cell_m": 500.0}, 1, SEED)
    assert set(assign_to_polygons(site.enterprises, layout.grids)) - {""} == set(layout.grids["id"])
    assert (assign_to_polygons(site.enterprises, layout.grids) != "").all()


def test_hexagons_have_six_sides_and_the_width_asked(built):
    name, site, _, layouts = built
    cell_m = PARAMS[name]["hex_m"]
    frame = network_bounds_m(site.graph)
    tiles = hex_tiling(land_of(site).geometry.union_all().bounds, cell_m, frame, site.crs).set_index("id")
    assert tiles.index.is_unique
    assert (shapely.get_num_coordinates(tiles.geometry.to_numpy()) == 7).all()  # 6 corners, closed ring
    widths = tiles.geometry.bounds["maxx"] - tiles.geometry.bounds["minx"]
    assert np.allclose(widths, cell_m)
    centres = np.column_stack([tiles.geometry.centroid.x, tiles.geometry.centroid.y])
    gaps = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=2)
    np.fill_diagonal(gaps, np.inf)
    assert np.allclose(gaps.min(axis=1), cell_m)  # neighbours are one width apart
    grids = layouts["hexagons"].grids.set_index("id")
    assert grids.geometry.within(tiles.geometry.reindex(grids.index).buffer(1e-6)).all()
    assert all(g.startswith("H") and "-" in g for g in grids.index)
    assert layouts["hexagons"].source == f"hexagons {cell_m:,.0f} m across"


def test_hexagon_ids_do_not_depend_on_the_box_tiled(daishan_site):
    """The lattice is fixed to the CRS origin: a smaller box gives the same hexagon under the same id."""
    frame = network_bounds_m(daishan_site.graph)
    whole = hex_tiling(frame, 800.0, frame).set_index("id")
    minx, miny = frame[:2]
    corner = hex_tiling((minx + 3000.0, miny + 2000.0, minx + 6000.0, miny + 5000.0), 800.0, frame)
    corner = corner.set_index("id")
    assert set(corner.index) <= set(whole.index)
    assert corner.geometry.geom_equals_exact(whole.geometry.reindex(corner.index), tolerance=1e-6).all()


def test_clusters_are_numbered_north_west_to_south_east(built):
    name, _, _, layouts = built
    count = PARAMS[name]["count"]
    ids = list(layouts["clusters"].grids["id"])
    assert set(ids) <= {f"K{k + 1:02d}" for k in range(count)}
    assert layouts["clusters"].source == f"{count} clusters of enterprises (k-means, workforce-weighted)"


def test_network_voronoi_gives_enterprises_to_the_post_reaching_them_first(built):
    _, site, specs, layouts = built
    layout = layouts["network_voronoi"]
    given = specs["network_voronoi"]["post_nodes"]
    assert set(layout.posts["node"]) <= set(given)
    dropped = len(given) - len(layout.posts)
    assert (dropped > 0) == any("dropped" in w for w in layout.warnings)
    _, which = site.router.nearest_source(layout.posts["node"])
    fastest = layout.posts["grid"].to_numpy()[which[site.router.index(site.enterprises["node"])]]
    held = assign_to_polygons(site.enterprises, layout.grids).to_numpy()
    assert (held != fastest).mean() <= 0.02
    misplaced = int((held != fastest).sum())
    assert (misplaced > 0) == any("another post" in w for w in layout.warnings)


def test_network_voronoi_counts_enterprises_whose_node_is_across_a_border(helsinki_site):
    """On the shipped sites an enterprise's node is its nearest, so its point lies in that node's cell; a
    node given otherwise (here: moved onto the other post) is counted in a warning, not hidden."""
    posts = [int(n) for n in helsinki_site.stations["node"]]
    layout = generate(helsinki_site, {"generator": "network_voronoi", "post_nodes": posts}, 1, SEED)
    assert not any("another post" in w for w in layout.warnings)
    ents = helsinki_site.enterprises.copy()
    grid_of = assign_to_polygons(ents, layout.grids)
    first = grid_of.index[grid_of == layout.posts["grid"].iloc[0]][0]
    ents.loc[first, "node"] = layout.posts["node"].iloc[1]
    moved = generate(
        dataclasses.replace(helsinki_site, enterprises=ents),
        {"generator": "network_voronoi", "post_nodes": posts},
        1,
        SEED,
    )
    assert any(w.startswith("1 enterprise(s) lie in the grid of another post") for w in moved.warnings)


def test_jurisdictions_one_grid_per_station_with_enterprises(built):
    _, site, _, layouts = built
    layout = layouts["jurisdictions"]
    assert set(layout.grids["id"]) == set(site.enterprises["station"]) - {""}
    assert set(layout.grids["id"]) <= set(site.stations["id"])


def test_registry_names_the_parameters_each_function_takes():
    for name, (function, required, description) in GENERATORS.items():
        params = inspect.signature(function).parameters
        assert {"site", "echelons", *required} <= set(params), name
        assert description and "\n" not in description


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"generator": "triangles", "cell_m": 500}, "generator"),
        ({"cell_m": 500}, "generator"),
        ({"generator": "hexagons"}, "cell_m"),
        ({"generator": "hexagons", "cell_m": -5}, "cell_m"),
        ({"generator": "squares", "cell_m": 0}, "cell_m"),
        ({"generator": "clusters", "count": 2.5}, "count"),
        ({"generator": "hexagons", "cell_m": 800, "cellsize": 3}, "cellsize"),
        ({"generator": "network_voronoi", "post_nodes": []}, "post_nodes"),
        ({"generator": "network_voronoi", "post_nodes": [-1]}, "post_nodes"),
        ({"generator": "clusters", "count": 10_000}, "count"),
    ],
)
def test_generate_refuses_bad_specs_in_one_line(helsinki_site, spec, field):
    with pytest.raises(ConfigError) as err:
        generate(helsinki_site, spec, 1, SEED)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{field}:"), message
