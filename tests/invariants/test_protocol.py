"""published_value: what a check or golden value looks like on the wire."""

from __future__ import annotations

import numpy as np

from invariants.protocol import PublishedValue, published_value
from mlsysim import Q_


def test_a_quantity_keeps_full_magnitude_and_long_unit_but_reads_at_six_digits():
    # H100 ridge point: 989.4e12 / 3.35e12 = 295.34328358208955 FLOP/byte
    ridge = Q_(989.4e12, "flop/s") / Q_(3.35e12, "byte/s")
    assert published_value(ridge) == PublishedValue(
        magnitude=295.34328358208955, unit="flop / byte", text="295.343 FLOP/B"
    )


def test_large_and_small_quantities_use_pints_pretty_exponent():
    assert published_value(Q_(137.96e9, "B")).text == "1.3796×10¹¹ B"
    assert published_value(Q_(0.055461254037424086, "s")).text == "0.0554613 s"


def test_plain_numbers_read_at_six_digits_and_integers_stay_whole():
    assert published_value(0.1 + 0.2) == PublishedValue(0.30000000000000004, None, "0.3")
    assert published_value(12345678) == PublishedValue(12345678.0, None, "12345678")


def test_arrays_keep_every_element():
    value = published_value(Q_(np.array([1.5, 2.0]), "ms"))
    assert value.magnitude == [1.5, 2.0]
    assert value.unit == "millisecond"


def test_non_finite_magnitudes_are_sent_as_null():
    assert published_value(float("nan")).magnitude is None
    assert published_value(Q_(float("inf"), "s")).magnitude is None
