"""The harness for the tables of bad inputs (tests/test_bad_input_*.py).

A user's mistake must end in one clear line on stderr (``echelon: error: ...``, with validation problems
listed under it as ``  - ...``), exit status 2, no traceback, and no folder left in results_dir, not even a
hidden one. Each table row says what to type, which bad files to write first, and what the line must say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sim.cli import main


@dataclass(frozen=True)
class Bad:
    """One bad input: ``echelon <command> <args>`` must be refused with ``message`` in the error line."""

    id: str
    args: tuple[str, ...]  # overrides; "{tmp}" stands for the case's own folder
    message: str  # must appear in the first line of stderr
    make: Callable[[Path], None] | None = None  # writes the bad files under the case's folder
    command: str = "site"

    def __str__(self) -> str:
        return self.id


def refuse(case: Bad, tmp_path: Path, cache_dir: Path, capsys) -> str:
    """Run ``case`` in this process; assert it is refused cleanly; return the error line."""
    if case.make is not None:
        case.make(tmp_path)
    args = [a.replace("{tmp}", str(tmp_path)) for a in case.args]
    results = tmp_path / "results"
    if not any(a.startswith("results_dir=") for a in args):
        args.append(f"results_dir={results}")
    if not any(a.startswith("cache_dir=") for a in args):
        args.append(f"cache_dir={cache_dir}")
    capsys.readouterr()
    code = main([case.command, *args])
    err = capsys.readouterr().err
    assert code == 2, f"{case.id}: exit {code}, stderr: {err}"
    assert "Traceback" not in err, err
    first, *rest = err.strip().splitlines()
    assert first.startswith("echelon: error: "), err
    assert case.message in first, f"{case.id}: {case.message!r} not in {first!r}"
    assert all(line.startswith("  - ") for line in rest), err
    leftovers = sorted(p.name for p in results.iterdir()) if results.is_dir() else []
    assert not leftovers, f"{case.id}: left {leftovers} in results_dir"
    return first
