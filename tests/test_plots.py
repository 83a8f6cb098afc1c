"""What the figures draw, read back from the figures themselves: both moments and each tier's own target
in the arrival ECDFs, targets and readable sizes in the compliance bars, one map per policy without raw
coordinates, one group per incident kind in the outcome bars, SYNTHETIC on every figure of a synthetic site,
and a site map fitted to its site with labels inside the frame."""

from __future__ import annotations

import dataclasses
import functools
import math

import geopandas as gpd
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from logs import Response, Story, frames
from matplotlib.colors import to_rgb
from PIL import Image
from shapely.geometry import LineString, Point

from sim.analysis import ladder, metrics
from sim.analysis.plot_ladder import waterfall_figure
from sim.analysis.plot_results import (
    DPI,
    arrival_ecdf_figure,
    compliance_figure,
    compliance_width_in,
    incident_map_figure,
    outcome_table,
    outcomes_by_kind_figure,
    places,
    plot_compliance,
    tier_targets,
)
from sim.plotting import nice_length

X0, Y0 = 405_000.0, 3_340_000.0  # UTM metres, as on a real site: large enough for a '1e6' axis offset
DRONE_PLACE = (X0 + 4_000.0, Y0 + 3_000.0)
OUTCOMES = {
    "theft": ("escaped", "intercepted"),
    "dispute": ("escalated", "calmed"),
    "fire": ("flashover", "controlled"),
    "illegal_drone": ("operator_left", "operator_caught"),
}
ACTOR = {1: ("own_security", 60.0), 2: ("echelon", 180.0), 3: ("police", 300.0)}


def _story(i: int, kind: str, police_only: bool, slow_s: float) -> Story:
    t0 = 1000.0 * i
    drone = kind == "illegal_drone"
    bad, good = OUTCOMES[kind]
    if police_only:
        targets = {1: ("police", 300.0)}
        responses = (Response(f"P{i}", "police", 1, t0 + 60, t0 + 60 + 200 + 40 * (i % 5)),)
    elif drone:  # police only for an illegal flight
        targets = {3: ("police", 300.0)}
        responses = (Response(f"P{i}", "police", 3, t0 + 45, t0 + 45 + 200 + 40 * (i % 5)),)
    else:
        targets = ACTOR
        responses = (
            Response(f"G{i}", "own_security", 1, t0 + 35, t0 + 35 + 20 + 10 * (i % 4)),
            Response(f"E{i}", "echelon", 2, t0 + 40, t0 + 40 + 100 + slow_s + 30 * (i % 4)),
            Response(f"P{i}", "police", 3, t0 + 45, t0 + 45 + 200 + 40 * (i % 5)),
        )
    x, y = DRONE_PLACE if drone else (X0 + 150.0 * i, Y0 + 90.0 * (i % 7))
    outcome = bad if (i % 3 == 0 or police_only) and not (police_only and i % 4 == 1) else good
    return Story(i, kind, t0, t0 + 30.0, targets=targets, responses=responses, outcome=outcome, x_m=x, y_m=y)


def _table(police_only: bool = False, slow_s: float = 0.0, n: int = 36) -> pd.DataFrame:
    """n incidents: half of them illegal flights at one watched place, the rest thefts, disputes, fires."""
    kinds = ["theft", "illegal_drone", "dispute", "illegal_drone", "fire", "illegal_drone"]
    stories = [_story(i, kinds[i % len(kinds)], police_only, slow_s) for i in range(n)]
    return metrics.incident_table(*frames(*stories))


@pytest.fixture(scope="module")
def four():
    """Four policies, the baseline without own-security or echelon tiers; echelon_open = echelon_135."""
    fast = _table()
    return {
        "police_only": _table(police_only=True),
        "echelon_135": fast,
        "echelon_open": fast.copy(),
        "echelon_overflow": _table(slow_s=60.0),
    }


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.texts] + [t.get_text() for ax in fig.axes for t in ax.texts]


def _target_lines(ax) -> list[float]:
    """x of the vertical lines (axvline) of an axes: the target marks."""
    xs = [line.get_xdata() for line in ax.lines]
    return sorted(float(x[0]) for x in xs if len(x) == 2 and x[0] == x[1])


def _summary(policies, pooled: bool = False) -> pd.DataFrame:
    """A replication summary's compliance rows: mean +- ci95_half (Student t), or, ``pooled``, an estimate
    with its own interval (ci95_low, ci95_high) and how it was computed. A policy without a tier has a row
    with no value, as summarise_replications writes it."""
    rows = []
    for p_i, policy in enumerate(policies):
        for t_i, tier in enumerate(["own_security", "echelon", "police"]):
            for count_from in ("alarm", "incident"):
                mean = (20 + 10 * p_i + 25 * t_i + (0 if count_from == "alarm" else -15)) / 100
                if policy == "police_only" and tier != "police":
                    mean = math.nan
                row = {"policy": policy, "metric": f"tier_{tier}_target_met_from_{count_from}", "n": 10}
                if pooled:  # a tier the policy lacks is a NaN mean over replications
                    row |= {"estimate": mean, "ci95_low": mean - 0.05, "ci95_high": mean + 0.09}
                    row["how"] = (
                        "mean over replications, Student-t 95% interval"
                        if math.isnan(mean)
                        else "pooled over replications (count / count), Wilson 95% interval"
                    )
                else:
                    row |= {"mean": mean, "ci95_half": 0.07}
                rows.append(row)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------- ECDF


def test_ecdf_draws_from_the_alarm_and_from_the_incident_with_each_tiers_own_target(four):
    fig = arrival_ecdf_figure(four)
    try:
        panels = {ax.get_title().split(" (")[0]: ax for ax in fig.axes if ax.get_title()}
        own = {"own security": [1.0], "echelon": [3.0], "police": [5.0]}  # minutes, not 1/3/5 everywhere
        for tier, target in own.items():
            for start in ("alarm", "incident"):
                ax = panels[f"{tier}, from the {start}"]
                assert _target_lines(ax) == target, (tier, start)
                assert ax.get_xlabel().startswith(f"minutes from the {start}")
        suptitle = fig._suptitle.get_text()
        assert "counted from the alarm (the report reaching a command room)" in suptitle
        assert "from the incident's occurrence" in suptitle
    finally:
        plt.close(fig)


def test_overlapping_policies_are_named_and_drawn_in_distinct_styles(four):
    fig = arrival_ecdf_figure(four)
    try:
        ax = next(ax for ax in fig.axes if ax.get_title().startswith("echelon, from the alarm"))
        assert "same curve: echelon_135 = echelon_open" in ax.get_title().replace("\n", " ")
        assert "echelon_overflow" not in ax.get_title()  # slower: a curve of its own
        curves = [line for line in ax.lines if len(line.get_xdata()) > 2]
        assert len(curves) == 3  # police_only has no echelon tier
        styles = {(line.get_linestyle(), line.get_linewidth()) for line in curves}
        assert len(styles) == 3
        widths = [line.get_linewidth() for line in curves]
        assert widths == sorted(widths, reverse=True)  # drawn widest first, the later ones on top
    finally:
        plt.close(fig)


def test_tier_targets_of_the_area_class_reading_are_each_labelled():
    stories = [
        Story(
            i,
            "theft",
            100.0 * i,
            100.0 * i + 20,
            targets={1: ("first_responder", target)},
            responses=(Response(f"E{i}", "echelon", 1, 100.0 * i + 30, 100.0 * i + 150),),
            area_class=area,
        )
        for i, (area, target) in enumerate([("key", 60.0), ("centre", 180.0), ("other", 300.0)] * 2)
    ]
    table = metrics.incident_table(*frames(*stories))
    assert tier_targets({"area_classes": table}, "first_responder") == [
        (60.0, "key site 1 min"),
        (180.0, "industrial zone 3 min"),
        (300.0, "elsewhere 5 min"),
    ]
    assert tier_targets({"a": _table()}, "echelon") == [(180.0, "3 min")]
    fig = arrival_ecdf_figure({"area_classes": table})
    try:
        assert _target_lines(fig.axes[0]) == [1.0, 3.0, 5.0]
        labels = {t.get_text().strip() for t in fig.axes[0].texts}
        assert {"key site 1 min", "industrial zone 3 min", "elsewhere 5 min"} <= labels
    finally:
        plt.close(fig)


# ------------------------------------------------------------------------------------------- compliance


def test_compliance_names_each_tiers_target_and_keeps_values_off_the_whiskers():
    summary = _summary(["police_only", "echelon_135", "echelon_open", "echelon_overflow"])
    targets = {"own_security": "1 min", "echelon": "3 min", "police": "5 min"}
    fig = compliance_figure(summary, ["own_security", "echelon", "police"], targets)
    try:
        top = fig.axes[0]
        ticks = [t.get_text().replace("\n", " ") for t in top.get_xticklabels()]
        assert ticks == ["own security (target 1 min)", "echelon (target 3 min)", "police (target 5 min)"]
        for ax in fig.axes:
            labels = [t for t in ax.texts if t.get_text().endswith("%")]
            assert len(labels) == 1 + 3 * 3  # no bar (and no label) where police_only has no such tier
            for t in labels:
                value = float(t.get_text()[:-1])
                assert t.get_position()[1] > value + min(7.0, 100 - value)  # above the whisker's cap
            own = [p.get_x() + p.get_width() / 2 for p in ax.patches if p.get_x() < 0.5]
            assert len(own) == 3 and sum(own) / 3 == pytest.approx(0.0)  # no empty slot for police_only
    finally:
        plt.close(fig)


def test_compliance_draws_a_summarys_own_intervals():
    """A summary that gives each share's interval (pooled, Wilson) is drawn with it, and says so."""
    fig = compliance_figure(_summary(["police_only", "echelon_135"], pooled=True))
    try:
        for ax in fig.axes:
            for t in (t for t in ax.texts if t.get_text().endswith("%")):
                value = float(t.get_text()[:-1])
                assert t.get_position()[1] > value + 9.0  # above ci95_high
        title = fig._suptitle.get_text().replace("\n", " ")
        assert "Wilson 95% interval" in title and "Student-t" not in title  # how the drawn bars were made
    finally:
        plt.close(fig)


def test_compliance_of_four_policies_fits_a_report_page(tmp_path):
    summary = _summary(["police_only", "echelon_135", "echelon_open", "echelon_overflow"])
    path = plot_compliance(summary, tmp_path / "compliance.png", ["own_security", "echelon", "police"])
    width, height = Image.open(path).size
    assert 900 <= width <= 1800 and height <= 1400
    assert compliance_width_in(100, 10) * DPI <= 1800  # many tiers and policies: still a page wide


# ------------------------------------------------------------------------------------------ incident map


def test_incident_map_has_one_map_per_policy_baseline_first_without_coordinates(four, tmp_path):
    roads = gpd.GeoDataFrame(
        geometry=[LineString([(X0 - 500, Y0 - 500), (X0 + 6_000, Y0 + 4_000)])], crs="EPSG:32651"
    )
    stations = gpd.GeoDataFrame({"id": ["S1"]}, geometry=[Point(X0, Y0 + 500)], crs="EPSG:32651")
    order = ["echelon_135", "echelon_open", "police_only", "echelon_overflow"]
    fig = incident_map_figure(
        {p: four[p] for p in order},
        roads,
        tier="echelon",
        facilities={"police station": stations},
        baseline="police_only",
    )
    try:
        fig.canvas.draw()
        maps = [ax for ax in fig.axes if ax.get_title()]
        assert [ax.get_title().split("\n")[0] for ax in maps] == [
            "police_only (baseline)",
            "echelon_135",
            "echelon_open",
            "echelon_overflow",
        ]
        assert "no echelon tier: police shown" in maps[0].get_title()
        for ax in maps:
            assert len(ax.get_xticks()) == 0 and len(ax.get_yticks()) == 0
            assert ax.xaxis.get_offset_text().get_text() == ""
            assert ax.yaxis.get_offset_text().get_text() == ""
            assert any(t.get_text() in ("1 km", "2 km") for t in ax.texts)  # the scale bar
            assert "18" in [t.get_text() for t in ax.texts]  # 18 illegal flights at one watched place
        assert not any("e6" in text or "e+06" in text for text in _texts(fig))
        fig.savefig(tmp_path / "map.png", dpi=DPI, bbox_inches="tight")
        assert 1000 <= Image.open(tmp_path / "map.png").size[0] <= 1800  # 2 x 2 maps, a page wide
    finally:
        plt.close(fig)


def test_incidents_at_one_place_are_one_marker_with_their_count(four):
    spots = places(four["echelon_135"], 3, "alarm")  # police: the tier illegal flights get
    drone = spots[spots["drone"]]
    assert len(drone) == 1 and int(drone["n"].iloc[0]) == 18
    assert int(drone["met"].iloc[0] + drone["missed"].iloc[0]) == 18
    assert spots["n"].sum() == 36


# ---------------------------------------------------------------------------------------------- outcomes


@functools.cache
def _rows_and_tables():
    """Headline rows of 3 replications of two policies, their incident tables pooled per policy, and the
    replication summary (pooled shares with Wilson intervals)."""
    rows, tables, counts = [], {}, []
    for policy, police_only in (("police_only", True), ("echelon_135", False)):
        per_rep = []
        for rep in range(3):
            table = _table(police_only=police_only, n=30 + 6 * rep)
            events, _ = frames(*[_story(i, "theft", police_only, 0.0) for i in range(1)])
            n: dict[str, int] = {}
            rows.append(
                {"policy": policy, "replication": rep} | metrics.headline(table, events, 1e6, counts=n)
            )
            counts += [(policy, rep, m, k) for m, k in n.items()]
            per_rep.append(table.assign(replication=rep))
        tables[policy] = pd.concat(per_rep, ignore_index=True)
    rows = pd.DataFrame(rows)
    counts = pd.DataFrame(counts, columns=["policy", "replication", "metric", "n"])
    return rows, tables, metrics.summarise_replications(rows, counts)


def test_outcome_table_is_the_summarys_pooled_share_with_its_wilson_interval():
    rows, tables, summary = _rows_and_tables()
    table = outcome_table(summary)
    assert set(table["kind"]) == {"theft", "dispute", "fire", "illegal_drone"}
    theft = table[(table["policy"] == "echelon_135") & (table["kind"] == "theft")].iloc[0]
    pooled = tables["echelon_135"][tables["echelon_135"]["kind"] == "theft"]
    k, n = int(pooled["outcome"].eq("escaped").sum()), int(pooled["outcome"].notna().sum())
    assert (
        theft["metric"] == "escape_rate_theft" and theft["n"] == n and theft["mean"] == pytest.approx(k / n)
    )
    assert (theft["low"], theft["high"]) == pytest.approx(metrics.wilson_interval(k, n))
    assert (table["low"] <= table["mean"]).all() and (table["mean"] <= table["high"]).all()
    unpooled = outcome_table(metrics.summarise_replications(rows))  # no counts: Student t, cut to [0, 1]
    assert set(unpooled["interval"]) == {"student_t_replications"} and unpooled["n"].isna().all()
    assert (unpooled["low"].dropna() >= 0).all() and (unpooled["high"].dropna() <= 1).all()


def test_outcome_figure_has_one_group_per_kind():
    fig = outcomes_by_kind_figure(outcome_table(_rows_and_tables()[2]))
    try:
        (ax,) = fig.axes
        groups = [t.get_text().split(":")[0] for t in ax.get_yticklabels()]
        assert groups == ["theft", "dispute", "illegal drone", "fire"]
        assert len(ax.patches) == 4 * 2  # a bar per kind and policy
        assert "Wilson" in fig._suptitle.get_text()
    finally:
        plt.close(fig)


# ------------------------------------------------------------------------------------------- SYNTHETIC


def _waterfall(synthetic: bool):
    steps = ["guards"]
    values = {frozenset(): [0.8, 0.7], frozenset(steps): [0.5, 0.4]}
    rows = pd.DataFrame(
        [
            {"rung": ladder.rung_label(s, steps, "base"), "replication": r, "escape_rate_theft": x}
            for s, v in values.items()
            for r, x in enumerate(v)
        ]
    )
    contributions = ladder.contributions_table(rows, ["escape_rate_theft"], steps, "base", shapley=False)
    totals = ladder.totals_table(rows, ["escape_rate_theft"], steps, "base", shapley=False)
    return waterfall_figure(contributions, totals, "a ladder", synthetic=synthetic)


@pytest.mark.parametrize(
    "draw",
    [
        lambda four, s: arrival_ecdf_figure(four, synthetic=s),
        lambda four, s: compliance_figure(_summary(list(four)), synthetic=s),
        lambda four, s: incident_map_figure({"echelon_135": four["echelon_135"]}, None, synthetic=s),
        lambda four, s: outcomes_by_kind_figure(outcome_table(_rows_and_tables()[2]), synthetic=s),
        lambda four, s: _waterfall(s),
    ],
    ids=["ecdf", "compliance", "map", "outcomes", "waterfall"],
)
def test_every_figure_of_a_synthetic_site_says_so(four, draw):
    for synthetic in (True, False):
        fig = draw(four, synthetic)
        try:
            assert any("SYNTHETIC" in text for text in _texts(fig)) == synthetic
        finally:
            plt.close(fig)


# -------------------------------------------------------------------------------------------- site map


def test_scale_bar_lengths_are_round():
    assert [nice_length(s) for s in (900, 4_000, 22_000, 130_000)] == [100, 500, 2_000, 20_000]


def test_site_map_follows_the_site_keeps_labels_inside_orders_the_135_colours_and_stamps(helsinki_site):
    from sim.site.isochrones import isochrone_polygons, jurisdiction_polygons, post_reach_s, road_edges
    from sim.site.plot_site import site_figure

    site = dataclasses.replace(helsinki_site, synthetic=True)  # to see the stamp too
    edges = road_edges(site)
    isochrones = isochrone_polygons(site, edges, post_reach_s(site, 0.75), [60.0, 180.0, 300.0])
    fig = site_figure(site, edges, isochrones, jurisdiction_polygons(site, edges), 0.75)
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        maps = fig.axes[:2]
        for ax in maps:
            frame = ax.get_window_extent(renderer)
            for text in ax.texts:
                if text.get_text() and text.get_visible():
                    box = text.get_window_extent(renderer)
                    assert frame.x0 - 1 <= box.x0 and box.x1 <= frame.x1 + 1, text.get_text()
                    assert frame.y0 - 1 <= box.y0 and box.y1 <= frame.y1 + 1, text.get_text()
        width, height = fig.get_size_inches()
        assert height / width > 0.8  # central Helsinki is taller than wide: no 60% blank figure
        for ax in maps:
            given, drawn = ax.get_position(original=True), ax.get_position()
            assert (given.height - drawn.height) * height < 0.15  # no blank band above or under
            assert (given.width - drawn.width) * width < 0.15  # nor beside
        legend = maps[1].get_legend()
        areas = [
            (h.get_label(), to_rgb(h.get_facecolor()))
            for h in legend.legend_handles
            if h.get_label().startswith("within")
        ]
        assert [label.split(" of ")[0] for label, _ in areas] == [
            "within 1 min",
            "within 3 min",
            "within 5 min",
        ]
        lightness = [sum(rgb) for _, rgb in areas]
        assert lightness == sorted(lightness) and len(set(lightness)) == 3  # dark (soonest) to light
        assert sum(t.get_text() == "SYNTHETIC" for ax in maps for t in ax.texts) == 2
    finally:
        plt.close(fig)
