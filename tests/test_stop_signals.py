"""Stopping a run at any moment (Ctrl-C, SIGTERM from ``timeout``, SIGHUP from a closed terminal, even
SIGKILL) leaves no half-written result folder behind, and says so in one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import start, stop_leaves_nothing

from sim.errors import Stopped
from sim.result_folder import OWNER_FILE, remove_abandoned, result_folder


def _start(tmp_path: Path, cache_dir: Path, *args: str) -> subprocess.Popen:
    return start(*args, f"results_dir={tmp_path / 'results'}", f"cache_dir={cache_dir}")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
@pytest.mark.parametrize("after_s", [0.4, 4.0])
def test_a_stopped_comparison_leaves_nothing(sig, after_s, tmp_path, cache_dir):
    proc = _start(tmp_path, cache_dir, "compare", "run.days=20", "run.replications=4")
    time.sleep(after_s)
    stop_leaves_nothing(proc, sig, tmp_path / "results")


def test_a_stop_signal_while_writing_removes_the_partial_folder(tmp_path):
    with pytest.raises(Stopped), result_folder(tmp_path, "run") as (tmp, _final):
        (tmp / "events.csv").write_text("t_s\n1\n")
        raise Stopped(signal.SIGTERM)
    assert list(tmp_path.iterdir()) == []


def test_a_killed_runs_partial_folder_is_removed_by_the_next_run(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)  # a process that has ended
    host = os.uname().nodename
    killed = tmp_path / ".run-x-20260101-000000.abcd1234.part"
    killed.mkdir()
    (killed / OWNER_FILE).write_text(f"{host} {pid}\n")
    running = tmp_path / ".run-y-20260101-000000.abcd1234.part"
    running.mkdir()
    (running / OWNER_FILE).write_text(f"{host} {os.getpid()}\n")  # this process: still writing
    foreign = tmp_path / ".notes.part"  # not ours: no owner file
    foreign.mkdir()
    assert remove_abandoned(tmp_path) == [killed]
    assert running.exists() and foreign.exists()
    with result_folder(tmp_path, "run") as (_tmp, final):
        pass
    assert final.exists() and not (final / OWNER_FILE).exists()


def test_result_folders_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with result_folder(tmp_path, "run") as (_tmp, final):
            pass
    finally:
        os.umask(old)
    assert final.stat().st_mode & 0o777 == 0o755


def _compiled_module_starting_up(_overrides) -> int:
    """A command interrupted while a compiled module starts up: the module reports the KeyboardInterrupt
    as an ImportError of its own (as matplotlib's pybind11 modules do)."""
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)  # the signal lands here
    except KeyboardInterrupt:
        raise ImportError("initialization failed") from None
    raise AssertionError("no SIGINT")


def test_ctrl_c_reported_as_another_error_by_what_it_interrupted_is_still_the_stop(monkeypatch, capsys):
    from sim import cli

    monkeypatch.setitem(cli.COMMANDS, "run", _compiled_module_starting_up)
    before = signal.getsignal(signal.SIGINT)
    assert cli.main(["run"]) == 130
    assert capsys.readouterr().err.strip() == "echelon: stopped by SIGINT; nothing was written"
    assert signal.getsignal(signal.SIGINT) is before  # put back

    def fault(_overrides):
        raise ImportError("a real one")

    monkeypatch.setitem(cli.COMMANDS, "run", fault)
    with pytest.raises(ImportError, match="a real one"):  # no stop signal: a fault keeps its traceback
        cli.main(["run"])

    def fault_after_a_handled_stop(_overrides):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except KeyboardInterrupt:
            pass  # handled by the code it interrupted
        raise ValueError("a fault of its own")

    monkeypatch.setitem(cli.COMMANDS, "run", fault_after_a_handled_stop)
    with pytest.raises(ValueError, match="a fault of its own"):  # not the stop's doing: its traceback
        cli.main(["run"])
