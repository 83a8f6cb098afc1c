"""Who could move in a drill, and from where: one row per unit, written as ``units.csv`` beside the log.

Why: the animation and the after-action report are drawn from the record alone (events, incidents, this
table), never from a live model, so each unit's base must be in the record: its road node (ground units),
its nest (drones), or its enterprise (guards).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

COLUMNS = ["unit", "unit_kind", "base_node", "x_m", "y_m", "station", "grid"]
GUARDS = "own_security"  # the enterprise's guard force (agents/enterprise.py)


def units_frame(model: Any) -> pd.DataFrame:
    """Every ground unit, drone and enterprise guard force of an ``EchelonModel``, with its base.

    Ground units: ``base_node`` is a node of ``site.graph`` and x/y its projected coordinates. Drones (patrol
    and docked): base_node -1, x/y the nest. Guards (``<eid>/guards``): the enterprise's node and place."""
    nodes = model.site.graph.nodes
    rows = [
        (
            u.unit_id,
            u.unit_kind,
            int(u.base_node),
            float(nodes[u.base_node]["x"]),
            float(nodes[u.base_node]["y"]),
            str(u.station),
            str(getattr(u, "grid", "")),
        )
        for u in model.units
    ]
    rows += [
        (d.unit_id, "drone", -1, float(d.nest_xy[0]), float(d.nest_xy[1]), "", "")
        for d in (*model.patrol_drones, *model.docked_drones)
    ]
    rows += [
        (e.guards_id, GUARDS, int(r.node), float(r.x_m), float(r.y_m), str(r.station), str(r.grid))
        for e in model.enterprises.values()
        for r in (e.record,)
    ]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype({"base_node": "int64", "x_m": "float64", "y_m": "float64"})
