"""Shared fixtures: shipped sites built once per test session, in a private cache folder."""

from __future__ import annotations

import pytest

from sim.config import load_config
from sim.site.build import build_site


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("echelon-cache")


@pytest.fixture(scope="session")
def daishan_cfg(cache_dir):
    return load_config([f"cache_dir={cache_dir}"])


@pytest.fixture(scope="session")
def daishan_site(daishan_cfg):
    return build_site(daishan_cfg)


@pytest.fixture(scope="session")
def helsinki_site(cache_dir):
    return build_site(load_config(["site=helsinki", f"cache_dir={cache_dir}"]))
