"""A trainer's MSEL (``echelon scenario import``) and ``echelon scenario export``: every mistake refused in
one line naming the file, the spreadsheet row and the column (see tests/bad_input.py), and nothing written;
a Chinese spreadsheet saved as GBK reads as it should.

The MSEL is the Xiushan scenario's (sim/drill/msel.py): row 1 the header, row 2 the scenario, rows 3-5 its
assumptions, rows 6-8 objectives O1-O3, row 9 the inject (seq 1, incident I1 at 00:00:00)."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from bad_input import Bad, refuse

from sim.cli import main
from sim.drill.msel import COLUMNS, export_msel
from sim.drill.scenario import load_scenario

XIUSHAN = "xiushan_trade_secret_leak"
MSEL = "{tmp}/msel.csv"
C = {name: k for k, name in enumerate(COLUMNS)}


def rows_of(scenario: str = XIUSHAN) -> list[list[str]]:
    with tempfile.TemporaryDirectory() as folder:
        path = export_msel(load_scenario(scenario), folder)
        return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def write(rows: list[list[str]], folder: Path, encoding: str = "utf-8-sig", name: str = "msel.csv") -> None:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    (folder / name).write_bytes(out.getvalue().encode(encoding))


def edited(change: Callable[[list[list[str]]], object], encoding: str = "utf-8-sig"):
    """A maker: the Xiushan MSEL with ``change`` applied to its rows (header first), as ``msel.csv``."""

    def make(folder: Path) -> None:
        rows = rows_of()
        change(rows)
        write(rows, folder, encoding)

    return make


def cell(row: int, column: str, value: str):
    """Set one cell; ``row`` as the spreadsheet numbers it (header = 1)."""

    def change(rows: list[list[str]]) -> None:
        rows[row - 1][C[column]] = value

    return change


def extra(*cells: tuple[str, str]):
    """Append an inject row with these (column, value) cells."""

    def change(rows: list[list[str]]) -> None:
        row = [""] * len(COLUMNS)
        for column, value in cells:
            row[C[column]] = value
        rows.append(row)

    return change


def imports(case_id: str, change, message: str, *args: str, encoding: str = "utf-8-sig") -> Bad:
    return Bad(case_id, ("import", MSEL, *args), message, make=edited(change, encoding), command="scenario")


def exports(case_id: str, args: tuple[str, ...], message: str, make=None) -> Bad:
    return Bad(case_id, ("export", *args), message, make=make, command="scenario")


def drop_column(name: str):
    def change(rows: list[list[str]]) -> None:
        for row in rows:
            del row[C[name]]

    return change


def raw(data: bytes):
    def make(folder: Path) -> None:
        (folder / "msel.csv").write_bytes(data)

    return make


CASES = [
    # times
    imports("bad_time", cell(9, "time", "5 min"), "msel.csv row 9 (seq 1), column time: a time as hh:mm:ss"),
    imports("minutes_60", cell(9, "time", "00:60:00"), "row 9 (seq 1), column time: a time as hh:mm:ss"),
    imports(
        "time_after_the_end",
        cell(9, "time", "01:30:00"),
        "row 9 (seq 1), column time: within the drill's duration 01:00:00, got '01:30:00'",
    ),
    imports(
        "no_time",
        lambda rows: [
            cell(9, "time", "")(rows),
            cell(9, "details", "{incident: I1, kind: theft, zone: Z}")(rows),
        ],
        "row 9 (seq 1), column time: an inject needs its time",
    ),
    imports(
        "bad_written_time",
        cell(9, "details", "{at: soon, incident: I1, kind: theft, zone: Z}"),
        "row 9 (seq 1), column details (at): a time as hh:mm:ss",
    ),
    # types and their fields
    imports(
        "unknown_inject_type",
        cell(9, "inject type", "explosion"),
        "row 9 (seq 1), column inject type: one of",
    ),
    imports(
        "no_inject_type", cell(9, "inject type", ""), "row 9 (seq 1), column inject type: one of incident"
    ),
    imports(
        "road_closed_without_road",
        extra(("seq", "2"), ("time", "00:05:00"), ("inject type", "road_closed")),
        "row 10 (seq 2), column details (road): a road_closed inject needs 'road'",
    ),
    imports(
        "incident_without_kind",
        cell(9, "details", "{incident: I1, zone: Xiushan Industrial Park}"),
        "row 9 (seq 1), column details (kind): an incident inject needs 'kind'",
    ),
    imports(
        "field_of_another_type",
        extra(
            ("time", "00:05:00"),
            ("inject type", "road_closed"),
            ("details", "{road: Yushan Bridge, unit: E1}"),
        ),
        "row 10 (numbered seq 2), column details (unit): not used by a road_closed inject",
    ),
    imports(
        "unknown_detail",
        cell(9, "details", "{incident: I1, kind: theft, zone: Z, colour: red}"),
        "row 9 (seq 1), column details: unknown field 'colour'; the details of incident rows are incident, "
        "kind, enterprise, zone, enterprise_kind, place, cross_district, at, untranslated",
    ),
    imports(
        "detail_with_a_column",
        cell(9, "details", "{incident: I1, kind: theft, zone: Z, sender: guard}"),
        "row 9 (seq 1), column details: unknown field 'sender'; it has a column (or rows) of its own",
    ),
    imports(
        "detail_of_wrong_type",
        extra(("time", "00:05:00"), ("inject type", "task_order"), ("details", "{guards_extra: two}")),
        "column details (guards_extra): expected a whole number, got 'two'",
    ),
    imports(
        "details_not_yaml", cell(9, "details", "{incident: I1"), "row 9 (seq 1), column details: not YAML"
    ),
    imports("details_not_a_mapping", cell(9, "details", "I1"), "row 9 (seq 1), column details: a mapping"),
    imports(
        "untranslated_of_nothing",
        cell(3, "details", "{untranslated: [summary]}"),
        "row 3 (assumption), column details (untranslated): a list of message, got ['summary']",
    ),
    imports(
        "second_alarm_before_its_incident",
        extra(("time", "00:05:00"), ("inject type", "second_alarm"), ("details", "{incident: I7}")),
        "column details (incident): an incident opened above (I1), got 'I7'",
    ),
    # numbering and references
    imports("seq_not_a_number", cell(9, "seq", "one"), "row 9 (seq one), column seq: a whole number"),
    imports(
        "seq_twice",
        extra(("seq", "1"), ("time", "00:05:00"), ("inject type", "drones_grounded")),
        "row 10 (seq 1), column seq: each seq once; seq 1 is used more than once",
    ),
    imports(
        "unknown_objective",
        cell(9, "objective", "O9"),
        "row 9 (seq 1), column objective: an objective id (O1, O2, O3), got 'O9'",
    ),
    imports(
        "objective_twice", cell(7, "objective", "O1"), "row 7 (objective O1), column objective: objective ids"
    ),
    imports(
        "objective_of_no_incident",
        cell(6, "details", "{measure: arrival, incident: I2, unit_kind: echelon, target_s: 180}"),
        "row 6 (objective O1), column details (incident): an incident the injects open (I1) or '*', got 'I2'",
    ),
    imports(
        "decision_not_yes_or_no",
        extra(("inject type", "decision"), ("details", "{incident: I1, point: ask_county, choice: maybe}")),
        "row 10 (decision), column details (choice): yes or no for ask_county, got 'maybe'",
    ),
    # the scenario row
    imports(
        "bad_id", cell(2, "details", "{id: 'Xiushan leak'}"), "row 2 (scenario), column details (id): letters"
    ),
    imports("no_scenario_row", lambda rows: rows.pop(1), "no row of inject type 'scenario'"),
    imports(
        "two_scenario_rows",
        lambda rows: rows.append(list(rows[1])),
        "row 10 (scenario), column inject type: one scenario row only; row 2 is one",
    ),
    imports("no_injects", lambda rows: rows.pop(8), "no inject rows; a drill needs at least one inject"),
    imports(
        "time_on_a_scenario_row", cell(2, "time", "00:05:00"), "row 2 (scenario), column time: left empty"
    ),
    imports("luck_not_allowed", cell(2, "details", "{id: x, luck: lucky}"), "column details (luck): allowed"),
    # the file and its header
    imports(
        "header_missing_a_column",
        drop_column("details"),
        "msel.csv row 1: the header lacks column(s) details",
    ),
    imports(
        "unknown_column",
        lambda rows: [row.append("note") for row in rows],
        "row 1: unknown column 'note'; an MSEL's columns are seq, time",
    ),
    imports(
        "a_column_twice", lambda rows: [row.append(row[0]) for row in rows], "column 'seq' appears twice"
    ),
    imports(
        "cell_without_a_column",
        lambda rows: rows[8].append("stray"),
        "row 9: cell 16 has no column name in the header",
    ),
    Bad("empty_file", ("import", MSEL), "msel.csv: the file is empty", make=raw(b"\n\n"), command="scenario"),
    Bad(
        "binary_file", ("import", MSEL), "not a text CSV", make=raw(b"PK\x03\x04\x00\x00"), command="scenario"
    ),
    Bad("missing_file", ("import", "{tmp}/none.csv"), "MSEL file", command="scenario"),
    Bad("no_file_named", ("import",), "give one MSEL CSV file, got 0", command="scenario"),
    imports(
        "gbk_with_a_bad_time",
        cell(9, "time", "五分钟"),
        "row 9 (seq 1), column time: a time as hh:mm:ss, mm:ss or seconds, got '五分钟'",
        encoding="gb18030",
    ),
    # where the scenario goes
    imports(
        "out_exists", lambda rows: None, "msel.yaml' exists; give another out=<path.yaml>, or force=true"
    ),
    imports("out_not_yaml", lambda rows: None, "out: a .yaml file", "out={tmp}/mine.csv"),
    imports("out_folder_missing", lambda rows: None, "does not exist", "out={tmp}/no/such/folder/x.yaml"),
    imports("force_not_true_or_false", lambda rows: None, "force: true or false, got 'maybe'", "force=maybe"),
    imports("unknown_import_key", lambda rows: None, "unknown argument 'lang=zh'", "lang=zh"),
    # export
    exports("unknown_scenario", ("scenario=nope",), "scenario 'nope' not found: shipped scenarios are"),
    exports("no_scenario", (), "say which scenario"),
    exports("bad_lang", (f"scenario={XIUSHAN}", "lang=fr"), "lang: the inject cards' language, en or zh"),
    exports(
        "hydra_override",
        (f"scenario={XIUSHAN}", "policy=echelon_open"),
        "unknown argument 'policy=echelon_open'",
    ),
    exports(
        "results_dir_is_a_file",
        (f"scenario={XIUSHAN}", "results_dir={tmp}/taken"),
        "'results_dir'",
        make=lambda folder: (folder / "taken").write_text("x"),
    ),
    exports(
        "bad_scenario_file",
        ("scenario={tmp}/bad.yaml",),
        "bad.yaml: not valid YAML",
        make=lambda folder: (folder / "bad.yaml").write_text("id: [x\n"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_msel_is_refused_in_one_line(case, tmp_path, cache_dir, capsys):
    if case.id == "out_exists":
        (tmp_path / "msel.yaml").write_text("a trainer's own file\n")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    refuse(case, tmp_path, cache_dir, capsys)
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    made = [p.name for p in after if p not in before and p.name not in ("msel.csv", "bad.yaml", "taken")]
    assert not made, f"{case.id}: wrote {made}"
    assert all(after[p] == data for p, data in before.items())  # the trainer's own file is untouched


def test_the_table_is_large_enough():
    assert len(CASES) >= 40


def test_a_gbk_spreadsheet_with_chinese_imports(tmp_path, capsys):
    rows = rows_of()
    rows[8][C["message_zh"]] = "保安在监控中看到员工拷贝文件（已编辑）"
    write(rows, tmp_path, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        (tmp_path / "msel.csv").read_bytes().decode("utf-8")  # really GBK, not UTF-8
    assert main(["scenario", "import", str(tmp_path / "msel.csv"), f"out={tmp_path / 'edited.yaml'}"]) == 0
    scenario = load_scenario(str(tmp_path / "edited.yaml"))
    assert scenario.injects[0].message["zh"] == "保安在监控中看到员工拷贝文件（已编辑）"
    assert scenario.title == load_scenario(XIUSHAN).title
    assert "wrote" in capsys.readouterr().out
