"""LLM serving arithmetic (prefill, decode step, tensor-parallel all-reduce, batch capacity)
against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from pint import DimensionalityError

from mlsysim.core.formulas import serving
from mlsysim.core.units import Q_

N = Q_(1e9, "param")
BW = Q_(100, "GB/s")


def test_prefill_flops_uses_the_mean_causal_context():
    # P = 99 prompt tokens attend on average to (99 + 1) / 2 = 50 tokens:
    # per token 2 * 1e9 + 2 * 10 layers * 50 * 1000 = 2.001e9; x 99 tokens x batch 2 = 3.96198e11
    result = serving.prefill_flops(N, 10, 1000, 99, 2)
    assert result.m_as("flop") == pytest.approx(3.96198e11)
    assert result.units == Q_(1, "flop").units


def test_prefill_flops_array_over_prompt_lengths():
    # P = 1: 1 * (2e9 + 2 * 10 * 1 * 1000) = 2.00002e9
    # P = 1999: 1999 * (2e9 + 2 * 10 * 1000 * 1000) = 1999 * 2.02e9 = 4.03798e12
    result = serving.prefill_flops(N, 10, 1000, np.array([1, 1999]), 1)
    np.testing.assert_allclose(result.m_as("flop"), [2.00002e9, 4.03798e12])


def test_decode_step_flops_is_one_token_per_sequence_at_the_full_context():
    # 4 sequences x (2 * 1e9 + 2 * 10 layers * 100 context * 1000 d_model) = 4 * 2.002e9
    assert serving.decode_step_flops(N, 10, 1000, 100, 4).m_as("flop") == pytest.approx(8.008e9)
    # an empty context leaves the weight matmuls: 2N per sequence
    assert serving.decode_step_flops(N, 10, 1000, 0, 1).m_as("flop") == pytest.approx(2e9)


def test_decode_step_flops_array_over_batch():
    result = serving.decode_step_flops(N, 10, 1000, 100, np.array([1, 8, 64]))
    np.testing.assert_allclose(result.m_as("GFLOP"), [2.002, 16.016, 128.128])


def test_tensor_parallel_allreduce_two_ring_allreduces_per_layer():
    # message = 512 tokens x 4096 x 2 bytes = 4,194,304 B; ring over p = 2 at 100 GB/s:
    # 2 * (1/2) * 4,194,304 / 1e11 = 4.194304e-5 s; x 2 all-reduces x 32 layers = 2.68435456 ms
    result = serving.tensor_parallel_allreduce_time(32, 512, 4096, 2, 2, BW)
    assert result.m_as("ms") == pytest.approx(2.68435456)


def test_tensor_parallel_allreduce_with_latency_and_array_over_degree():
    # p = 4, alpha = 1 us: ring = 2 * 3 * 1e-6 + 2 * 3/4 * 4.194304e-5 = 6.891456e-5 s; x 64
    one = serving.tensor_parallel_allreduce_time(32, 512, 4096, 2, 4, BW, latency=Q_(1, "us"))
    assert one.m_as("ms") == pytest.approx(4.41053184)
    # p = 1 sends nothing; p = 8: 64 * 2 * 7/8 * 4.194304e-5 s = 4.69762048 ms
    many = serving.tensor_parallel_allreduce_time(32, 512, 4096, 2, np.array([1, 8]), BW)
    np.testing.assert_allclose(many.m_as("ms"), [0.0, 4.69762048])


def test_max_batch_size_is_the_kv_space_after_the_weights():
    # (80 GB - 14 GB) / 2 GB per sequence = 33 sequences
    result = serving.max_batch_size(Q_(80, "GB"), Q_(14, "GB"), Q_(2, "GB"))
    assert result.m_as("") == 33
    # 2.5 GB per sequence: floor(26.4) = 26
    assert serving.max_batch_size(Q_(80, "GB"), Q_(14, "GB"), Q_(2.5, "GB")).m_as("") == 26


def test_max_batch_size_is_zero_when_the_weights_do_not_fit_and_takes_arrays():
    assert serving.max_batch_size(Q_(16, "GB"), Q_(26, "GB"), Q_(1, "GB")).m_as("") == 0
    result = serving.max_batch_size(Q_(np.array([80, 40, 10]), "GB"), Q_(14, "GB"), Q_(2, "GB"))
    np.testing.assert_array_equal(result.m_as(""), [33, 13, 0])


def test_max_batch_size_converts_gib_and_gb():
    # 80 GiB = 85.899345920 GB; (85.89934592 - 14) / 2 = 35.9 -> 35
    assert serving.max_batch_size(Q_(80, "GiB"), Q_(14, "GB"), Q_(2, "GB")).m_as("") == 35


def test_dimension_errors_name_the_argument():
    with pytest.raises(DimensionalityError, match="'params' of prefill_flops"):
        serving.prefill_flops(Q_(1e9, "flop"), 10, 1000, 99, 2)
    with pytest.raises(DimensionalityError, match="'bandwidth' of tensor_parallel_allreduce_time"):
        serving.tensor_parallel_allreduce_time(32, 512, 4096, 2, 2, Q_(100, "GB"))
    with pytest.raises(DimensionalityError, match="'memory_capacity' of max_batch_size"):
        serving.max_batch_size(Q_(80, "GB/s"), Q_(14, "GB"), Q_(2, "GB"))


def test_a_tensor_parallel_degree_below_one_is_rejected():
    rule = r"'tensor_parallel' of tensor_parallel_allreduce_time\(\) must be a whole number >= 1"
    for p in (0, 0.5, -2):
        with pytest.raises(ValueError, match=rule):
            serving.tensor_parallel_allreduce_time(32, 512, 4096, 2, p, BW)


def test_sign_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"'params' of decode_step_flops\(\) must be > 0"):
        serving.decode_step_flops(Q_(0, "param"), 10, 1000, 100, 1)
    with pytest.raises(ValueError, match=r"'context_tokens' of decode_step_flops\(\) must be >= 0"):
        serving.decode_step_flops(N, 10, 1000, -1, 1)
    with pytest.raises(ValueError, match=r"'prompt_tokens' of prefill_flops\(\) must be a whole"):
        serving.prefill_flops(N, 10, 1000, 0, 1)
    with pytest.raises(ValueError, match=r"'kv_bytes_per_sequence' of max_batch_size\(\) must be"):
        serving.max_batch_size(Q_(80, "GB"), Q_(14, "GB"), Q_(0, "GB"))


def test_raw_path_takes_magnitudes():
    assert serving.prefill_flops.raw(1e9, 10, 1000, 99, 2) == pytest.approx(3.96198e11)
    assert serving.max_batch_size.raw(80e9, 14e9, 2e9) == 33
