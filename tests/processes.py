"""The ``echelon`` command in a child process, and that child's own children, as the stop tests need them."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

# The ``echelon`` script's way in. Not ``-m sim.cli``: under ``-m`` CPython 3.12 turns a Ctrl-C that landed
# inside a string ``exec`` (a dataclass being made on a lazy import) into a death by SIGINT at exit, even
# though the command caught it, printed its line and returned 130.
ENTRY = "import sys; from sim.entry import main; sys.exit(main())"


def echelon(*args: str) -> list[str]:
    """The command line of ``echelon <args>`` run by this Python."""
    return [sys.executable, "-c", ENTRY, *args]


def start(*args: str) -> subprocess.Popen:
    """``echelon <args>`` started with its output captured and Ctrl-C at its default (a background job may
    ignore it)."""
    return subprocess.Popen(
        echelon(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def children(pid: int, marker: bytes = b"") -> list[int]:
    """Processes whose parent is ``pid`` and whose command line holds ``marker`` (from /proc: no psutil)."""
    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (proc / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid and marker in command:
            out.append(int(proc.name))
    return out


def stop_leaves_nothing(proc: subprocess.Popen, sig: int, results: Path) -> None:
    """Send ``sig``; the command ends with 128 + sig, its one line, and no result folder in ``results``."""
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, err
    assert err.strip() == f"echelon: stopped by {signal.Signals(sig).name}; nothing was written", err
    assert not results.exists() or not any(results.iterdir())
