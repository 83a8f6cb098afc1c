"""A new result folder that appears only when it is complete.

Files are written into a hidden ``.<name>.…part`` folder beside it and renamed at the end; on any error,
Ctrl-C or a stop signal the partial folder is removed, so results/ never holds half a run. A run killed
outright (SIGKILL, power loss) cannot clean up: its ``.part`` folder names the host and process that
wrote it, and the next run in the same folder removes it once that process is gone. Names are
``<stem>-<date>-<time>`` (with ``-2``, ``-3`` if that second is taken): an earlier run is never
overwritten. Folders get the user's usual permissions (umask), like any folder they make.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

from sim.errors import ConfigError

OWNER_FILE = ".owner"  # inside a .part folder: "<host> <pid>" of the process writing it


def check_writable(folder: Path, key: str) -> None:
    """Before any long work: ``folder`` is (or can be made) a folder this process can write in.

    Folders created for the check are removed again, so a run refused later leaves nothing behind."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"config key '{key}': '{folder}' is a file; it must be a folder (made if missing)")
    created = [p for p in [folder, *folder.parents] if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".echelon-write-check-{secrets.token_hex(4)}"
        probe.mkdir()
        probe.rmdir()
    except OSError as err:
        raise ConfigError(
            f"config key '{key}': cannot write in '{folder}' ({err.strerror or err}); "
            "give a folder you can write in"
        ) from None
    finally:
        for p in created:  # deepest first
            with suppress(OSError):
                p.rmdir()


def _free_name(results_dir: Path, stem: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path, n = results_dir / f"{stem}-{stamp}", 1
    while path.exists():
        n += 1
        path = results_dir / f"{stem}-{stamp}-{n}"
    return path


def process_alive(pid: int) -> bool:
    """Process ``pid`` on this host is running (or belongs to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned(results_dir: Path) -> list[Path]:
    """Remove ``.part`` folders whose writer, on this host, is no longer running; return them."""
    removed = []
    host = socket.gethostname()
    for part in results_dir.glob(".*.part"):
        try:
            owner_host, pid = (part / OWNER_FILE).read_text().split()
        except (OSError, ValueError):
            continue  # not ours, or still being set up: leave it
        if owner_host == host and not process_alive(int(pid)):
            shutil.rmtree(part, ignore_errors=True)
            removed.append(part)
    return removed


@contextmanager
def result_folder(results_dir: Path, stem: str) -> Iterator[tuple[Path, Path]]:
    """Yield (temporary folder to write into, final path it will have once the block ends cleanly)."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    remove_abandoned(results_dir)
    with written_whole(_free_name(results_dir, stem)) as (tmp, final):
        yield tmp, final


@contextmanager
def written_whole(final: Path) -> Iterator[tuple[Path, Path]]:
    """Yield (temporary folder, ``final``): the folder appears at ``final`` only once the block ends cleanly.

    A sweep's runs have fixed names (a rerun finds them); refused if ``final`` exists already."""
    if final.exists():
        raise ConfigError(f"'{final}' exists already; it is never overwritten")
    tmp = final.parent / f".{final.name}.{secrets.token_hex(4)}.part"
    tmp.mkdir()  # mode 0o777 less the umask, as the user expects (mkdtemp would make it 0o700)
    try:
        (tmp / OWNER_FILE).write_text(f"{socket.gethostname()} {os.getpid()}\n")
        yield tmp, final
        (tmp / OWNER_FILE).unlink()
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
