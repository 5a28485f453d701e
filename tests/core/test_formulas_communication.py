"""Ring and tree all-reduce (alpha-beta model) against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from pint import DimensionalityError

from mlsysim.core.formulas import communication as comm
from mlsysim.core.units import Q_

GB = Q_(1, "GB")
BW = Q_(100, "GB/s")


def test_ring_allreduce_bandwidth_term():
    # 2 * 7/8 * (1e9 / 100e9) = 1.75 * 0.01 s = 17.5 ms
    assert comm.ring_allreduce_time(GB, 8, BW).m_as("ms") == pytest.approx(17.5)


def test_ring_allreduce_with_latency():
    # 17.5 ms + 2 * 7 * 10 us = 17.5 + 0.14 = 17.64 ms
    result = comm.ring_allreduce_time(GB, 8, BW, latency=Q_(10, "us"))
    assert result.m_as("ms") == pytest.approx(17.64)


def test_ring_allreduce_array_over_devices():
    # p = 1 -> 0; p = 2 -> 2 * 1/2 * 10 ms = 10 ms; p = 1024 -> 2 * 1023/1024 * 10 ms = 19.98 ms
    result = comm.ring_allreduce_time(GB, np.array([1, 2, 1024]), BW)
    np.testing.assert_allclose(result.m_as("ms"), [0.0, 10.0, 20 * 1023 / 1024])


def test_ring_allreduce_errors():
    with pytest.raises(DimensionalityError, match="'bandwidth' of ring_allreduce_time"):
        comm.ring_allreduce_time(GB, 8, Q_(100, "GB"))
    with pytest.raises(DimensionalityError, match="'latency' of ring_allreduce_time"):
        comm.ring_allreduce_time(GB, 8, BW, latency=Q_(1, "m"))
    with pytest.raises(
        ValueError, match=r"'num_devices' of ring_allreduce_time\(\) must be a whole number >= 1"
    ):
        comm.ring_allreduce_time(GB, 0, BW)
    with pytest.raises(
        ValueError, match=r"'message_bytes' of ring_allreduce_time\(\) must be >= 0"
    ):
        comm.ring_allreduce_time(Q_(-1, "GB"), 8, BW)


def test_tree_allreduce_scalar():
    # 2 * log2(8) * (5 us + 10 ms) = 6 * 10.005 ms = 60.03 ms
    result = comm.tree_allreduce_time(GB, 8, BW, latency=Q_(5, "us"))
    assert result.m_as("ms") == pytest.approx(60.03)


def test_tree_allreduce_array():
    # small message 1 kB at 100 GB/s = 10 ns, alpha 1 us: p = 2, 4, 16 -> 2*[1,2,4]*1.01 us
    result = comm.tree_allreduce_time(Q_(1, "kB"), np.array([2, 4, 16]), BW, latency=Q_(1, "us"))
    np.testing.assert_allclose(result.m_as("us"), [2.02, 4.04, 8.08])


def test_tree_allreduce_errors():
    with pytest.raises(DimensionalityError, match="'message_bytes' of tree_allreduce_time"):
        comm.tree_allreduce_time(Q_(1, "s"), 8, BW)
    with pytest.raises(ValueError, match=r"'bandwidth' of tree_allreduce_time\(\) must be > 0"):
        comm.tree_allreduce_time(GB, 8, Q_(0, "GB/s"))


def test_ring_allgather_is_half_an_allreduce():
    # 7/8 * 10 ms + 7 * 10 us = 8.75 + 0.07 = 8.82 ms
    result = comm.ring_allgather_time(GB, 8, BW, latency=Q_(10, "us"))
    assert result.m_as("ms") == pytest.approx(8.82)
    many = comm.ring_allgather_time(GB, np.array([2, 4, 8]), BW)
    np.testing.assert_allclose(many.m_as("ms"), [5.0, 7.5, 8.75])
    with pytest.raises(DimensionalityError, match="'num_devices' of ring_allgather_time"):
        comm.ring_allgather_time(GB, Q_(8, "s"), BW)
    with pytest.raises(ValueError, match=r"'latency' of ring_allgather_time\(\) must be >= 0"):
        comm.ring_allgather_time(GB, 8, BW, latency=Q_(-1, "us"))


def test_raw_path():
    assert comm.ring_allreduce_time.raw(1e9, 8, 100e9) == pytest.approx(0.0175)
