"""A built site is read back from cache_dir only when what it is built from is the same."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.config import load_config
from sim.site import build, cache


def test_a_built_site_is_read_back_and_only_for_the_same_settings(tmp_path, monkeypatch):
    cfg = load_config([f"cache_dir={tmp_path}"])
    first = build.build_site(cfg)
    assert len(list(tmp_path.glob(f"{cache.PREFIX}daishan-*.pickle"))) == 1

    def refuse(*_args, **_kwargs):
        raise AssertionError("built again")

    monkeypatch.setattr(build, "_build_site", refuse)
    again = build.build_site(cfg)  # from the cache
    pd.testing.assert_frame_equal(pd.DataFrame(again.enterprises), pd.DataFrame(first.enterprises))
    assert again.warnings == first.warnings and again.router.n_nodes == first.router.n_nodes
    assert build.build_site(load_config([f"cache_dir={tmp_path}", "policy=police_only", "run.days=3"]))
    for other in ("grid.cell_m=500", "seed=3"):  # a setting the site depends on: built anew
        with pytest.raises(AssertionError, match="built again"):
            build.build_site(load_config([f"cache_dir={tmp_path}", other]))


def test_an_input_file_is_known_by_its_content(tmp_path):
    osm = tmp_path / "a.osm"
    osm.write_text("<osm>1</osm>")
    cfg = load_config([f"cache_dir={tmp_path}", "site=file", f"site.path={osm}"])
    before = cache.site_key(cfg, True)
    osm.write_text("<osm>2</osm>")  # same size, perhaps the same modification time
    assert cache.site_key(cfg, True) != before
    osm.unlink()
    assert cache.site_key(cfg, True) is None  # missing: not cached, the build reports it
