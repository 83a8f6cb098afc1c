"""The benchmarks write README's measured blocks themselves: every figure there comes from a measurement."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.bench import model as bench_model
from sim.bench import routing as bench_routing
from sim.bench.readme_block import paragraph, replace_block, sig

README = Path(__file__).resolve().parents[1] / "README.md"


def routing_rows(moving_ratio_small: float) -> list[dict]:
    def row(site, nodes, units, base, table, moving, nxtable):
        return {
            "site": site,
            "nodes": nodes,
            "edges": nodes * 3,
            "units": units,
            "queries": 1000,
            "baseline_queries_timed": 50,
            "baseline_scaled": True,
            "baseline_s": base,
            "networkx_table_s": nxtable,
            "echelon_table_s": table,
            "echelon_moving_s": moving,
            "speedup_table": base / table,
            "speedup_moving": base / moving,
            "speedup_table_vs_networkx_table": nxtable / table,
            "unreachable_pairs": 0,
        }

    return [
        row("daishan", 2688, 60, 598.0, 0.019, 0.33, 1.092),
        row("helsinki", 289, 7, 3.14, 0.0037, 3.14 / moving_ratio_small, 0.008),
    ]


@pytest.mark.parametrize("ratio", [42.0, 69.0])
def test_the_routing_block_quotes_the_measured_ratio(ratio):
    block = bench_routing.readme_block(routing_rows(ratio))
    words = " ".join(block.split())
    assert f"moving units is {ratio:.0f}x per-query networkx" in words
    assert "below 50x" not in words  # no figure typed by hand
    assert "| helsinki | 289 | 867 | 7 | 3.14* |" in block
    assert "timed on the first 50 of the 1,000 incidents" in words
    prose = [line for line in block.splitlines() if not line.startswith("|")]
    assert all(len(line) <= 110 for line in prose)


def test_the_model_block_is_the_table_and_what_the_world_adds():
    rows = [
        {
            "site": "daishan",
            "policy": policy,
            "days": 30.0,
            "replications": 10,
            "incidents": 243,
            "events": 6511,
            "cpu_s": cpu_s,
            "world_cpu_s": 0.065,
            "incidents_per_cpu_s": 243 / cpu_s,
        }
        for policy, cpu_s in (("echelon_135", 0.15), ("police_only", 0.05))
    ]
    block = bench_model.readme_block(rows)
    words = " ".join(block.split())
    assert "| daishan | echelon_135 | 30 x 10 | 243 | 6,511 | 0.150 | 1,620 (below 2,000) | 0.065 |" in block
    assert "1 of 2 rows fall below the bar" in words
    assert f"{243 / (0.15 + 0.065):,.0f} (echelon_135)" in words


def test_a_block_replaces_only_the_text_between_its_markers():
    text = "before\n<!-- x:start -->\nold 50x\n<!-- x:end -->\nafter 50x\n"
    assert (
        replace_block(text, "x", "new 69x")
        == "before\n<!-- x:start -->\nnew 69x\n<!-- x:end -->\nafter 50x\n"
    )
    with pytest.raises(ValueError, match="markers"):
        replace_block(text, "y", "z")


def test_readme_has_the_blocks_and_no_hand_typed_figures_in_them():
    text = README.read_text(encoding="utf-8")
    for name in ("bench", "bench-model", "bench-scale"):
        block = re.search(f"<!-- {name}:start -->(.*?)<!-- {name}:end -->", text, re.S)
        assert block, name
        assert "make bench` rewrites" in " ".join(block.group(1).split())


def test_numbers_and_paragraphs_are_formatted_as_readme_prose():
    assert [sig(598.0), sig(3.14), sig(0.019), sig(31409.2)] == ["598", "3.14", "0.0190", "31,409"]
    wrapped = paragraph("word " * 60 + "- not a list item")
    assert all(not line.startswith("-") for line in wrapped.splitlines())
