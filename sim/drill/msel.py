"""A drill as its Master Scenario Events List (HSEEP MSEL): a CSV trainers plan and edit in a spreadsheet,
printable inject cards for the controllers, and the edited CSV read back into a checked scenario.

Why a CSV and not the YAML: trainers plan drills in Excel or WPS. The CSV carries the whole scenario, so
``import_msel(export_msel(s))`` gives ``s`` back (but for ``path``) and nothing a trainer wrote is lost.

Layout of ``msel.csv`` (UTF-8 with a byte-order mark, so Excel shows Chinese): one header row, then one
row per MSEL item; the ``inject type`` column says what a row is.

    seq, time, inject type, delivery_method_en, delivery_method_zh, from_en, from_zh, to_en, to_zh,
    message_en, message_zh, expected_action_en, expected_action_zh, objective, details

- ``scenario`` (one row, first): the title in the message columns, the summary in the expected-action
  columns; id, source, config, policies, start, duration and luck in ``details``.
- ``assumption`` (one row each, in order): what the results rest on (``rests_on``), in the message columns.
- ``objective`` (one row each, in order): its id in ``objective``, its text in the message columns;
  measure, incident, unit_kind, count_from, target_s, share, expect, by in ``details``.
- ``decision`` (one row each, in order): the note in the message columns; incident, point, choice and
  tier in ``details``.
- an inject type (``incident``, ``road_closed``... see sim/drill/scenario.py): ``seq``, ``time`` (hh:mm:ss
  from the drill's start), delivery method, from, to, message, expected action (each in both languages),
  the objective it tests, and its type's own fields (incident, kind, enterprise, zone, place, road, unit,
  until...) in ``details``. An older MSEL with one ``delivery method``, ``from`` and ``to`` column each is
  read too: its words count as the same in every language.

``details`` is a YAML flow mapping, ``{incident: I1, kind: theft, zone: Xiushan Industrial Park}``, keyed
by the scenario's field names; a field left out (or an empty cell anywhere) takes its default. Texts: both
language columns filled are the two translations; one filled is the same words in every language, unless
``details`` lists it under ``untranslated`` (``untranslated: [message]``: a text in that language only).
An empty translation counts as none. ``details`` may hold ``at``, the time as the scenario file wrote it
(``300.0`` seconds, or ``"00:00"``), kept when it is the time the ``time`` column shows (or that column
is empty); a trainer who edits the time column overrides it.

Reading back: rows may come in any order; injects are sorted by time, then seq, then row; an empty seq
takes the next number after the largest one given. Times are hh:mm:ss, mm:ss (``"0:05"`` is five
*seconds*) or seconds. Every error names the file, the spreadsheet row and the column, in one line.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import math
import re
from pathlib import Path
from typing import Any

import yaml

from sim.drill.catalogue import msg, term
from sim.drill.scenario import (
    INJECT_TYPES,
    MAY,
    NEEDS,
    Decision,
    Inject,
    Objective,
    Scenario,
    Text,
    clock,
    scenario_from_dict,
    seconds,
    text,
)
from sim.errors import ScenarioError, SiteError
from sim.site.csv_text import RESAVE, read_csv_rows
from sim.webfont import with_cjk_font

COLUMNS = (
    "seq", "time", "inject type", "delivery_method_en", "delivery_method_zh", "from_en", "from_zh", "to_en",
    "to_zh", "message_en", "message_zh", "expected_action_en", "expected_action_zh", "objective", "details",
)  # fmt: skip
META = ("scenario", "assumption", "objective", "decision")  # the rows above the injects
INJECT_CELLS = {"seq": "seq", "at": "time", "objective": "objective"}
# Per kind of row: the field each pair of text columns holds.
ROW_TEXTS = {
    "scenario": {"message": "title", "expected_action": "summary"},
    "assumption": {"message": "rests_on"},
    "objective": {"message": "text"},
    "decision": {"message": "note"},
    "inject": {"delivery_method": "delivery", "from": "sender", "to": "receiver", "message": "message",
               "expected_action": "expected_action"},
}  # fmt: skip
INJECT_TEXTS = tuple(ROW_TEXTS["inject"].values())
# An MSEL written before delivery method, from and to had a column per language: its one column is read as
# the language column that is filled when those words are written out (plain words: the same in both).
LEGACY = {"delivery method": "delivery_method", "from": "from", "to": "to"}
UNTRANSLATED = "untranslated"
OWN_PLACE = {  # fields with a column (or rows) of their own, not in details
    "scenario": ("title", "summary", "objectives", "injects", "decisions", "rests_on"),
    "assumption": ("rests_on",),
    "objective": ("id", "text"),
    "decision": ("note",),
    "inject": ("type", *INJECT_CELLS, *INJECT_TEXTS),
}
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _details_fields(cls: type, own: set[str]) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.name not in own)


DETAILS = {  # the fields each kind of row keeps in ``details``
    "scenario": _details_fields(
        Scenario, {"title", "summary", "objectives", "injects", "decisions", "rests_on", "path"}
    ),
    "assumption": (),
    "objective": _details_fields(Objective, {"id", "text"}),
    "decision": _details_fields(Decision, {"note"}),
    "inject": _details_fields(Inject, {"type", *INJECT_CELLS, *INJECT_TEXTS}),
}


def _kind(row_type: str) -> str:
    return row_type if row_type in META else "inject"


# --- export ------------------------------------------------------------------------------------------


def export_msel(scenario: Scenario, folder: Path | str, lang: str = "en") -> Path:
    """Write ``msel.csv`` and ``inject_cards.html`` (cards in ``lang``) into ``folder``; return the CSV."""
    if lang not in ("en", "zh"):
        raise ScenarioError(f"lang: en or zh, got {lang!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "msel.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows([row.get(c, "") for c in COLUMNS] for row in msel_rows(scenario))
    (folder / "inject_cards.html").write_text(inject_cards_html(scenario, lang), encoding="utf-8")
    return path


def msel_rows(s: Scenario) -> list[dict[str, str]]:
    """The scenario as MSEL rows (column -> cell), in the layout the module docstring describes."""
    rows = [_row("scenario", s, {"title": s.title, "summary": s.summary}, everything=True)]
    rows += [_row("assumption", None, {"rests_on": item}) for item in s.rests_on]
    rows += [_row("objective", o, {"text": o.text}) | {"objective": o.id} for o in s.objectives]
    rows += [_row("decision", d, {"note": d.note}) for d in s.decisions]
    for inj in s.injects:
        time = _hms(seconds(inj.at, "at", _never))
        written = {"at": inj.at} if inj.at != time else {}  # 300.0 or "05:00": the scenario's own notation
        row = _row(inj.type, inj, {name: getattr(inj, name) for name in INJECT_TEXTS}, written)
        row |= {col: str(getattr(inj, name)) for name, col in INJECT_CELLS.items()} | {"time": time}
        rows.append(row)
    return rows


def _row(
    row_type: str, obj: Any, texts: dict[str, Text], first: dict | None = None, everything: bool = False
) -> dict[str, str]:
    """One row's type, text columns and details (``first`` at their head)."""
    kind = _kind(row_type)
    row = {"inject type": row_type}
    details = {**(first or {}), **(_fields(obj, kind, everything) if obj is not None else {})}
    untranslated = []
    for group, field in ROW_TEXTS[kind].items():
        cells, one_language = _text_cells(texts[field])
        row |= {f"{group}_{lang}": cell for lang, cell in cells.items()}
        if one_language:
            untranslated.append(group)
    if untranslated:
        details[UNTRANSLATED] = untranslated
    row["details"] = _flow(details)
    return row


def _fields(obj: Any, kind: str, everything: bool = False) -> dict[str, Any]:
    """The fields ``details`` holds, those at their defaults left out, unless ``everything``: the scenario
    row shows start, duration, policies and luck even at their defaults, for a trainer to edit."""
    defaults = {f.name: _default(f) for f in dataclasses.fields(obj)}
    return {n: getattr(obj, n) for n in DETAILS[kind] if everything or getattr(obj, n) != defaults[n]}


def _default(f: dataclasses.Field) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def _text_cells(value: Text) -> tuple[dict[str, str], bool]:
    """(language -> cell, whether it is one language only); plain words go under zh if they are Chinese."""
    if isinstance(value, str):
        return ({"zh" if CJK.search(value) else "en": value} if value else {}), False
    given = {lang: words for lang, words in value.items() if words}
    return given, len(given) == 1


def _hms(t_s: float) -> str:
    """hh:mm:ss, with milliseconds when the time has them (clock() rounds to the second)."""
    ms = round(t_s * 1000)
    whole, frac = divmod(ms, 1000)
    return clock(whole) + (f".{frac:03d}".rstrip("0") if frac else "")


def _flow(data: dict[str, Any]) -> str:
    if not data:
        return ""
    return yaml.safe_dump(
        data, default_flow_style=True, allow_unicode=True, sort_keys=False, width=1_000_000
    ).strip()


def _never(where: str, why: str) -> Exception:  # a loaded scenario's times are valid
    return ValueError(f"{where}: {why}")


# --- inject cards --------------------------------------------------------------------------------------

CARD_WORDS = ("expected", "objective", "delivery", "cards", "inject", "injects", "start")
FONTS = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", system-ui, sans-serif'
CARD_CSS = (
    f"body{{font-family:{FONTS};margin:1.5em;color:#111;background:#f4f4f4}}"
    "header.page{margin-bottom:1em}header.page h1{font-size:1.4em;margin:0 0 .2em}"
    ".cards{display:flex;flex-wrap:wrap;gap:6mm}"
    ".card{box-sizing:border-box;width:140mm;min-height:98mm;padding:5mm 6mm;background:#fff;"
    "border:1.5px solid #333;border-radius:2mm;display:flex;flex-direction:column;gap:2mm;"
    "page-break-inside:avoid;break-inside:avoid}"
    ".top{display:flex;justify-content:space-between;font-size:.8em;color:#555;gap:1em}"
    ".head{display:flex;align-items:baseline;gap:.8em;flex-wrap:wrap;border-bottom:1px solid #999;"
    "padding-bottom:1.5mm}.seq{font-size:1.6em;font-weight:700}.time{font-size:1.3em;font-weight:700;"
    "font-variant-numeric:tabular-nums}.clock{color:#555}.type{margin-left:auto;padding:.1em .5em;"
    "border:1px solid #333;border-radius:1mm;font-size:.9em}"
    ".route{font-size:.9em}.route b{font-weight:600}"
    ".message{font-size:1.35em;line-height:1.35;margin:1mm 0;flex:1;white-space:pre-wrap}"
    ".expected,.objective{font-size:.9em;white-space:pre-wrap}.expected h2,.objective h2{font-size:.8em;"
    "margin:0;text-transform:uppercase;letter-spacing:.04em;color:#555}.details{font-size:.75em;color:#555}"
    "@page{size:A4;margin:8mm}"
    "@media print{body{margin:0;background:#fff}header.page{display:none}.cards{gap:4mm}"
    ".card{width:94mm;min-height:135mm;border-width:1px}}"
)


def inject_cards_html(s: Scenario, lang: str = "en") -> str:
    """One printable card per inject (A6-sized, never split across pages), in ``lang``; self-contained."""
    e = html.escape
    words = {k: msg(f"cards.{k}", lang) for k in CARD_WORDS}
    title = text(s.title, lang)
    start = seconds(s.start, "start", _never)
    objectives = {o.id: text(o.text, lang) for o in s.objectives}
    cards = [_card(s, inj, title, start, objectives, lang) for inj in s.injects]
    page = (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(words['cards'])}: {e(title)}</title><style>{CARD_CSS}</style></head><body>\n"
        f'<header class="page"><h1>{e(title)}</h1><p>{e(text(s.summary, lang))}</p>'
        f"<p>{e(s.id)} · {len(s.injects)} {e(words['injects' if len(s.injects) != 1 else 'inject'])} · "
        f"{e(words['start'])} {e(clock(start))}</p></header>\n"
        f'<main class="cards">\n' + "\n".join(cards) + "\n</main>\n</body></html>\n"
    )
    return with_cjk_font(page, FONTS)  # Chinese text: the page carries the glyphs it needs


def _card(s: Scenario, inj: Inject, title: str, start: float, objectives: dict, lang: str) -> str:
    e = html.escape
    words = {k: msg(f"cards.{k}", lang) for k in CARD_WORDS}
    at = seconds(inj.at, "at", _never)
    kind = term("inject", inj.type, lang) + (f" ({inj.type})" if lang == "zh" else "")
    delivery, sender, receiver = (text(getattr(inj, k), lang) for k in ("delivery", "sender", "receiver"))
    route = [f"<b>{e(words['delivery'])}</b> {e(delivery)}"] if delivery else []
    if sender or receiver:
        route.append(f"{e(sender or '?')} → {e(receiver or '?')}")
    details = _fields(inj, "inject")
    parts = [
        f'<div class="top"><span>{e(title)}</span><span>{e(s.id)}</span></div>',
        f'<div class="head"><span class="seq">#{inj.seq}</span><span class="time">T+{_hms(at)}</span>'
        f'<span class="clock">{clock((start + at) % 86_400)}</span><span class="type">{e(kind)}</span></div>',
    ]
    if route:
        parts.append(f'<div class="route">{" · ".join(route)}</div>')
    parts.append(f'<p class="message">{e(text(inj.message, lang))}</p>')
    if text(inj.expected_action, lang):
        parts.append(
            f'<div class="expected"><h2>{e(words["expected"])}</h2>{e(text(inj.expected_action, lang))}</div>'
        )
    if inj.objective:
        goal = objectives.get(inj.objective, "")
        heading = f"<h2>{e(words['objective'])}</h2>"
        parts.append(f'<div class="objective">{heading}<b>{e(inj.objective)}</b> {e(goal)}</div>')
    if details:
        shown = " · ".join(f"{k}: {_plain(v)}" for k, v in details.items())
        parts.append(f'<div class="details">{e(shown)}</div>')
    return '<article class="card">' + "".join(parts) + "</article>"


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:g}" if isinstance(value, float) else str(value)


# --- import --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Row:
    line: int  # the spreadsheet's row number
    cells: dict[str, str]
    type: str
    label: str  # how an error names it: "seq 5", "objective O1", "scenario"

    @property
    def kind(self) -> str:
        return _kind(self.type)


class _Msel:
    """One CSV being read: its rows, and the errors that point at them."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, row: _Row, column: str, why: str) -> ScenarioError:
        return ScenarioError(f"{self.path} row {row.line} ({row.label}), column {column}: {why}")

    def read(self) -> list[_Row]:
        path = self.path
        if not path.is_file():
            raise ScenarioError(f"MSEL file {path} not found")
        if not path.read_bytes().strip():
            raise ScenarioError(f"{path}: the file is empty; an MSEL has a header row ({', '.join(COLUMNS)})")
        try:
            table = read_csv_rows(path)
        except SiteError as err:
            raise ScenarioError(str(err)) from None
        where = f"{path} row {table.header_line}"
        header = [
            f"{LEGACY[c]}_en" if c in LEGACY and f"{LEGACY[c]}_en" not in table.header else c
            for c in table.header
        ]
        absent = {f"{LEGACY[c]}_zh" for c in table.header if c in LEGACY}  # an older MSEL has none
        missing = [c for c in COLUMNS if c not in header and c not in absent]
        if missing:
            raise ScenarioError(
                f"{where}: the header lacks column(s) {', '.join(missing)}; an MSEL's columns are "
                f"{', '.join(COLUMNS)} (in any order)"
            )
        twice = sorted({c for c in header if c and header.count(c) > 1})
        unknown = [c for c in header if c and c not in COLUMNS]
        if twice or unknown:
            why = f"column {twice[0]!r} appears twice" if twice else f"unknown column {unknown[0]!r}"
            raise ScenarioError(
                f"{where}: {why}; an MSEL's columns are {', '.join(COLUMNS)} (a column the scenario has no "
                "place for would be lost on import: move its content into one of them)"
            )
        rows = []
        for record, line in zip(table.rows, table.lines, strict=True):
            stray = [
                k for k, cell in enumerate(record) if cell.strip() and (k >= len(header) or not header[k])
            ]
            if stray:
                raise ScenarioError(
                    f"{path} row {line}: cell {stray[0] + 1} has no column name in the header ({RESAVE}, "
                    "or give the column a name from the header)"
                )
            cells = {c: (record[k] if k < len(record) else "") for k, c in enumerate(header) if c}
            cells |= {c: "" for c in absent if c not in cells}
            rows.append(self._typed(_Row(line, cells, "", "")))
        return rows

    def _typed(self, row: _Row) -> _Row:
        row.type = row.cells["inject type"].strip().lower()
        seq = row.cells["seq"].strip()
        if row.type == "objective":
            row.label = f"objective {row.cells['objective'].strip()}"
        elif row.type in META:
            row.label = row.type
        else:
            row.label = f"seq {seq}" if seq else "no seq" if row.type else "no type"
        if row.type not in (*META, *INJECT_TYPES):
            raise self.fail(
                row,
                "inject type",
                f"one of {', '.join(INJECT_TYPES)}, or {', '.join(META)} for the rows above the injects; "
                f"got {row.cells['inject type']!r}",
            )
        used = {
            "inject type",
            "details",
            *(f"{g}_{lang}" for g in ROW_TEXTS[row.kind] for lang in ("en", "zh")),
        }
        if row.kind == "inject":
            used |= set(INJECT_CELLS.values())
        if row.type == "objective":
            used.add("objective")
        for column in COLUMNS:
            if column not in used and row.cells[column].strip():
                raise self.fail(row, column, f"left empty in a {row.type} row, got {row.cells[column]!r}")
        return row

    def details(self, row: _Row) -> tuple[dict[str, Any], list[str]]:
        """The row's ``details`` mapping (checked keys) and its ``untranslated`` list."""
        cell = row.cells["details"].strip()
        try:
            data = yaml.safe_load(cell) if cell else {}
        except yaml.YAMLError as err:
            raise self.fail(
                row,
                "details",
                f"not YAML ({getattr(err, 'problem', None) or err}); write {{key: value, ...}}",
            ) from None
        data = {} if data is None else data
        if not isinstance(data, dict):
            raise self.fail(row, "details", f"a mapping {{key: value, ...}}, got {cell!r}")
        allowed = (*DETAILS[row.kind], *(("at",) if row.kind == "inject" else ()), UNTRANSLATED)
        for key in data:
            if key not in allowed:
                own = (
                    (*NEEDS[row.type], *MAY.get(row.type, ()), "at") if row.kind == "inject" else allowed[:-1]
                )
                hint = f"; the details of {row.type} rows are {', '.join((*own, UNTRANSLATED))}"
                if key in OWN_PLACE[row.kind]:
                    hint = "; it has a column (or rows) of its own"
                raise self.fail(row, "details", f"unknown field {key!r}{hint}")
        untranslated = data.pop(UNTRANSLATED, [])
        groups = tuple(ROW_TEXTS[row.kind])
        if not isinstance(untranslated, list) or not set(untranslated) <= set(groups):
            raise self.fail(
                row, f"details ({UNTRANSLATED})", f"a list of {', '.join(groups)}, got {untranslated!r}"
            )
        if "choice" in data and isinstance(data["choice"], bool):  # YAML reads a bare yes/no as true/false
            data["choice"] = "yes" if data["choice"] else "no"
        return data, untranslated

    def text(self, row: _Row, group: str, untranslated: list[str]) -> Text:
        en, zh = row.cells[f"{group}_en"], row.cells[f"{group}_zh"]
        if en and zh:
            return {"en": en, "zh": zh}
        if group in untranslated:
            if not (en or zh):
                raise self.fail(
                    row, f"details ({UNTRANSLATED})", f"lists {group}, but both its columns are empty"
                )
            return {"en": en} if en else {"zh": zh}
        return en or zh

    def time(self, row: _Row, written: Any) -> tuple[Any, float]:
        """The inject's ``at`` and its seconds: the time column, in the scenario's own notation (``at`` in
        details) when that is the same time."""
        cell = row.cells["time"].strip()
        if written is not None:
            if isinstance(written, bool) or not isinstance(written, str | int | float):
                raise self.fail(row, "details (at)", f"a time, got {written!r}")
            kept = seconds(written, "at", lambda _w, why: self.fail(row, "details (at)", why))
        if not cell:
            if written is None:
                raise self.fail(row, "time", "an inject needs its time (hh:mm:ss from the drill's start)")
            return written, kept
        if re.fullmatch(r"\d{1,2}:\d{2}", cell):  # a spreadsheet's h:mm, or the scenario file's mm:ss?
            raise self.fail(
                row, "time", f"write hh:mm:ss from the drill's start ({cell!r} could be minutes or seconds)"
            )
        value = float(cell) if NUMBER.fullmatch(cell) else cell
        t = seconds(value, "time", lambda _w, why: self.fail(row, "time", why))
        if written is not None and math.isclose(kept, t, abs_tol=1e-3):
            return written, kept
        return value, t

    def seq(self, row: _Row) -> int:
        cell = row.cells["seq"].strip()
        try:
            number = float(cell) if cell else 0.0
        except ValueError:
            number = math.nan
        if not number.is_integer():
            raise self.fail(row, "seq", f"a whole number (or empty: numbered in order), got {cell!r}")
        return int(number)


def import_msel(path: Path | str) -> Scenario:
    """Read a (trainer-edited) MSEL CSV back into a scenario, checked as a scenario file is."""
    msel = _Msel(Path(path))
    rows = msel.read()
    data: dict[str, Any] = {"rests_on": [], "objectives": [], "decisions": []}
    places: dict[str, list[_Row]] = {"rests_on": [], "objectives": [], "decisions": []}
    scenario_row: _Row | None = None
    injects: list[tuple[float, float, int, _Row, dict[str, Any]]] = []
    for k, row in enumerate(rows):
        details, untranslated = msel.details(row)
        texts = {field: msel.text(row, group, untranslated) for group, field in ROW_TEXTS[row.kind].items()}
        if row.type == "scenario":
            if scenario_row is not None:
                raise msel.fail(row, "inject type", f"one scenario row only; row {scenario_row.line} is one")
            scenario_row = row
            data |= {**details, **texts}
        elif row.type == "assumption":
            data["rests_on"].append(texts["rests_on"])
            places["rests_on"].append(row)
        elif row.type == "objective":
            data["objectives"].append({"id": row.cells["objective"].strip(), **details, **texts})
            places["objectives"].append(row)
        elif row.type == "decision":
            data["decisions"].append({**details, **{f: t for f, t in texts.items() if t}})
            places["decisions"].append(row)
        else:
            at, t = msel.time(row, details.pop("at", None))
            seq = msel.seq(row)
            inject = {"at": at, "type": row.type, **details, **{f: t for f, t in texts.items() if t}}
            if row.cells["objective"].strip():
                inject["objective"] = row.cells["objective"].strip()
            injects.append((t, seq or math.inf, k, row, {"seq": seq, **inject}))
    if scenario_row is None:
        raise ScenarioError(
            f"{msel.path}: no row of inject type 'scenario' (the scenario's title, and its id and settings "
            "in details); add one above the injects"
        )
    if not injects:
        raise ScenarioError(f"{msel.path}: no inject rows; a drill needs at least one inject (an incident)")
    injects.sort(key=lambda item: item[:3])
    free = max([item[4]["seq"] for item in injects] + [0]) + 1
    for item in injects:
        if not item[4]["seq"]:
            item[4]["seq"], item[3].label, free = free, f"numbered seq {free}", free + 1
    data["injects"] = [item[4] for item in injects]
    places["injects"] = [item[3] for item in injects]
    try:
        return scenario_from_dict(data, str(msel.path))
    except ScenarioError as err:
        raise _pointed(msel, str(err), data, places, scenario_row) from None


ITEM = re.compile(r"(?P<list>injects|objectives|decisions|rests_on)\[(?P<k>\d+)\](?P<rest>.*)", re.S)
FIELD = re.compile(r"(?:\.(?P<field>\w+)(?P<sub>[^:]*?))?: (?P<why>.*)", re.S)
TOP = re.compile(r"(?P<field>\w+)(?P<sub>[^:\s]*?): (?P<why>.*)", re.S)
UNKNOWN = re.compile(r"unknown field '(?P<key>[^']*)'; (?P<why>.*)", re.S)


def _pointed(msel: _Msel, message: str, data: dict, places: dict, scenario_row: _Row) -> ScenarioError:
    """A scenario check's message (``<file>: injects[3] (seq 4, road_closed).road: ...``) pointed at the
    spreadsheet row and column it is about."""
    body = message.removeprefix(f"{msel.path}: ")
    if match := UNKNOWN.fullmatch(body):
        body = f"{match['key']}: unknown field ({match['why']})"
    if (item := ITEM.match(body)) and int(item["k"]) < len(places[item["list"]]):
        kind, k, rest = item["list"], int(item["k"]), item["rest"]
        row = places[kind][k]
        label = f" ({data[kind][k]['id']})" if kind == "objectives" else ""
        rest = (
            rest.removeprefix(label) if label and rest.startswith(label) else re.sub(r"^ \([^)]*\)", "", rest)
        )
        if found := FIELD.fullmatch(rest):
            return msel.fail(row, _column(row.kind, found["field"], found["sub"]), found["why"])
    if found := TOP.fullmatch(body):
        field, why = found["field"], found["why"]
        if field in ("injects", "objectives", "decisions"):
            row, column = _repeated(field, data, places)
            if row is not None:
                return msel.fail(row, column, why)
            return ScenarioError(f"{msel.path}: {field}: {why}")
        return msel.fail(scenario_row, _column("scenario", field, found["sub"]), why)
    return ScenarioError(message)


def _column(kind: str, field: str | None, sub: str) -> str:
    if field is None:
        return "message_en/message_zh" if kind == "assumption" else "details"
    if kind == "inject" and field in INJECT_CELLS:
        return INJECT_CELLS[field]
    if kind == "inject" and field == "type":
        return "inject type"
    if kind == "objective" and field == "id":
        return "objective"
    for group, name in ROW_TEXTS[kind].items():
        if name == field:
            lang = sub.removeprefix(".")
            return f"{group}_{lang}" if lang in ("en", "zh") else f"{group}_en/{group}_zh"
    return f"details ({field})"


def _repeated(field: str, data: dict, places: dict) -> tuple[_Row | None, str]:
    """The row that repeats an inject's seq, an objective's id or a decision's point, and its column."""
    key, column = {
        "injects": (lambda d: d.get("seq"), "seq"),
        "objectives": (lambda d: d.get("id"), "objective"),
        "decisions": (lambda d: (d.get("incident"), d.get("point"), d.get("tier", "")), "details"),
    }[field]
    seen = set()
    for item, row in zip(data[field], places[field], strict=True):
        if key(item) in seen:
            return row, column
        seen.add(key(item))
    return None, ""
