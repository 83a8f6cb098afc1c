"""The code of the day a speed target was set, checked out beside this one so both are timed in the same
minutes. A ratio to a fixed number of seconds measured once moves with this VM's speed (it wanders by a
third within the hour); the same commands of both trees timed pass by pass do not."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MAKE_RUN_BASELINE = "a2b00e9"  # the commit when issue 11 set `make run`'s target (35 s, 1.6x faster)


@contextmanager
def worktree(root: Path, commit: str) -> Iterator[tuple[Path | None, str]]:
    """(a checkout of ``commit`` in a temporary git worktree of ``root``, "") or (None, why not): no git, not
    a repository, or the commit not in its history. Removed on leaving; nothing is downloaded."""
    with tempfile.TemporaryDirectory(prefix="echelon-baseline-") as tmp:
        tree = Path(tmp) / commit
        try:
            added = subprocess.run(
                ["git", "worktree", "add", "--detach", str(tree), commit],
                cwd=root,
                capture_output=True,
                text=True,
            )
        except OSError as err:
            yield None, f"git is not available ({err.strerror})"
            return
        if added.returncode != 0:
            why = (added.stderr.strip().splitlines() or ["git worktree add failed"])[-1]
            yield None, f"no checkout of {commit}: {why}"
            return
        try:
            yield tree, ""
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=root, capture_output=True)
            subprocess.run(["git", "worktree", "prune"], cwd=root, capture_output=True)


def entry_module(tree: Path) -> str:
    """The tree's command-line module (trees older than ``sim.entry`` had only ``sim.cli``)."""
    return "sim.entry" if (tree / "sim" / "entry.py").exists() else "sim.cli"
