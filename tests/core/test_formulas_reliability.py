"""Cluster MTBF, fleet failures, Young/Daly intervals and checkpoint goodput: hand-computed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pint import DimensionalityError

from mlsysim.core.formulas import reliability as rel
from mlsysim.core.units import Q_


def test_cluster_mtbf_scalar_and_array():
    # 50,000 h per GPU, 16,384 GPUs in one synchronous job: 50,000 / 16,384 = 3.0518 h
    result = rel.cluster_mtbf(Q_(50_000, "hour"), 16_384)
    assert result.m_as("hour") == pytest.approx(3.0517578125)
    many = rel.cluster_mtbf(Q_(1000, "hour"), np.array([1, 10, 1000]))
    np.testing.assert_allclose(many.m_as("hour"), [1000.0, 100.0, 1.0])


def test_cluster_mtbf_errors():
    with pytest.raises(DimensionalityError, match="'component_mtbf' of cluster_mtbf"):
        rel.cluster_mtbf(Q_(1, "m"), 8)
    with pytest.raises(
        ValueError, match=r"'num_components' of cluster_mtbf\(\) must be a whole number >= 1"
    ):
        rel.cluster_mtbf(Q_(1, "hour"), 0)


def test_fleet_failures():
    # 10,000 devices * 8766 h (pint's Julian year) / 87,660 h MTTF = 1000 failures a year
    result = rel.fleet_failures(10_000, Q_(1, "year"), Q_(87_660, "hour"))
    assert result.m_as("") == pytest.approx(10_000 * 8766 / 87_660)
    many = rel.fleet_failures(np.array([10, 100, 1000]), Q_(100, "hour"), Q_(1000, "hour"))
    np.testing.assert_allclose(many.m_as(""), [1.0, 10.0, 100.0])


def test_fleet_failures_errors():
    with pytest.raises(DimensionalityError, match="'duration' of fleet_failures"):
        rel.fleet_failures(10, Q_(1, "GB"), Q_(1, "hour"))
    with pytest.raises(ValueError, match=r"'mttf' of fleet_failures\(\) must be > 0"):
        rel.fleet_failures(10, Q_(1, "hour"), Q_(0, "hour"))


def test_young_daly_interval():
    # sqrt(2 * 60 s * 3600 s) = sqrt(432,000) = 657.27 s
    result = rel.young_daly_interval(Q_(1, "minute"), Q_(1, "hour"))
    assert result.m_as("s") == pytest.approx(math.sqrt(432_000))
    many = rel.young_daly_interval(Q_([2, 8, 32], "s"), Q_(100, "s"))
    np.testing.assert_allclose(many.m_as("s"), [20.0, 40.0, 80.0])


def test_young_daly_errors():
    with pytest.raises(DimensionalityError, match="'mtbf' of young_daly_interval"):
        rel.young_daly_interval(Q_(1, "s"), Q_(1, "m"))
    with pytest.raises(
        ValueError, match=r"'checkpoint_time' of young_daly_interval\(\) must be > 0"
    ):
        rel.young_daly_interval(Q_(0, "s"), Q_(1, "hour"))


def test_daly_interval():
    # delta 60, M 3600: ratio = 60/7200 = 1/120; sqrt(432000) * (1 + sqrt(1/120)/3 + 1/1080) - 60
    ratio = 1 / 120
    expected = math.sqrt(432_000) * (1 + math.sqrt(ratio) / 3 + ratio / 9) - 60
    result = rel.daly_interval(Q_(60, "s"), Q_(1, "hour"))
    assert result.m_as("s") == pytest.approx(expected)
    assert result.m_as("s") == pytest.approx(617.876, rel=1e-5)


def test_daly_interval_array_and_long_checkpoints():
    # delta >= 2M -> tau = M; delta = 2, M = 100: ratio 0.01 -> 20 * (1 + 0.1/3 + 0.01/9) - 2
    result = rel.daly_interval(Q_([2, 200, 500], "s"), Q_(100, "s"))
    np.testing.assert_allclose(result.m_as("s"), [20 * (1 + 0.1 / 3 + 0.01 / 9) - 2, 100.0, 100.0])
    with pytest.raises(DimensionalityError, match="'checkpoint_time' of daly_interval"):
        rel.daly_interval(Q_(1, "GB"), Q_(1, "s"))
    with pytest.raises(ValueError, match=r"'mtbf' of daly_interval\(\) must be > 0"):
        rel.daly_interval(Q_(1, "s"), Q_(-1, "s"))


def test_checkpoint_goodput_scalar():
    # tau 600, delta 60, M 3600, R 120: 1 - 0.1 - (300 + 120)/3600 = 0.9 - 0.116667 = 0.783333
    result = rel.checkpoint_goodput(
        Q_(10, "minute"), Q_(1, "minute"), Q_(1, "hour"), restart_time=Q_(2, "minute")
    )
    assert result.m_as("") == pytest.approx(0.9 - 420 / 3600)


def test_checkpoint_goodput_peaks_at_young_interval():
    # waste = delta/tau + tau/(2M) is minimised at tau = sqrt(2 delta M) = 657.27 s
    best = math.sqrt(432_000)
    taus = np.array([0.5 * best, best, 2 * best])
    result = rel.checkpoint_goodput(Q_(taus, "s"), Q_(60, "s"), Q_(3600, "s")).m_as("")
    # at tau*: 1 - 2 * 60 / 657.27 = 1 - 0.182574 = 0.817426
    assert result[1] == pytest.approx(1 - 120 / best)
    assert result[1] > result[0]
    assert result[1] > result[2]


def test_checkpoint_goodput_clips_at_zero():
    # tau 1000 s, M 100 s: 1 - 0.01 - 5 < 0 -> 0
    result = rel.checkpoint_goodput(Q_(1000, "s"), Q_(10, "s"), Q_(100, "s"))
    assert result.m_as("") == 0.0


def test_checkpoint_goodput_errors():
    with pytest.raises(DimensionalityError, match="'restart_time' of checkpoint_goodput"):
        rel.checkpoint_goodput(Q_(1, "s"), Q_(1, "s"), Q_(1, "s"), restart_time=Q_(1, "m"))
    with pytest.raises(ValueError, match=r"'checkpoint_interval' of checkpoint_goodput\(\) must"):
        rel.checkpoint_goodput(Q_(0, "s"), Q_(1, "s"), Q_(1, "hour"))


def test_availability():
    # 999 h up, 1 h repair: 0.999; array repair 0, 1, 9 h for 9 h MTBF -> 1, 0.9, 0.5
    assert rel.availability(Q_(999, "hour"), Q_(1, "hour")).m_as("") == pytest.approx(0.999)
    many = rel.availability(Q_(9, "hour"), Q_([0, 1, 9], "hour"))
    np.testing.assert_allclose(many.m_as(""), [1.0, 0.9, 0.5])
    with pytest.raises(DimensionalityError, match="'mttr' of availability"):
        rel.availability(Q_(9, "hour"), Q_(1, "GB"))
    with pytest.raises(ValueError, match=r"'mtbf' of availability\(\) must be > 0"):
        rel.availability(Q_(0, "hour"), Q_(1, "hour"))


def test_raw_path():
    assert rel.young_daly_interval.raw(60.0, 3600.0) == pytest.approx(math.sqrt(432_000))
