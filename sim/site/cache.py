"""Built sites kept in ``cache_dir``: a second command on the same site reads it back in a tenth of a second
instead of parsing the OSM file, preparing the graph and placing facilities again (2-5 s for Daishan).

A cached site is used only when everything it was built from is the same: the config keys a site depends on,
the input files (path and content), every source file of ``sim`` and ``agents`` (an edit to the
code builds anew), and the versions of Python and the libraries that build it. A site downloaded by place
name is not kept: what it would be built from is online. Any problem reading or writing the cache only costs
the rebuild, never an error.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import sys
import tempfile
from functools import cache
from importlib import metadata
from pathlib import Path

from sim.config import EchelonConfig, output_dir

# Config groups and keys a site never reads (sim.cli.NOT_FOR_SITE and the output folders).
NOT_FOR_SITE = (
    "policy",
    "incidents",
    "fleet",
    "delays",
    "run",
    "ladder",
    "lab",
    "sensitivity",
    "report",
    "results_dir",
    "cache_dir",
    "choices",
)
LIBRARIES = ("osmnx", "networkx", "geopandas", "shapely", "pyproj", "numpy", "pandas", "scipy", "pyrosm")
KEEP_FILES = 8  # built sites kept in a cache folder, the most recently written
PREFIX = "built-site-"


@cache
def _code_digest() -> str:
    """A hash of every Python file of the project's packages and of the library versions."""
    root = Path(__file__).resolve().parents[2]
    h = hashlib.sha256(sys.version.encode())
    for package in ("sim", "agents"):
        for path in sorted((root / package).rglob("*.py")):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    for name in LIBRARIES:
        try:
            h.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{name}=none".encode())
    return h.hexdigest()


def _input_files(cfg: EchelonConfig) -> list[str]:
    """The files a site is read from, by content: a file rewritten within the file system's timestamp
    granularity, at the same size, is still told apart (hashing even a large extract is cheap beside
    parsing it)."""
    named = [cfg.site.path if cfg.site.source == "file" else None, cfg.site.facilities]
    named.append(str(cfg.grid.path) if cfg.grid.layout == "file" else None)
    out = []
    for name in named:
        if name:
            h = hashlib.sha256()
            with Path(name).open("rb") as f:  # a missing file: OSError, the caller builds (and reports it)
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            out.append(f"{Path(name).resolve()}:{h.hexdigest()}")
    return out


def site_key(cfg: EchelonConfig, validate: bool) -> str | None:
    """The cache key of the site ``cfg`` builds; None for a site that is not kept."""
    if cfg.site.source == "place":
        return None
    try:
        files = _input_files(cfg)
    except OSError:
        return None
    settings = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in NOT_FOR_SITE}
    text = json.dumps([settings, files, validate, _code_digest()], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _path(cfg: EchelonConfig, key: str) -> Path:
    return output_dir(cfg.cache_dir) / f"{PREFIX}{cfg.site.name}-{key}.pickle"


def load(cfg: EchelonConfig, validate: bool):
    """The site built before from the same settings, inputs and code, or None."""
    key = site_key(cfg, validate)
    if key is None:
        return None
    try:
        with _path(cfg, key).open("rb") as f:
            return pickle.load(f)  # our own file in the user's cache folder, as osmnx's downloads are
    except Exception:  # missing, half-written by a killed run, or from other libraries: build anew
        return None


def save(site, cfg: EchelonConfig, validate: bool) -> None:
    """Keep ``site`` for the next command (written whole, then renamed: a reader never sees half a file)."""
    key = site_key(cfg, validate)
    if key is None:
        return
    path = _path(cfg, key)
    tmp: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as f:
            tmp = Path(f.name)
            pickle.dump(site, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        tmp = None
        _prune(path.parent)
    except (OSError, pickle.PicklingError):
        pass  # a read-only or full cache folder: the next command builds the site again
    finally:
        if tmp is not None:  # not renamed: an error or a stop signal while writing
            tmp.unlink(missing_ok=True)


def _prune(folder: Path) -> None:
    """Only the KEEP_FILES most recently written sites stay: each code change writes a new one."""
    kept = sorted(folder.glob(f"{PREFIX}*.pickle"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in kept[KEEP_FILES:]:
        old.unlink(missing_ok=True)
