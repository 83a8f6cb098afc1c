"""A new result folder that appears only when it is complete.

Files are written into a hidden ``.<name>.…part`` folder beside it and renamed at the end; on any error
(or Ctrl-C) the partial folder is removed, so results/ never holds half a run. Names are
``<stem>-<date>-<time>`` (with ``-2``, ``-3`` if that second is taken): an earlier run is never overwritten.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path


def _free_name(results_dir: Path, stem: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path, n = results_dir / f"{stem}-{stamp}", 1
    while path.exists():
        n += 1
        path = results_dir / f"{stem}-{stamp}-{n}"
    return path


@contextmanager
def result_folder(results_dir: Path, stem: str) -> Iterator[tuple[Path, Path]]:
    """Yield (temporary folder to write into, final path it will have once the block ends cleanly)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    final = _free_name(results_dir, stem)
    tmp = Path(tempfile.mkdtemp(dir=results_dir, prefix=f".{final.name}.", suffix=".part"))
    try:
        yield tmp, final
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
