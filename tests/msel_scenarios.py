"""Scenarios for the MSEL tests: one made by hand that uses every inject type and every field, and a
hypothesis strategy for scenarios that pass every check of sim/drill/scenario.py."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from sim.drill.scenario import INJECT_TYPES, clock

EVERY_FIELD: dict[str, Any] = {
    "id": "every-field_1",
    "title": {"en": "Every inject type, every field", "zh": "全部注入类型与字段"},
    "summary": "plain words, the same in every language: 一样",
    "source": {"en": 'made by hand for the tests; "quoted", with a comma', "zh": "为测试手工编写"},
    "config": ["site=daishan", "fleet.echelons_per_grid=2"],
    "policies": ["echelon_135", "echelon_open"],
    "start": "23:30:00",
    "duration": 7200.0,
    "luck": "seed",
    "rests_on": [{"en": "every delay at its median"}, "纯文本假设", {"en": "both", "zh": "两种"}, ""],
    "objectives": [
        {
            "id": "O1",
            "text": {"en": "Echelon within 3 min", "zh": "梯队3分钟到场"},
            "measure": "arrival",
            "incident": "I1",
            "unit_kind": "echelon",
            "count_from": "incident",
            "target_s": 180.0,
            "share": 0.5,
        },
        {"id": "O2", "text": "Stopped", "measure": "outcome", "incident": "I1", "expect": "intercepted"},
        {"id": "O3", "text": {"zh": "协调"}, "measure": "coordinated", "incident": "I2", "target_s": 600},
        {
            "id": "O(4): odd id",
            "text": "",
            "measure": "detected",
            "incident": "*",
            "by": "drone",
            "target_s": 90.5,
        },
    ],
    "injects": [
        {
            "at": "00:00",
            "type": "incident",
            "seq": 10,
            "incident": "I1",
            "kind": "theft",
            "enterprise": "E0412",
            "cross_district": True,
            "delivery": {"en": "one-key alarm terminal", "zh": "一键报警终端"},
            "sender": "guard",
            "receiver": {"zh": "指挥室"},
            "message": {"en": "A thief, <b>armed</b> & fast", "zh": "盗窃，嫌疑人持械"},
            "expected_action": {"en": "Dispatch"},
            "objective": "O1",
        },
        {
            "at": 30,
            "type": "second_alarm",
            "seq": 20,
            "incident": "I1",
            "station": "Gaoting",
            "channel": "call_110",
            "message": '第二次报警\nnew line, "quotes"',
        },
        {
            "at": "00:01:00",
            "type": "incident",
            "seq": 30,
            "incident": "I2",
            "kind": "dispute",
            "zone": "Xiushan Industrial Park",
            "enterprise_kind": "logistics",
            "cross_district": True,
        },
        {
            "at": "00:01:00",
            "type": "incident",
            "seq": 31,
            "incident": "I3",
            "kind": "fire",
            "place": "Pier 3",
        },
        {"at": "00:02:00.5", "type": "terminal_offline", "seq": 40, "enterprise": "E0412"},
        {"at": "2:30", "type": "terminal_online", "seq": 41, "enterprise": "E0412"},
        {"at": "00:03:00", "type": "road_closed", "seq": 50, "road": "Yushan Bridge"},
        {"at": "00:04:00", "type": "road_reopened", "seq": 51, "road": "yushan bridge"},
        {"at": "00:05:00", "type": "drones_grounded", "seq": 60, "delivery": "radio"},
        {"at": "00:06:00", "type": "drones_flying", "seq": 61},
        {"at": "00:07:00", "type": "unit_unavailable", "seq": 70, "unit": "echelon-R03C02"},
        {"at": "00:08:00", "type": "unit_back", "seq": 71, "unit": "echelon-R03C02"},
        {
            "at": "00:09:00",
            "type": "task_order",
            "seq": 80,
            "enterprises": ["E0412", "E0007"],
            "guards_extra": 2,
            "until": "00:40:00",
            "objective": "O(4): odd id",
        },
        {"at": "00:10:00", "type": "task_order", "seq": 81, "zone": "Xiushan Industrial Park"},
        {"at": "00:11:00", "type": "background", "seq": 90, "rate_multiplier": 2.5, "until": 5400.0},
    ],
    "decisions": [
        {
            "incident": "I1",
            "point": "dispatch",
            "tier": "echelon",
            "choice": "nearest free",
            "note": {"en": "the room chose", "zh": "指挥室选择"},
        },
        {"incident": "I2", "point": "ask_county", "choice": "yes"},
        {"incident": "I1", "point": "launch_drone", "choice": "no", "note": "no drone near"},
    ],
}

# --- a strategy for valid scenarios -------------------------------------------------------------------

# Not U+0085 (NEL): PyYAML writes it raw and reads it back as a space, in a scenario file (dump_scenario)
# as in an MSEL's details.
WORD_CHARS = st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(
    "\r\n\t\u2028\ufeff,\"'{}[]:#&-= 中文秀山"
)
words = st.text(WORD_CHARS, max_size=20)
nonempty = words.filter(bool)
names = st.text(st.sampled_from("abcXYZ019_- ·秀山:"), min_size=1, max_size=8).map(str.strip).filter(bool)
texts = st.one_of(
    words,
    st.fixed_dictionaries({"en": nonempty, "zh": nonempty}),
    nonempty.map(lambda w: {"en": w}),
    nonempty.map(lambda w: {"zh": w}),
)
positive = st.floats(min_value=0.001, max_value=1e6, allow_nan=False, allow_infinity=False)


def written(draw, t: float) -> Any:
    """A time in one of the notations a scenario file may use."""
    forms = [float(t), clock(t)]
    if t < 3600:
        forms.append(f"{int(t) // 60:02d}:{int(t) % 60:02d}")
    return draw(st.sampled_from(forms))


@st.composite
def scenarios(draw) -> dict[str, Any]:
    duration = draw(st.integers(60, 7 * 86_400))
    types = draw(st.lists(st.sampled_from(INJECT_TYPES), min_size=1, max_size=8))
    times = sorted(draw(st.lists(st.integers(0, duration), min_size=len(types), max_size=len(types))))
    objective_ids = draw(st.lists(names, max_size=3, unique=True))
    own_seqs = draw(st.booleans())
    seqs = sorted(
        draw(st.lists(st.integers(1, 10**6), min_size=len(types), max_size=len(types), unique=True))
    )
    opened: list[str] = []
    closed: list[str] = []
    injects = []
    for k, (kind, t) in enumerate(zip(types, times, strict=True)):
        if kind == "second_alarm" and not opened:
            kind = "incident"
        if kind == "road_reopened" and not closed:
            kind = "road_closed"
        if kind == "background" and t >= duration:
            kind = "drones_grounded"
        inj: dict[str, Any] = {"at": written(draw, t), "type": kind, **_specific(draw, kind, t, duration)}
        if kind == "incident":
            inj["incident"] = f"I{k}{draw(names)}"
            opened.append(inj["incident"])
        elif kind == "second_alarm":
            inj["incident"] = draw(st.sampled_from(opened))
        elif kind == "road_closed":
            closed.append(inj["road"])
        elif kind == "road_reopened":
            inj["road"] = draw(st.sampled_from(closed)).upper()
        for key in ("delivery", "sender", "receiver"):
            inj[key] = draw(texts)
        inj["message"], inj["expected_action"] = draw(texts), draw(texts)
        inj["objective"] = draw(st.sampled_from(["", *objective_ids]))
        if own_seqs:
            inj["seq"] = seqs[k]
        injects.append(inj)
    where = st.sampled_from(["*", *opened])
    return {
        "id": draw(st.from_regex(r"[A-Za-z0-9_\-]{1,12}", fullmatch=True)),
        "title": draw(texts),
        "summary": draw(texts),
        "source": draw(texts),
        "config": draw(st.lists(words, max_size=2)),
        "policies": draw(st.lists(names, min_size=1, max_size=2)),
        "start": written(draw, draw(st.integers(0, 86_399))),
        "duration": written(draw, duration),
        "luck": draw(st.sampled_from(["median", "seed"])),
        "rests_on": draw(st.lists(texts, max_size=3)),
        "objectives": [draw(_objective(i, where)) for i in objective_ids],
        "injects": injects,
        "decisions": _decisions(draw, opened),
    }


def _specific(draw, kind: str, t: float, duration: int) -> dict[str, Any]:
    """An inject type's own fields, as the checks allow them."""
    if kind == "incident":
        place = draw(st.sampled_from(["enterprise", "zone", "place"]))
        out = {"kind": draw(names), place: draw(names)}
        if place == "zone" and draw(st.booleans()):
            out["enterprise_kind"] = draw(names)
        if place != "place":
            out["cross_district"] = draw(st.booleans())
        return out
    if kind == "second_alarm":
        return {"station": draw(words), "channel": draw(st.sampled_from(["", "one_key", "call_110"]))}
    if kind in ("terminal_offline", "terminal_online"):
        return {"enterprise": draw(names)}
    if kind == "road_closed":
        return {"road": draw(names)}
    if kind in ("unit_unavailable", "unit_back"):
        return {"unit": draw(names)}
    if kind == "background":
        return {"rate_multiplier": draw(positive), "until": written(draw, draw(st.integers(t + 1, duration)))}
    if kind == "task_order":
        out: dict[str, Any] = {"guards_extra": draw(st.integers(0, 50))}
        target = draw(st.sampled_from(["", "enterprises", "zone"]))
        if target:
            out[target] = (
                draw(st.lists(names, min_size=1, max_size=3)) if target == "enterprises" else draw(names)
            )
        if t < duration and draw(st.booleans()):
            out["until"] = written(draw, draw(st.integers(t + 1, duration)))
        return out
    return {}


@st.composite
def _objective(draw, oid: str, where) -> dict[str, Any]:
    measure = draw(st.sampled_from(["arrival", "outcome", "coordinated", "detected"]))
    out: dict[str, Any] = {"id": oid, "text": draw(texts), "measure": measure, "incident": draw(where)}
    if measure != "outcome" or draw(st.booleans()):
        out["target_s"] = draw(positive)
    if measure == "arrival" or draw(st.booleans()):
        out["unit_kind"] = draw(names)
    if measure == "outcome" or draw(st.booleans()):
        out["expect"] = draw(names)
    out["count_from"] = draw(st.sampled_from(["alarm", "incident"]))
    out["share"] = draw(st.floats(min_value=0.01, max_value=1.0))
    out["by"] = draw(st.sampled_from(["", "drone", "staff", "anyone"]))
    return out


def _decisions(draw, opened: list[str]) -> list[dict[str, Any]]:
    if not opened:
        return []
    points = draw(
        st.lists(
            st.tuples(st.sampled_from(opened), st.sampled_from(["dispatch", "ask_county", "launch_drone"]),
                      st.sampled_from(["echelon", "police"])),
            max_size=3, unique_by=lambda p: (p[0], p[1], p[2] if p[1] == "dispatch" else ""),
        )
    )  # fmt: skip
    out = []
    for incident, point, tier in points:
        d: dict[str, Any] = {"incident": incident, "point": point, "note": draw(texts)}
        if point == "dispatch":
            d |= {"tier": tier, "choice": draw(names)}
        else:
            d["choice"] = draw(st.sampled_from(["yes", "no"]))
        out.append(d)
    return out
