"""Named random streams: one seed per run, split by name with numpy's SeedSequence.

Why names: two policies must see the same incidents (common random numbers), and adding a draw in one part
of the model must not shift the draws of another. A stream's identity is (seed, name), so
``stream(seed, "incidents")`` is the same generator whatever else the run asks for. Names are hashed with
SHA-256, never Python's ``hash()``, which changes between processes.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _name_key(name: str) -> list[int]:
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def stream(seed: int, name: str) -> np.random.Generator:
    """The random generator named ``name`` for run ``seed``."""
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *_name_key(name)])))
