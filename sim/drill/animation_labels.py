"""The animation's clock: the time of day, with the day after the first (its words come from the drill's
message catalogue, sim/drill/catalogue.py)."""

from __future__ import annotations

from collections.abc import Mapping

DAY_S = 86_400.0


def clock_text(t_s: float, labels: Mapping[str, str], start_s: float | None = None) -> str:
    """'Time 10:23:20 (+03:20)': the time of day of the simulated period (with the day after the first)
    and, when the drill's start is known, the drill time since it."""
    day, rest = divmod(int(t_s), int(DAY_S))
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    text = f"{labels['clock']} {h:02d}:{m:02d}:{s:02d}"
    if day:
        text += f" ({labels['day'].format(n=day + 1)})"
    if start_s is not None:
        since = max(0, int(t_s - start_s))
        text += (
            f"  +{since // 60:02d}:{since % 60:02d}"
            if since < 3600
            else f"  +{since // 3600}:{since % 3600 // 60:02d}:{since % 60:02d}"
        )
    return text
