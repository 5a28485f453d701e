"""Propagation and transmission delay against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from pint import DimensionalityError

from mlsysim.core.formulas import network
from mlsysim.core.units import Q_


def test_propagation_delay_fibre():
    # 1000 km / (0.67 * 299,792,458 m/s) = 1e6 / 200,860,946.86 = 4.9786 ms
    result = network.propagation_delay(Q_(1000, "km"))
    assert result.m_as("ms") == pytest.approx(4.97857, rel=1e-5)


def test_propagation_delay_vacuum_and_array():
    # velocity factor 1: 299,792.458 km -> 1 s; 0 km -> 0 s
    result = network.propagation_delay(Q_([0, 299_792.458, 599_584.916], "km"), 1.0)
    np.testing.assert_allclose(result.m_as("s"), [0.0, 1.0, 2.0])


def test_propagation_delay_errors():
    with pytest.raises(DimensionalityError, match="'distance' of propagation_delay"):
        network.propagation_delay(Q_(1, "s"))
    with pytest.raises(ValueError, match=r"'distance' of propagation_delay\(\) must be >= 0"):
        network.propagation_delay(Q_(-1, "km"))
    with pytest.raises(ValueError, match=r"'velocity_factor' of propagation_delay\(\) must be in"):
        network.propagation_delay(Q_(1, "km"), velocity_factor=1.5)


def test_transmission_delay():
    # 1 GB at 100 GB/s = 10 ms; array 1, 10, 100 MB at 1 GB/s = 1, 10, 100 ms
    assert network.transmission_delay(Q_(1, "GB"), Q_(100, "GB/s")).m_as("ms") == pytest.approx(10)
    result = network.transmission_delay(Q_([1, 10, 100], "MB"), Q_(1, "GB/s"))
    np.testing.assert_allclose(result.m_as("ms"), [1.0, 10.0, 100.0])
    with pytest.raises(DimensionalityError, match="'bandwidth' of transmission_delay"):
        network.transmission_delay(Q_(1, "GB"), Q_(1, "GB"))
    with pytest.raises(ValueError, match=r"'bandwidth' of transmission_delay\(\) must be > 0"):
        network.transmission_delay(Q_(1, "GB"), Q_(0, "GB/s"))


def test_raw_path():
    assert network.propagation_delay.raw(299_792_458.0, 1.0) == pytest.approx(1.0)
