"""Marks every figure shares: the SYNTHETIC stamp, a scale bar, map axes fitted to the data without raw
coordinates, and text wrapped to a figure's width.

Used by the site map (``sim.site.plot_site``), the figures of a comparison (``sim.analysis.plot_results``)
and the ladder's waterfall (``sim.analysis.plot_ladder``), so that they all say SYNTHETIC the same way.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable

from matplotlib import patheffects

SYNTHETIC_COLOUR = "#b2182b"
SYNTHETIC_BANNER = "SYNTHETIC site: shapes, positions and facilities are not surveyed"
HALO = [patheffects.withStroke(linewidth=2.5, foreground="white")]


def stamp_synthetic(fig, maps: Iterable = (), banner: bool = True, zorder: float = 0.5) -> None:
    """Say SYNTHETIC on a figure of a synthetic site: a red line above everything (``banner``; saved with
    ``bbox_inches="tight"``, which takes in text outside the figure) and a large watermark in the corner of
    each map axes in ``maps``, drawn under the data (``zorder``: a map that fills its land at zorder 1
    passes 1.5, or the land hides the watermark)."""
    if banner:
        fig.text(
            0.0,
            1.005,
            SYNTHETIC_BANNER,
            ha="left",
            va="bottom",
            fontsize=11,
            weight="bold",
            color=SYNTHETIC_COLOUR,
            bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": SYNTHETIC_COLOUR, "lw": 1.2},
        )
    for ax in maps:
        ax.text(
            0.99,
            0.01,
            "SYNTHETIC",
            transform=ax.transAxes,
            fontsize=20,
            color=SYNTHETIC_COLOUR,
            alpha=0.3,
            ha="right",
            va="bottom",
            weight="bold",
            zorder=zorder,  # under roads and incidents: it marks the map without hiding what is on it
        )


def nice_length(span_m: float, fraction: float = 0.2) -> float:
    """A round length (1, 2 or 5 x 10^k metres) of about ``fraction`` of ``span_m``, never longer."""
    target = max(span_m * fraction, 1.0)
    exponent = math.floor(math.log10(target))
    return max(m * 10**exponent for m in (1, 2, 5) if m * 10**exponent <= target)


def scale_bar(ax, fontsize: float = 9) -> float:
    """A black bar of a round number of metres or km in the lower-left corner, labelled; the axes' limits
    must be set (in metres) before. Returns the bar's length in metres."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length(x1 - x0)
    x, y = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
    ax.plot([x, x + length], [y, y], color="black", linewidth=3, solid_capstyle="butt", zorder=14)
    for end in (x, x + length):
        ax.plot([end, end], [y - (y1 - y0) * 0.008, y + (y1 - y0) * 0.008], color="black", lw=1.2, zorder=14)
    ax.text(
        x + length / 2,
        y + (y1 - y0) * 0.015,
        f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m",
        ha="center",
        va="bottom",
        fontsize=fontsize,
        zorder=14,
        path_effects=HALO,
    )
    return length


def fit_map(ax, bounds: tuple[float, float, float, float], margin: float = 0.03) -> tuple[float, float]:
    """Limits of a map axes: ``bounds`` (min x, min y, max x, max y, metres) plus a margin, equal aspect,
    no ticks and no coordinates (so no '1e6' offset either). Returns the width and height shown, metres."""
    minx, miny, maxx, maxy = bounds
    pad = margin * max(maxx - minx, maxy - miny, 1.0)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    return maxx - minx + 2 * pad, maxy - miny + 2 * pad


def fit_height_to_maps(fig, maps, rounds: int = 4) -> None:
    """Set the height of a figure (constrained layout) so that its equal-aspect maps fill the boxes the
    layout gives them, keeping its width: a map flatter than its box would leave a blank band above and
    under it, a taller one a band beside it.

    Each round lays the figure out without rendering it (``draw_without_rendering``: the same layout and
    positions as a full draw, without painting every road of every map, which cost most of a map's time)."""
    maps = list(maps)
    if not maps:
        return
    rows = maps[0].get_subplotspec().get_geometry()[0]
    for _ in range(rounds):
        fig.draw_without_rendering()
        width, height = fig.get_size_inches()
        given = [a.get_position(original=True) for a in maps]
        drawn = [a.get_position() for a in maps]
        spare = min(g.height - d.height for g, d in zip(given, drawn, strict=True)) * height
        missing = min(
            (g.width - d.width) * width * (d.height * height) / max(d.width * width, 1e-9)
            for g, d in zip(given, drawn, strict=True)
        )
        change = rows * (missing - spare)
        if abs(change) < 0.03:
            return
        fig.set_size_inches(width, max(height + change, 1.0))


def union_bounds(*frames) -> tuple[float, float, float, float]:
    """The bounds of every non-empty GeoDataFrame / GeoSeries given."""
    boxes = [f.total_bounds for f in frames if f is not None and len(f)]
    boxes = [b for b in boxes if all(math.isfinite(v) for v in b)]
    if not boxes:
        return (0.0, 0.0, 1.0, 1.0)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def wrap(text: str, width_in: float, fontsize: float) -> str:
    """Wrap each line of ``text`` to about ``width_in`` inches at ``fontsize`` points (DejaVu Sans: a
    character is about 0.55 of the font size wide on average)."""
    chars = max(20, int(width_in * 72 / (0.55 * fontsize)))
    return "\n".join(textwrap.fill(line, chars) if line else "" for line in text.split("\n"))
