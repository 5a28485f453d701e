"""Roofline formulas against hand-computed values (H100 SXM: 989.4 TFLOP/s bf16, 3.35 TB/s)."""

from __future__ import annotations

import numpy as np
import pytest
from pint import DimensionalityError

from mlsysim.core.formulas import performance as perf
from mlsysim.core.units import Q_

PEAK = Q_(989.4, "TFLOPs")
BW = Q_(3.35, "TB/s")


def test_arithmetic_intensity_scalar():
    # 2e12 FLOP / 1e9 byte = 2000 FLOP/byte
    result = perf.arithmetic_intensity(Q_(2e12, "flop"), Q_(1, "GB"))
    assert result.m_as("flop/byte") == pytest.approx(2000.0)


def test_arithmetic_intensity_array():
    result = perf.arithmetic_intensity(Q_(1e9, "flop"), Q_([1e6, 1e7, 1e8], "byte"))
    np.testing.assert_allclose(result.m_as("flop/byte"), [1000.0, 100.0, 10.0])


def test_arithmetic_intensity_errors():
    with pytest.raises(DimensionalityError, match="'bytes_moved' of arithmetic_intensity"):
        perf.arithmetic_intensity(Q_(1, "flop"), Q_(1, "s"))
    with pytest.raises(ValueError, match=r"'bytes_moved' of arithmetic_intensity\(\) must be > 0"):
        perf.arithmetic_intensity(Q_(1, "flop"), Q_(0, "byte"))


def test_ridge_point_h100():
    # 989.4e12 / 3.35e12 = 295.343 FLOP/byte
    assert perf.ridge_point(PEAK, BW).m_as("flop/byte") == pytest.approx(295.3433, rel=1e-6)


def test_ridge_point_array():
    # A100 bf16 312e12 / 2.039e12 = 153.02; H100 295.34
    result = perf.ridge_point(Q_([312e12, 989.4e12], "flop/s"), Q_([2.039e12, 3.35e12], "byte/s"))
    np.testing.assert_allclose(result.m_as("flop/byte"), [153.0162, 295.3433], rtol=1e-6)


def test_ridge_point_errors():
    with pytest.raises(DimensionalityError, match="'peak_flops' of ridge_point"):
        perf.ridge_point(Q_(1, "byte/s"), BW)
    with pytest.raises(ValueError, match=r"'memory_bandwidth' of ridge_point\(\) must be > 0"):
        perf.ridge_point(PEAK, Q_(-1, "byte/s"))


def test_roofline_throughput_scalar_memory_and_compute_roof():
    # intensity 10: 3.35e12 * 10 = 33.5 TFLOP/s (memory roof); intensity 1000: capped at peak
    low = perf.roofline_throughput(PEAK, BW, Q_(10, "flop/byte"))
    high = perf.roofline_throughput(PEAK, BW, Q_(1000, "flop/byte"))
    assert low.m_as("TFLOPs") == pytest.approx(33.5)
    assert high.m_as("TFLOPs") == pytest.approx(989.4)


def test_roofline_throughput_array():
    result = perf.roofline_throughput(PEAK, BW, Q_([1, 100, 300], "flop/byte"))
    np.testing.assert_allclose(result.m_as("TFLOPs"), [3.35, 335.0, 989.4])


def test_roofline_throughput_errors():
    with pytest.raises(DimensionalityError, match="'intensity' of roofline_throughput"):
        perf.roofline_throughput(PEAK, BW, Q_(1, "byte"))
    with pytest.raises(ValueError, match=r"'intensity' of roofline_throughput\(\) must be > 0"):
        perf.roofline_throughput(PEAK, BW, Q_(0, "flop/byte"))


def test_compute_time_scalar_and_efficiency():
    # 989.4e12 FLOP at 989.4e12 FLOP/s = 1 s; at 50% efficiency = 2 s
    assert perf.compute_time(Q_(989.4e12, "flop"), PEAK).m_as("s") == pytest.approx(1.0)
    assert perf.compute_time(Q_(989.4e12, "flop"), PEAK, 0.5).m_as("s") == pytest.approx(2.0)


def test_compute_time_array():
    result = perf.compute_time(Q_([1e12, 2e12, 4e12], "flop"), Q_(1, "TFLOPs"))
    np.testing.assert_allclose(result.m_as("s"), [1.0, 2.0, 4.0])


def test_compute_time_errors():
    with pytest.raises(DimensionalityError, match="'flops' of compute_time"):
        perf.compute_time(Q_(1, "s"), PEAK)
    with pytest.raises(ValueError, match=r"'peak_flops' of compute_time\(\) must be > 0"):
        perf.compute_time(Q_(1, "flop"), Q_(0, "flop/s"))
    with pytest.raises(ValueError, match=r"'efficiency' of compute_time\(\) must be in \(0, 1\]"):
        perf.compute_time(Q_(1, "flop"), PEAK, efficiency=1.5)


def test_memory_time_scalar():
    # 13.4 GB at 3.35 TB/s = 4 ms; at 80% = 5 ms
    assert perf.memory_time(Q_(13.4, "GB"), BW).m_as("ms") == pytest.approx(4.0)
    assert perf.memory_time(Q_(13.4, "GB"), BW, 0.8).m_as("ms") == pytest.approx(5.0)


def test_memory_time_array():
    result = perf.memory_time(Q_([1, 2, 3], "GB"), Q_(1, "TB/s"))
    np.testing.assert_allclose(result.m_as("ms"), [1.0, 2.0, 3.0])


def test_memory_time_errors():
    with pytest.raises(DimensionalityError, match="'memory_bandwidth' of memory_time"):
        perf.memory_time(Q_(1, "GB"), Q_(1, "flop/s"))
    with pytest.raises(ValueError, match=r"'bytes_moved' of memory_time\(\) must be >= 0"):
        perf.memory_time(Q_(-1, "GB"), BW)


def test_roofline_time_scalar_with_default_overhead():
    # compute 1e12/989.4e12 = 1.0107 ms; memory 1e9/3.35e12 = 0.2985 ms -> max = 1.0107 ms
    result = perf.roofline_time(Q_(1e12, "flop"), Q_(1, "GB"), PEAK, BW)
    assert result.m_as("ms") == pytest.approx(1.0 / 0.9894)


def test_roofline_time_adds_overhead():
    # memory-bound: 13.4 GB / 3.35 TB/s = 4 ms, + 20 us overhead = 4.02 ms
    result = perf.roofline_time(Q_(1e9, "flop"), Q_(13.4, "GB"), PEAK, BW, overhead=Q_(20, "us"))
    assert result.m_as("ms") == pytest.approx(4.02)


def test_roofline_time_array_over_batch_sizes():
    # Decode of a 1 GB model: bytes fixed, FLOPs 2 GFLOP per sample at batch 1, 256, 1024.
    # compute = 2e9*b/989.4e12; memory = 1e9/3.35e12 = 0.29851 ms
    batch = np.array([1, 256, 1024])
    result = perf.roofline_time(Q_(2e9 * batch, "flop"), Q_(1, "GB"), PEAK, BW)
    expected = np.maximum(2e9 * batch / 989.4e12, 1e9 / 3.35e12)
    np.testing.assert_allclose(result.m_as("s"), expected)
    assert result.m_as("s")[0] == pytest.approx(2.9851e-4, rel=1e-4)


def test_roofline_time_errors():
    with pytest.raises(DimensionalityError, match="'overhead' of roofline_time"):
        perf.roofline_time(Q_(1, "flop"), Q_(1, "byte"), PEAK, BW, overhead=Q_(1, "byte"))
    with pytest.raises(ValueError, match=r"'memory_efficiency' of roofline_time\(\) must be > 0"):
        perf.roofline_time(Q_(1, "flop"), Q_(1, "byte"), PEAK, BW, memory_efficiency=0)


def test_bottleneck_scalar_is_str():
    # intensity 1000 > ridge 295 -> compute; intensity 10 -> memory
    assert perf.bottleneck(Q_(1e12, "flop"), Q_(1e9, "byte"), PEAK, BW) == "compute"
    label = perf.bottleneck(Q_(1e10, "flop"), Q_(1e9, "byte"), PEAK, BW)
    assert label == "memory"
    assert type(label) is str


def test_bottleneck_array():
    # intensities 1000, 100, 10 against ridge 295.3
    result = perf.bottleneck(Q_(1e12, "flop"), Q_([1e9, 1e10, 1e11], "byte"), PEAK, BW)
    assert isinstance(result, np.ndarray)
    assert result.tolist() == ["compute", "memory", "memory"]


def test_bottleneck_counts_efficiency():
    # intensity 1000 is compute-bound at full speed, memory-bound if memory runs at 10%:
    # compute 1e12/989.4e12 = 1.01 ms < memory 1e9/(0.1*3.35e12) = 2.99 ms
    result = perf.bottleneck(Q_(1e12, "flop"), Q_(1e9, "byte"), PEAK, BW, memory_efficiency=0.1)
    assert result == "memory"


def test_bottleneck_errors():
    with pytest.raises(DimensionalityError, match="'flops' of bottleneck"):
        perf.bottleneck(Q_(1, "byte"), Q_(1, "s"), PEAK, BW)
    with pytest.raises(ValueError, match=r"'peak_flops' of bottleneck\(\) must be > 0"):
        perf.bottleneck(Q_(1, "flop"), Q_(1, "byte"), Q_(0, "flop/s"), BW)


def test_mfu_scalar():
    # 6ND = 6 * 7e9 * 1e6 = 4.2e16 FLOP in 100 s on 1 device at 1e15 FLOP/s -> 4.2e16/1e17 = 0.42
    result = perf.model_flops_utilization(Q_(4.2e16, "flop"), Q_(100, "s"), Q_(1, "PFLOPs"))
    assert result.m_as("") == pytest.approx(0.42)


def test_mfu_array_over_devices():
    # 8e17 FLOP in 1000 s at 1e15 FLOP/s per device: n = 1, 2, 8 -> 0.8, 0.4, 0.1
    result = perf.model_flops_utilization(
        Q_(8e17, "flop"), Q_(1000, "s"), Q_(1, "PFLOPs"), num_devices=np.array([1, 2, 8])
    )
    np.testing.assert_allclose(result.m_as(""), [0.8, 0.4, 0.1])


def test_mfu_errors():
    with pytest.raises(DimensionalityError, match="'time' of model_flops_utilization"):
        perf.model_flops_utilization(Q_(1, "flop"), Q_(1, "m"), PEAK)
    with pytest.raises(ValueError, match=r"'num_devices' of model_flops_utilization\(\) must be"):
        perf.model_flops_utilization(Q_(1, "flop"), Q_(1, "s"), PEAK, num_devices=0)


def test_hfu_scalar_and_array():
    # 8ND with recompute: 5.6e16 FLOP in 100 s at 1e15 FLOP/s -> 0.56
    one = perf.hardware_flops_utilization(Q_(5.6e16, "flop"), Q_(100, "s"), Q_(1, "PFLOPs"))
    assert one.m_as("") == pytest.approx(0.56)
    many = perf.hardware_flops_utilization(
        Q_([1e16, 2e16, 5e16], "flop"), Q_(100, "s"), Q_(1, "PFLOPs")
    )
    np.testing.assert_allclose(many.m_as(""), [0.1, 0.2, 0.5])


def test_hfu_errors():
    with pytest.raises(DimensionalityError, match="'peak_flops' of hardware_flops_utilization"):
        perf.hardware_flops_utilization(Q_(1, "flop"), Q_(1, "s"), Q_(1, "flop"))
    with pytest.raises(ValueError, match=r"'time' of hardware_flops_utilization\(\) must be > 0"):
        perf.hardware_flops_utilization(Q_(1, "flop"), Q_(0, "s"), PEAK)


def test_raw_path_on_floats_and_arrays():
    assert perf.ridge_point.raw(989.4e12, 3.35e12) == pytest.approx(295.3433, rel=1e-6)
    times = perf.roofline_time.raw(np.array([1e12, 1e13]), 1e9, 989.4e12, 3.35e12)
    np.testing.assert_allclose(times, [1e12 / 989.4e12, 1e13 / 989.4e12])
    labels = perf.bottleneck.raw(np.array([1e10, 1e12]), 1e9, 989.4e12, 3.35e12)
    assert labels.tolist() == ["memory", "compute"]


def test_plain_number_where_a_quantity_is_needed():
    with pytest.raises(
        DimensionalityError, match=r"'peak_flops' of ridge_point\(\): pass a Quantity"
    ):
        perf.ridge_point(989.4e12, BW)


def test_ten_thousand_point_sweep_is_one_call():
    intensity = Q_(np.logspace(-1, 4, 10_000), "flop/byte")
    result = perf.roofline_throughput(PEAK, BW, intensity)
    assert result.m.shape == (10_000,)
    assert result.m_as("TFLOPs").max() == pytest.approx(989.4)


def test_efficiency_range_checks_arrays_and_nan_on_the_raw_path():
    with pytest.raises(ValueError, match=r"'efficiency' of compute_time\(\) must be in \(0, 1\]"):
        perf.compute_time.raw(1e12, 1e15, np.array([0.5, np.nan]))
    with pytest.raises(ValueError, match=r"'compute_efficiency' of roofline_time\(\)"):
        perf.roofline_time.raw(1e12, 1e9, 1e15, 1e12, compute_efficiency=np.array([0.5, 1.2]))
