"""Named random streams: reproducible by (seed, name), independent across names."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.streams import stream


@given(seed=st.integers(min_value=0, max_value=2**63), name=st.text(min_size=1, max_size=20))
def test_same_seed_and_name_give_the_same_draws(seed, name):
    assert np.array_equal(stream(seed, name).random(5), stream(seed, name).random(5))


def test_names_and_seeds_separate_streams():
    a = stream(1, "incidents").random(100)
    assert not np.array_equal(a, stream(1, "delays").random(100))
    assert not np.array_equal(a, stream(2, "incidents").random(100))


def test_drawing_from_one_stream_does_not_shift_another():
    first = stream(7, "incidents").random(10)
    stream(7, "delays").random(1000)
    assert np.array_equal(first, stream(7, "incidents").random(10))


def test_negative_seed_is_refused():
    with pytest.raises(ValueError, match="seed must be >= 0"):
        stream(-1, "x")
