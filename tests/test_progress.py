"""Progress: the engine reports stages through a callback; the command line draws tqdm bars on a
terminal's stderr only."""

from __future__ import annotations

import io
import sys

from sim.cli import _progress
from sim.config import load_config
from sim.experiment import compare, write_results


def test_compare_and_write_results_report_every_step(daishan_site, cache_dir, tmp_path):
    overrides = [f"cache_dir={cache_dir}", "run.days=1", "run.replications=2"]
    cfgs = {p: load_config([*overrides, f"policy={p}"]) for p in ("police_only", "echelon_135")}
    heard: list[tuple[str, int, int]] = []
    reps = compare(cfgs, daishan_site, lambda *step: heard.append(step))
    assert [h for h in heard if h[0] == "simulating"] == [("simulating", i, 4) for i in range(5)]
    heard.clear()
    write_results(
        reps,
        cfgs,
        daishan_site,
        "police_only",
        "p",
        results_dir=tmp_path,
        progress=lambda *s: heard.append(s),
    )
    stages = {stage for stage, _, _ in heard}
    assert stages == {"writing"}
    assert heard[0] == ("writing", 0, 5) and heard[-1] == ("writing", 5, 5)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bars_appear_on_a_terminal_and_nowhere_else(monkeypatch):
    for stream, shown in ((Terminal(), True), (io.StringIO(), False)):
        monkeypatch.setattr(sys, "stderr", stream)
        with _progress() as progress:
            for i in range(4):
                progress("simulating", i, 3)
            progress("writing", 0, 1)
            progress("writing", 1, 1)
        text = stream.getvalue()
        assert ("simulating:" in text and "/3 runs" in text and "writing ..." in text) is shown, text
        assert text.endswith("\r") or not shown  # each bar wiped once done: printed lines stay clean
