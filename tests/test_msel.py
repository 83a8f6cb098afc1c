"""The MSEL (sim/drill/msel.py): a scenario written as a trainer's CSV and read back loses nothing, whatever
the trainer re-orders or re-saves, and the inject cards print one card per inject in the chosen language."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from msel_scenarios import EVERY_FIELD, scenarios
from webfonts import assert_font_covers_the_page, without_font_data

from sim.cli import main
from sim.drill.msel import COLUMNS, export_msel, import_msel, inject_cards_html
from sim.drill.scenario import (
    INJECT_TYPES,
    MAY,
    NEEDS,
    SPECIFIC,
    dump_scenario,
    load_scenario,
    scenario_from_dict,
    shipped_names,
)
from sim.errors import ScenarioError


def same(a, b) -> bool:
    return dataclasses.replace(a, path="") == dataclasses.replace(b, path="")


def read_table(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def write_table(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> None:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))


@pytest.fixture
def every_field():
    return scenario_from_dict(EVERY_FIELD, "every_field")


@pytest.mark.parametrize("name", shipped_names())
def test_a_shipped_scenario_comes_back_whole(name, tmp_path):
    scenario = load_scenario(name)
    assert same(import_msel(export_msel(scenario, tmp_path)), scenario)


def test_the_hand_made_scenario_uses_every_inject_type_and_field(every_field):
    injects = every_field.injects
    assert {i.type for i in injects} == set(INJECT_TYPES)
    used = {key for i in injects for key in SPECIFIC if getattr(i, key)}
    assert used == set(SPECIFIC) == {k for t in INJECT_TYPES for k in (*NEEDS[t], *MAY.get(t, ()))}
    assert all(any(getattr(i, k) for i in injects) for k in ("delivery", "sender", "receiver", "objective"))
    assert {d.point for d in every_field.decisions} == {"dispatch", "ask_county", "launch_drone"}
    assert {o.measure for o in every_field.objectives} == {"arrival", "outcome", "coordinated", "detected"}


def test_every_inject_type_and_field_comes_back(every_field, tmp_path):
    back = import_msel(export_msel(every_field, tmp_path))
    assert same(back, every_field)
    assert back.injects[1].at == 30.0 and back.injects[0].at == "00:00"  # the file's own notation
    assert back.summary == EVERY_FIELD["summary"] and back.title == EVERY_FIELD["title"]
    assert back.rests_on[0] == {"en": "every delay at its median"}  # one language, not plain words


def test_the_yaml_written_from_an_msel_reads_back_the_same(every_field, tmp_path):
    back = import_msel(export_msel(every_field, tmp_path))
    (tmp_path / "back.yaml").write_text(dump_scenario(back), encoding="utf-8")
    assert same(load_scenario(str(tmp_path / "back.yaml")), every_field)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenarios())
def test_any_valid_scenario_comes_back_whole(data):
    scenario = scenario_from_dict(data, "generated")
    with tempfile.TemporaryDirectory() as folder:
        assert same(import_msel(export_msel(scenario, folder)), scenario)


def test_the_layout_a_trainer_sees(every_field, tmp_path):
    path = export_msel(every_field, tmp_path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with a BOM as UTF-8
    header, *rows = read_table(path)
    assert tuple(header) == COLUMNS
    types = [r[2] for r in rows]
    assert types[:9] == ["scenario", *["assumption"] * 4, *["objective"] * 4]
    assert types[9:12] == ["decision"] * 3 and types[12:] == [i.type for i in every_field.injects]
    first = dict(zip(header, rows[12], strict=True))
    assert first["seq"] == "10" and first["time"] == "00:00:00" and first["objective"] == "O1"
    assert (first["delivery_method_en"], first["delivery_method_zh"]) == (
        "one-key alarm terminal",
        "一键报警终端",
    )
    assert (first["from_en"], first["from_zh"], first["to_en"], first["to_zh"]) == ("guard", "", "", "指挥室")
    assert first["message_zh"] == "盗窃，嫌疑人持械" and first["expected_action_zh"] == ""
    assert first["details"] == (
        "{at: '00:00', incident: I1, kind: theft, enterprise: E0412, cross_district: true, "
        "untranslated: [to, expected_action]}"
    )
    times = [r[1] for r in rows[12:]]
    assert times[4:6] == ["00:02:00.5", "00:02:30"] and all(
        re.fullmatch(r"\d\d:\d\d:\d\d(\.\d+)?", t) for t in times
    )


def test_rows_in_any_order_with_edited_times_and_empty_seqs(every_field, tmp_path):
    header, *rows = read_table(export_msel(every_field, tmp_path))
    injects = rows[12:]
    for row in injects:
        row[0] = ""  # numbered again in time order (I2 and I3, both at 00:01:00, in row order)
    injects[9][1] = "0:06:00"  # h:mm:ss as Excel re-saves it
    injects[5][1] = "00:02:30.0"  # re-typed
    rows = list(reversed(rows[:12])) + list(reversed(injects))
    write_table(tmp_path / "edited.csv", [header, *rows])
    back = import_msel(tmp_path / "edited.csv")
    assert [i.seq for i in back.injects] == list(range(1, 16))
    assert [i.type for i in back.injects] == [i.type for i in every_field.injects]
    assert [i.incident for i in back.injects[2:4]] == ["I3", "I2"]
    assert [o.id for o in back.objectives] == [o.id for o in reversed(every_field.objectives)]
    assert back.injects[9].at == "0:06:00"  # as the trainer wrote it
    assert back.injects[5].at == "2:30"  # the same time as the file's own notation (details): kept


def test_an_older_msel_with_one_delivery_from_and_to_column_still_reads(every_field, tmp_path):
    """Before delivery method, from and to had a column per language, each had one: its words read back
    as the same words in every language (as a plain string in a scenario file)."""
    header, *rows = read_table(export_msel(every_field, tmp_path))
    old = {"delivery_method": "delivery method", "from": "from", "to": "to"}
    keep = [k for k, c in enumerate(header) if not any(c == f"{g}_zh" for g in old)]
    renamed = [old.get(c.removesuffix("_en"), c) if c.endswith("_en") else c for c in header]
    table = [[renamed[k] for k in keep]]
    for row in rows:
        row[header.index("to_en")] = row[header.index("to_en")] or row[header.index("to_zh")]
        row[-1] = row[-1].replace("untranslated: [to, expected_action]", "untranslated: [expected_action]")
        table.append([row[k] for k in keep])
    write_table(tmp_path / "old.csv", table)
    back = import_msel(tmp_path / "old.csv")
    first = back.injects[0]
    assert (first.delivery, first.sender, first.receiver) == ("one-key alarm terminal", "guard", "指挥室")
    assert first.message == every_field.injects[0].message
    assert back.injects[8].delivery == "radio"
    rest = dataclasses.replace(back, injects=back.injects[1:])
    assert same(rest, dataclasses.replace(every_field, injects=every_field.injects[1:]))


def test_a_two_part_time_is_refused_as_ambiguous(every_field, tmp_path):
    """In a spreadsheet '0:05' reads as five minutes, in a scenario file as five seconds: an MSEL's times
    are hh:mm:ss, and a two-part one is refused, naming the row and the column."""
    header, *rows = read_table(export_msel(every_field, tmp_path))
    rows[12 + 5][1] = "0:05"
    write_table(tmp_path / "edited.csv", [header, *rows])
    with pytest.raises(ScenarioError, match=r"row 19 \(seq 41\), column time: write hh:mm:ss .*'0:05' could"):
        import_msel(tmp_path / "edited.csv")


def test_an_edited_time_wins_over_the_files_notation(every_field, tmp_path):
    header, *rows = read_table(export_msel(every_field, tmp_path))
    rows[13][1] = "00:00:45"  # second_alarm: its details still say at: 30.0
    write_table(tmp_path / "edited.csv", [header, *rows])
    assert import_msel(tmp_path / "edited.csv").injects[1].at == "00:00:45"


def test_a_gbk_spreadsheet_with_chinese_reads_the_same(every_field, tmp_path):
    scenario = load_scenario("xiushan_trade_secret_leak")
    write_table(tmp_path / "gbk.csv", read_table(export_msel(scenario, tmp_path)), encoding="gb18030")
    assert same(import_msel(tmp_path / "gbk.csv"), scenario)


def test_scenario_check_errors_point_at_row_and_column(every_field, tmp_path):
    header, *rows = read_table(export_msel(every_field, tmp_path))
    rows[19][header.index("details")] = "{}"  # the road_reopened inject, seq 51, loses its road
    write_table(tmp_path / "bad.csv", [header, *rows])
    with pytest.raises(ScenarioError) as err:
        import_msel(tmp_path / "bad.csv")
    assert str(err.value) == (
        f"{tmp_path / 'bad.csv'} row 21 (seq 51), column details (road): a road_reopened inject needs 'road'"
    )


def test_an_odd_objective_id_still_points_at_its_row(every_field, tmp_path):
    header, *rows = read_table(export_msel(every_field, tmp_path))
    rows[8][header.index("details")] = (
        "{measure: detected, incident: '*'}"  # objective 'O(4): odd id' loses its target
    )
    write_table(tmp_path / "bad.csv", [header, *rows])
    with pytest.raises(
        ScenarioError, match=r"row 10 \(objective O\(4\): odd id\), column details \(target_s\): "
    ):
        import_msel(tmp_path / "bad.csv")


def test_inject_cards(every_field):
    page = inject_cards_html(every_field, "zh")
    assert page.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    assert page.count('<article class="card">') == len(every_field.injects)
    assert page.count("全部注入类型与字段") == len(every_field.injects) + 2  # each card, heading, <title>
    assert "A thief, &lt;b&gt;armed&lt;/b&gt; &amp; fast" not in page  # zh: the Chinese words
    assert "盗窃，嫌疑人持械" in page and "预期行动" in page and "Noto Sans CJK SC" in page
    assert "page-break-inside:avoid" in page and "@media print" in page
    assert "<script" not in page and "http" not in without_font_data(page)  # self-contained
    assert_font_covers_the_page(page)  # Chinese: its own font, boxes on no machine
    english = inject_cards_html(every_field, "en")
    assert '<html lang="en">' in english and "A thief, &lt;b&gt;armed&lt;/b&gt; &amp; fast" in english
    assert "T+00:02:00.5" in english and "23:32:00" in english and "00:10:00" in english  # past midnight


def test_cli_export_then_import(tmp_path, capsys):
    results = tmp_path / "results"
    assert (
        main(
            ["scenario", "export", "scenario=xiushan_trade_secret_leak", "lang=zh", f"results_dir={results}"]
        )
        == 0
    )
    (folder,) = results.iterdir()
    assert re.fullmatch(r"msel-xiushan_trade_secret_leak-\d{8}-\d{6}", folder.name)
    assert sorted(p.name for p in folder.iterdir()) == ["inject_cards.html", "msel.csv", "scenario.yaml"]
    shipped = Path(load_scenario("xiushan_trade_secret_leak").path)
    assert (folder / "scenario.yaml").read_bytes() == shipped.read_bytes()
    assert f"wrote {folder}/msel.csv" in capsys.readouterr().out
    assert main(["scenario", "import", str(folder / "msel.csv")]) == 0
    assert same(load_scenario(str(folder / "msel.yaml")), load_scenario("xiushan_trade_secret_leak"))
    assert f"wrote {folder / 'msel.yaml'}" in capsys.readouterr().out
    out = tmp_path / "mine.yaml"
    out.write_text("mine")
    assert main(["scenario", "import", str(folder / "msel.csv"), f"out={out}", "force=true"]) == 0
    assert same(load_scenario(str(out)), load_scenario("xiushan_trade_secret_leak"))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left
