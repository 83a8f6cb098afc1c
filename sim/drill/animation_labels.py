"""The animation's words, English and Chinese, until the drill's message catalogue supplies them.

Why a dict: the caller passes ``labels`` (its catalogue's entries) and these fill whatever it leaves out, so
a frame never shows a key instead of a word.
"""

from __future__ import annotations

from collections.abc import Mapping

DAY_S = 86_400.0

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Drill replay",
        "synthetic": "SYNTHETIC site",
        "clock": "Drill time",
        "day": "day {n}",
        "inject": "Inject",
        "police": "police car",
        "echelon": "echelon team",
        "fire_engine": "fire engine",
        "hazmat_unit": "hazmat unit",
        "drone": "drone",
        "own_security": "enterprise guards",
        "base": "base (station, post, nest)",
        "incident": "incident",
        "incident_over": "incident over",
        "leak": "chemical leak: affected area",
        "road": "road",
    },
    "zh": {
        "title": "演练回放",
        "synthetic": "虚拟场地",
        "clock": "演练时间",
        "day": "第{n}天",
        "inject": "注入",
        "police": "警车",
        "echelon": "应急梯队",
        "fire_engine": "消防车",
        "hazmat_unit": "危化品处置车",
        "drone": "无人机",
        "own_security": "企业保安",
        "base": "驻地（派出所、梯队点、机巢）",
        "incident": "警情",
        "incident_over": "已处置警情",
        "leak": "化学品泄漏影响范围",
        "road": "道路",
    },
}


def clock_text(t_s: float, labels: Mapping[str, str]) -> str:
    """'Drill time 08:05:30' (time of day of the simulated period), with the day after the first."""
    day, rest = divmod(int(t_s), int(DAY_S))
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    text = f"{labels['clock']} {h:02d}:{m:02d}:{s:02d}"
    return text + (f" ({labels['day'].format(n=day + 1)})" if day else "")
