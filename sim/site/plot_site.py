"""The site map: roads and bridges, islands, enterprises by kind, stations and their jurisdictions, fire
stations, grids, echelon posts, drone nests, and the areas each post reaches within the 1-3-5 minute targets.

A pure function of the site and its derived layers; draws nothing the figure does not explain.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.fonts import with_figure_fonts
from sim.plotting import fit_height_to_maps, fit_map, scale_bar, stamp_synthetic, union_bounds, wrap
from sim.site.site import Site

ROAD_WIDTH = {"motorway": 2.2, "trunk": 2.0, "primary": 1.4, "secondary": 1.0, "tertiary": 0.7}
# Areas within 1, 3, 5 (, more) minutes of a post: one sequential palette, dark (reached soonest) to light,
# opaque so that nested areas keep their legend colour; not blue (water) and not grey (roads).
ISO_COLOURS = ("#006d2c", "#41ab5d", "#a1d99b", "#e5f5e0")
PANEL_MAX_IN = (9.0, 8.0)  # the largest map panel, width and height in inches
STATION_COLOURS = plt.get_cmap("tab10").colors
FIRE_COLOUR = "#e31a1c"


def _first(value):
    return value[0] if isinstance(value, list) else value


def _bounds(site: Site, edges: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    """What a map must show: roads, islands, zones and every facility."""
    layers = (
        edges,
        site.islands,
        site.zones,
        site.enterprises,
        site.stations,
        site.fire_stations,
        site.nests,
    )
    return union_bounds(*layers)


def _panel_size(bounds: tuple[float, float, float, float]) -> tuple[float, float]:
    """Inches of a map panel that follows the site's shape (so no blank band beside or under it)."""
    aspect = (bounds[3] - bounds[1]) / max(bounds[2] - bounds[0], 1.0)
    width = min(PANEL_MAX_IN[0], PANEL_MAX_IN[1] / aspect)
    return width, width * aspect


def _label(ax, text: str, x: float, y: float, dy: float, width_in: float, **style) -> None:
    """A label beside a point: to its right unless it would run out of the frame (``width_in``: the map's
    width in inches), then to its left; above or below as ``dy`` says unless near the top or bottom."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    text_m = (len(text) * 0.62 * style.get("fontsize", 8) + 12) / 72 * (x1 - x0) / width_in
    right = x + text_m < x1
    up = dy > 0  # the preferred side, unless the point is near the top or bottom edge
    if y > y0 + 0.9 * (y1 - y0):
        up = False
    elif y < y0 + 0.12 * (y1 - y0):
        up = True
    ax.annotate(
        text,
        (x, y),
        xytext=(7 if right else -7, abs(dy) if up else -abs(dy)),
        textcoords="offset points",
        ha="left" if right else "right",
        va="bottom" if up else "top",
        annotation_clip=True,
        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.8, "lw": 0},
        **style,
    )


def _base(ax, site: Site, edges: gpd.GeoDataFrame, bounds) -> None:
    """Water, land, industrial zones, roads and bridges: the background of both panels."""
    ax.set_facecolor("#dceefa" if len(site.islands) else "white")
    if len(site.islands):
        site.islands.plot(ax=ax, color="#f4f1e8", edgecolor="#9aa7b0", linewidth=0.6, zorder=1)
    if len(site.zones):
        site.zones.plot(ax=ax, facecolor="none", edgecolor="#6b6b6b", linewidth=0.8, hatch="..", zorder=4)
    highway = edges["highway"].map(_first).astype(str)
    bridge = edges["bridge"].map(_first).astype(str).eq("yes") if "bridge" in edges else highway.eq("")
    widths = highway.map(ROAD_WIDTH).fillna(0.35).to_numpy()
    edges[~bridge].plot(ax=ax, color="#505050", linewidth=widths[~bridge.to_numpy()], zorder=5)
    if bridge.any():
        edges[bridge].plot(ax=ax, color="#7b3294", linewidth=3.0, zorder=6)
    fit_map(ax, bounds)
    scale_bar(ax)


def _stations(ax, site: Site, width_in: float) -> None:
    for k, s in enumerate(site.stations.itertuples()):
        ax.scatter(
            [s.geometry.x],
            [s.geometry.y],
            marker="s",
            s=110,
            color=STATION_COLOURS[k % 10],
            edgecolor="black",
            linewidth=0.8,
            zorder=11,
        )
        _label(
            ax,
            f"{s.id} {s.name}",
            s.geometry.x,
            s.geometry.y,
            5,
            width_in,
            fontsize=7.5,
            weight="bold",
            zorder=12,
        )


def _fire_stations(ax, site: Site, width_in: float) -> Line2D:
    """Fire stations as red crosses with their id and name; returns their legend entry."""
    fire = site.fire_stations
    for f in fire.itertuples():
        ax.scatter(
            [f.geometry.x], [f.geometry.y], marker="P", s=110, color=FIRE_COLOUR, edgecolor="black", zorder=11
        )
        _label(
            ax,
            f"{f.id} {f.name}",
            f.geometry.x,
            f.geometry.y,
            -5,
            width_in,
            fontsize=7,
            color="#99000d",
            zorder=12,
        )
    generated = ", generated placeholder" if fire["generated"].any() else ""
    return Line2D(
        [],
        [],
        marker="P",
        color="w",
        markerfacecolor=FIRE_COLOUR,
        markeredgecolor="k",
        markersize=9,
        label=f"fire station ({len(fire)}{generated})",
    )


def _legend(ax, handles: list, title: str, width_in: float) -> None:
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.0, -0.01),
        ncol=3 if width_in >= 7 else 2,
        fontsize=8,
        frameon=False,
        title=wrap(title, width_in, 8.5),
        title_fontsize=8.5,
        alignment="left",
    )


@with_figure_fonts
def site_figure(
    site: Site,
    edges: gpd.GeoDataFrame,
    isochrones: gpd.GeoDataFrame,
    jurisdictions: gpd.GeoDataFrame,
    time_factor: float,
):
    """Two panels: (a) who is where and who answers for it; (b) what the echelon posts reach in 1-3-5 min.
    The panels follow the site's shape; returns the figure, open (``draw_site`` saves it)."""
    bounds = _bounds(site, edges)
    panel_w, panel_h = _panel_size(bounds)
    fig, (ax_a, ax_b) = plt.subplots(
        1, 2, figsize=(2 * panel_w + 0.5, panel_h + 2.6), dpi=120, layout="constrained"
    )
    for ax in (ax_a, ax_b):
        _base(ax, site, edges, bounds)

    # (a) jurisdictions, grids, enterprises by kind, stations, drone nests
    for k, row in enumerate(jurisdictions.itertuples()):
        if row.geometry is not None:
            gpd.GeoSeries([row.geometry], crs=site.crs).plot(
                ax=ax_a, color=STATION_COLOURS[k % 10], alpha=0.22, zorder=2
            )
    if len(site.grids):
        site.grids.boundary.plot(ax=ax_a, color="#2b2b2b", linewidth=0.7, linestyle="--", zorder=7)
    kinds = sorted(site.enterprises["kind"].unique()) if len(site.enterprises) else []
    kind_colour = {k: plt.get_cmap("Set2")(i % 8) for i, k in enumerate(kinds)}
    for kind in kinds:
        sub = site.enterprises[site.enterprises["kind"] == kind]
        sizes = 4 + 10 * np.sqrt(sub["workforce"].to_numpy() / 100.0)
        ax_a.scatter(
            sub.geometry.x,
            sub.geometry.y,
            s=sizes,
            color=kind_colour[kind],
            edgecolor="#333333",
            linewidth=0.25,
            zorder=8,
        )
    _stations(ax_a, site, panel_w)
    fire_handle = _fire_stations(ax_a, site, panel_w)
    if len(site.nests):
        ax_a.scatter(
            site.nests.geometry.x,
            site.nests.geometry.y,
            marker="X",
            s=38,
            color="#5e3c99",
            edgecolor="white",
            linewidth=0.6,
            zorder=13,
        )
    handles = [
        Patch(color="grey", alpha=0.3, label=f"station jurisdiction ({len(site.stations)} stations)"),
        fire_handle,
        Line2D([], [], color="#2b2b2b", linestyle="--", label=f"emergency grid ({len(site.grids)})"),
        Patch(facecolor="none", edgecolor="#6b6b6b", hatch="..", label="industrial zone"),
        Line2D([], [], color="#7b3294", linewidth=3, label="bridge"),
        Line2D(
            [],
            [],
            marker="X",
            color="w",
            markerfacecolor="#5e3c99",
            markersize=9,
            label=f"drone nest ({len(site.nests)})",
        ),
    ]
    handles += [
        Line2D(
            [],
            [],
            marker="o",
            color="w",
            markerfacecolor=kind_colour[k],
            markeredgecolor="#333333",
            markersize=6,
            label=f"{k.replace('_', ' ')} ({(site.enterprises['kind'] == k).sum()})",
        )
        for k in kinds
    ]
    _legend(ax_a, handles, f"{len(site.enterprises)} enterprises by kind (marker size ~ workforce)", panel_w)
    ax_a.set_title(
        wrap(
            "(a) Police stations and their jurisdictions (first reached by road), fire stations, grids, "
            "enterprises, drone nests",
            panel_w,
            10,
        ),
        fontsize=10,
        loc="left",
    )

    # (b) echelon posts and the areas they reach within each target time
    colours = ISO_COLOURS[: len(isochrones)]
    for t, colour in zip(
        isochrones.sort_values("threshold_s", ascending=False).itertuples(), colours[::-1], strict=True
    ):
        if t.geometry is not None:
            gpd.GeoSeries([t.geometry], crs=site.crs).plot(ax=ax_b, color=colour, zorder=3)
    if len(site.grids):
        site.grids.boundary.plot(ax=ax_b, color="#2b2b2b", linewidth=0.6, linestyle="--", zorder=7)
        for g in site.grids.itertuples():
            p = g.geometry.representative_point()
            ax_b.annotate(g.id, (p.x, p.y), fontsize=5, color="#2b2b2b", ha="center", zorder=12)
    if len(site.posts):
        ax_b.scatter(
            site.posts.geometry.x,
            site.posts.geometry.y,
            marker="^",
            s=40,
            color="#d7191c",
            edgecolor="black",
            linewidth=0.5,
            zorder=10,
        )
    _stations(ax_b, site, panel_w)
    labels = [
        f"within {t.threshold_s / 60:g} min of a post ({t.area_km2:.1f} km² of road buffer)"
        for t in isochrones.sort_values("threshold_s").itertuples()
    ]
    handles = [Patch(color=c, label=lab) for c, lab in zip(colours, labels, strict=True)]
    handles += [
        Line2D(
            [],
            [],
            marker="^",
            color="w",
            markerfacecolor="#d7191c",
            markeredgecolor="k",
            markersize=8,
            label=f"echelon post ({len(site.posts)}, one per grid)",
        ),
        Line2D(
            [],
            [],
            marker="s",
            color="w",
            markerfacecolor="grey",
            markeredgecolor="k",
            markersize=8,
            label="police station",
        ),
    ]
    _legend(
        ax_b,
        handles,
        f"Road travel time from the nearest echelon post at emergency speed (free-flow x "
        f"{time_factor:g}), counted from departure; mobilisation not included; darker = sooner",
        panel_w,
    )
    ax_b.set_title(
        wrap("(b) Echelon posts and the areas they reach within the 1-3-5 minute targets", panel_w, 10),
        fontsize=10,
        loc="left",
    )

    fig.suptitle(
        wrap(f"Site '{site.name}': {site.label}", 2 * panel_w, 12)
        + f"\nRoad network {len(site.graph)} nodes, {site.graph.number_of_edges()} edges; CRS {site.crs}",
        fontsize=12,
        x=0.01,
        ha="left",
    )
    if site.synthetic:  # the title says so too (the site's label)
        stamp_synthetic(fig, maps=(ax_a, ax_b), banner=False)
    for ax in (ax_a, ax_b):  # geopandas labels projected axes 'Easting [metre]': no coordinates are shown
        ax.set_xlabel("")
        ax.set_ylabel("")
    fit_height_to_maps(fig, (ax_a, ax_b))
    return fig


@with_figure_fonts
def draw_site(
    site: Site,
    edges: gpd.GeoDataFrame,
    isochrones: gpd.GeoDataFrame,
    jurisdictions: gpd.GeoDataFrame,
    time_factor: float,
    path: Path,
) -> Path:
    """``site_figure`` saved to ``path``."""
    fig = site_figure(site, edges, isochrones, jurisdictions, time_factor)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path
