"""Training FLOPs, memory, time and Chinchilla sizing against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from pint import DimensionalityError

from mlsysim.core.formulas import training as tr
from mlsysim.core.units import Q_


def test_training_flops_gpt3():
    # 6 * 175e9 * 300e9 = 3.15e23 FLOP (Brown et al. 2020 report 3.14e23)
    result = tr.training_flops(Q_(175e9, "param"), Q_(300e9, "token"))
    assert result.m_as("flop") == pytest.approx(3.15e23)
    assert np.ndim(result.m) == 0


def test_training_flops_recompute_is_8nd():
    # 8 * 175e9 * 300e9 = 4.2e23 FLOP
    result = tr.training_flops(Q_(175e9, "param"), Q_(300e9, "token"), recompute=True)
    assert result.m_as("flop") == pytest.approx(4.2e23)


def test_training_flops_array():
    # 6 * 7e9 * [1e12, 2e12, 15e12] = 4.2e22, 8.4e22, 6.3e23
    result = tr.training_flops(Q_(7e9, "param"), Q_([1e12, 2e12, 15e12], "token"))
    np.testing.assert_allclose(result.m_as("flop"), [4.2e22, 8.4e22, 6.3e23])


def test_training_flops_errors():
    with pytest.raises(DimensionalityError, match="'tokens' of training_flops"):
        tr.training_flops(Q_(7e9, "param"), Q_(1, "s"))
    with pytest.raises(ValueError, match=r"'params' of training_flops\(\) must be > 0"):
        tr.training_flops(Q_(-1, "param"), Q_(1, "token"))


def test_training_memory_mixed_precision_adam_is_16_bytes_per_param():
    # 7e9 * (2 + 2 + 12) = 112e9 byte = 112 GB
    result = tr.training_memory_bytes(Q_(7e9, "param"))
    assert result.m_as("GB") == pytest.approx(112.0)


def test_training_memory_custom_and_array():
    # fp32 everything with Adam: 4 + 4 + 8 = 16; SGD no momentum in bf16: 2 + 2 + 0 = 4
    sgd = tr.training_memory_bytes(Q_(1e9, "param"), 2, 2, 0)
    assert sgd.m_as("GB") == pytest.approx(4.0)
    many = tr.training_memory_bytes(Q_([1e9, 7e9, 70e9], "param"))
    np.testing.assert_allclose(many.m_as("GB"), [16.0, 112.0, 1120.0])


def test_training_memory_errors():
    with pytest.raises(DimensionalityError, match="'params' of training_memory_bytes"):
        tr.training_memory_bytes(Q_(1, "s"))
    with pytest.raises(ValueError, match=r"'params' of training_memory_bytes\(\) must be > 0"):
        tr.training_memory_bytes(Q_(0, "param"))
    with pytest.raises(ValueError, match=r"'bytes_per_grad' of training_memory_bytes\(\)"):
        tr.training_memory_bytes(Q_(1, "param"), bytes_per_grad=-2)


def test_time_to_train_scalar():
    # 3.15e23 / (1024 * 312e12 * 0.5) = 3.15e23 / 1.59744e17 = 1,971,905 s = 22.8 days
    result = tr.time_to_train(Q_(3.15e23, "flop"), Q_(312, "TFLOPs"), 1024, 0.5)
    assert result.m_as("s") == pytest.approx(3.15e23 / 1.59744e17)
    assert result.m_as("day") == pytest.approx(22.8230, rel=1e-4)


def test_time_to_train_array_over_devices():
    # 1e21 FLOP at 1e15 FLOP/s, MFU 0.5, n = 1, 10, 100 -> 2e6, 2e5, 2e4 s
    result = tr.time_to_train(Q_(1e21, "flop"), Q_(1, "PFLOPs"), np.array([1, 10, 100]), 0.5)
    np.testing.assert_allclose(result.m_as("s"), [2e6, 2e5, 2e4])


def test_time_to_train_errors():
    with pytest.raises(DimensionalityError, match="'peak_flops' of time_to_train"):
        tr.time_to_train(Q_(1, "flop"), Q_(1, "byte/s"), 8, 0.4)
    with pytest.raises(
        ValueError, match=r"'num_devices' of time_to_train\(\) must be a whole number >= 1"
    ):
        tr.time_to_train(Q_(1, "flop"), Q_(1, "PFLOPs"), 0, 0.4)
    with pytest.raises(ValueError, match=r"'mfu' of time_to_train\(\) must be in \(0, 1\]"):
        tr.time_to_train(Q_(1, "flop"), Q_(1, "PFLOPs"), 8, 40)


def test_chinchilla_optimal_tokens():
    # Chinchilla 70e9 params -> 1.4e12 tokens (Hoffmann et al. 2022 trained on 1.4T)
    assert tr.chinchilla_optimal_tokens(Q_(70e9, "param")).m_as("token") == pytest.approx(1.4e12)
    many = tr.chinchilla_optimal_tokens(Q_([1e9, 7e9, 70e9], "param"))
    np.testing.assert_allclose(many.m_as("token"), [2e10, 1.4e11, 1.4e12])


def test_chinchilla_optimal_tokens_errors():
    with pytest.raises(DimensionalityError, match="'params' of chinchilla_optimal_tokens"):
        tr.chinchilla_optimal_tokens(Q_(1, "flop"))
    with pytest.raises(ValueError, match=r"'params' of chinchilla_optimal_tokens\(\) must be > 0"):
        tr.chinchilla_optimal_tokens(Q_(-1, "param"))


def test_chinchilla_optimal_budget():
    # C = 6 * 70e9 * 1.4e12 = 5.88e23 -> N = sqrt(5.88e23 / 120) = 7e10, D = 1.4e12
    params, tokens = tr.chinchilla_optimal(Q_(5.88e23, "flop"))
    assert params.m_as("param") == pytest.approx(70e9)
    assert tokens.m_as("token") == pytest.approx(1.4e12)


def test_chinchilla_optimal_array():
    # C = 120 * N^2 for N = 1e9, 1e10 -> C = 1.2e20, 1.2e22
    params, tokens = tr.chinchilla_optimal(Q_([1.2e20, 1.2e22], "flop"))
    np.testing.assert_allclose(params.m_as("param"), [1e9, 1e10])
    np.testing.assert_allclose(tokens.m_as("token"), [2e10, 2e11])


def test_chinchilla_optimal_errors():
    with pytest.raises(DimensionalityError, match="'compute' of chinchilla_optimal"):
        tr.chinchilla_optimal(Q_(1, "flop/s"))
    with pytest.raises(ValueError, match=r"'compute' of chinchilla_optimal\(\) must be > 0"):
        tr.chinchilla_optimal(Q_(-1, "flop"))


def test_raw_path():
    assert tr.training_flops.raw(175e9, 300e9) == pytest.approx(3.15e23)
    np.testing.assert_allclose(
        tr.time_to_train.raw(1e21, 1e15, np.array([1.0, 10.0]), 0.5), [2e6, 2e5]
    )
