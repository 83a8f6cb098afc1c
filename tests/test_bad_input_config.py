"""Bad configuration values and paths, refused in one line before any work (see tests/bad_input.py)."""

from __future__ import annotations

import pytest
from bad_input import Bad, refuse

CASES = [
    Bad("negative speed", ("network.speeds_kph.trunk=-60",), "'network.speeds_kph.trunk'"),
    Bad("unknown key", ("+network.turbo=1",), "unknown config key 'network.turbo'"),
    Bad("unknown site", ("site=atlantis",), "unknown site"),
    Bad("unknown policy", ("policy=nope",), "unknown policy", command="run"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_config_is_refused_in_one_line(case, tmp_path, cache_dir, capsys):
    refuse(case, tmp_path, cache_dir, capsys)
