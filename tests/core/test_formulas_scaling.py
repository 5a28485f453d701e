"""Amdahl, Gustafson and parallel efficiency against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from pint import DimensionalityError

from mlsysim.core.formulas import scaling
from mlsysim.core.units import Q_


def test_amdahl_scalar():
    # p = 0.95, n = 10: 1 / (0.05 + 0.095) = 1 / 0.145 = 6.8966
    assert scaling.amdahl_speedup(0.95, 10).m_as("") == pytest.approx(1 / 0.145)


def test_amdahl_array_approaches_limit():
    # n = 1 -> 1; n = 100 -> 1 / (0.05 + 0.0095) = 16.807; n = 1e9 -> ~1 / 0.05 = 20
    result = scaling.amdahl_speedup(0.95, np.array([1, 100, 1e9]))
    np.testing.assert_allclose(result.m_as(""), [1.0, 1 / 0.0595, 20.0], rtol=1e-6)


def test_amdahl_accepts_percent_quantity():
    # 95 % = 0.95
    assert scaling.amdahl_speedup(Q_(95, "percent"), 10).m_as("") == pytest.approx(1 / 0.145)


def test_amdahl_errors():
    with pytest.raises(DimensionalityError, match="'n' of amdahl_speedup"):
        scaling.amdahl_speedup(0.9, Q_(4, "s"))
    with pytest.raises(ValueError, match=r"'n' of amdahl_speedup\(\) must be a whole number >= 1"):
        scaling.amdahl_speedup(0.9, 0)
    with pytest.raises(
        ValueError, match=r"'parallel_fraction' of amdahl_speedup\(\) must be in \[0, 1\]"
    ):
        scaling.amdahl_speedup(1.2, 4)


def test_gustafson_scalar_and_array():
    # p = 0.95, n = 10: 0.05 + 9.5 = 9.55; n = 1, 100 -> 1, 95.05
    assert scaling.gustafson_speedup(0.95, 10).m_as("") == pytest.approx(9.55)
    result = scaling.gustafson_speedup(0.95, np.array([1, 10, 100]))
    np.testing.assert_allclose(result.m_as(""), [1.0, 9.55, 95.05])


def test_gustafson_errors():
    with pytest.raises(DimensionalityError, match="'parallel_fraction' of gustafson_speedup"):
        scaling.gustafson_speedup(Q_(0.5, "m"), 4)
    with pytest.raises(
        ValueError, match=r"'n' of gustafson_speedup\(\) must be a whole number >= 1"
    ):
        scaling.gustafson_speedup(0.5, -4)
    with pytest.raises(ValueError, match=r"'parallel_fraction' of gustafson_speedup\(\)"):
        scaling.gustafson_speedup(-0.1, 4)


def test_parallel_efficiency():
    # 6.8966 / 10 = 0.68966; array: 8/8, 12/16, 16/32
    assert scaling.parallel_efficiency(1 / 0.145, 10).m_as("") == pytest.approx(0.68966, rel=1e-4)
    result = scaling.parallel_efficiency(np.array([8, 12, 16]), np.array([8, 16, 32]))
    np.testing.assert_allclose(result.m_as(""), [1.0, 0.75, 0.5])
    with pytest.raises(ValueError, match=r"'speedup' of parallel_efficiency\(\) must be > 0"):
        scaling.parallel_efficiency(0, 4)
    with pytest.raises(DimensionalityError, match="'speedup' of parallel_efficiency"):
        scaling.parallel_efficiency(Q_(2, "s"), 4)


def test_raw_path():
    assert scaling.amdahl_speedup.raw(0.5, 2) == pytest.approx(4 / 3)
