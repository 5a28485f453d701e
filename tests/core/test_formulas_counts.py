"""Counts (devices, components, servers, layers, batch sizes) are whole numbers >= 1.

Regression tests for fractional and zero counts that used to give nonsense: a ring all-reduce
over 0.5 devices took -0.02 s, a cluster of 0.5 components had twice the component MTBF, and
zero parameters trained on zero FLOPs. The rule lives in one place, ``@formula(counts=...)``.
"""

from __future__ import annotations

import numpy as np
import pytest

from mlsysim.core.formulas import (
    communication,
    performance,
    queueing,
    reliability,
    scaling,
    serving,
    training,
    transformer,
)
from mlsysim.core.units import Q_

GB = Q_(1, "GB")
BW = Q_(100, "GB/s")
PARAMS = Q_(7e9, "param")

# (formula, keyword arguments with the count left out, the count's name)
COUNT_ARGUMENTS = [
    (communication.ring_allreduce_time, {"message_bytes": GB, "bandwidth": BW}, "num_devices"),
    (communication.tree_allreduce_time, {"message_bytes": GB, "bandwidth": BW}, "num_devices"),
    (communication.ring_allgather_time, {"message_bytes": GB, "bandwidth": BW}, "num_devices"),
    (reliability.cluster_mtbf, {"component_mtbf": Q_(1000, "hour")}, "num_components"),
    (
        reliability.fleet_failures,
        {"duration": Q_(1, "year"), "mttf": Q_(5e4, "hour")},
        "num_devices",
    ),
    (
        training.time_to_train,
        {"total_flops": Q_(1e21, "flop"), "peak_flops": Q_(1, "PFLOPs"), "mfu": 0.4},
        "num_devices",
    ),
    (
        performance.model_flops_utilization,
        {"model_flops": Q_(1e15, "flop"), "time": Q_(1, "s"), "peak_flops": Q_(1, "PFLOPs")},
        "num_devices",
    ),
    (
        performance.hardware_flops_utilization,
        {"hardware_flops": Q_(1e15, "flop"), "time": Q_(1, "s"), "peak_flops": Q_(1, "PFLOPs")},
        "num_devices",
    ),
    (scaling.amdahl_speedup, {"parallel_fraction": 0.9}, "n"),
    (scaling.gustafson_speedup, {"parallel_fraction": 0.9}, "n"),
    (scaling.parallel_efficiency, {"speedup": 3.0}, "n"),
    (queueing.erlang_c, {"offered_load": 0.5}, "servers"),
    (
        queueing.mmc_wait,
        {"arrival_rate": Q_(1, "1/s"), "service_rate": Q_(2, "1/s")},
        "servers",
    ),
    (
        transformer.kv_cache_bytes,
        {"n_layers": 32, "n_kv_heads": 8, "head_dim": 128, "seq_len": 4096, "bytes_per_element": 2},
        "batch_size",
    ),
    (
        transformer.transformer_params,
        {"n_layers": 32, "d_model": 4096, "d_ff": 11008, "vocab_size": 32000, "n_heads": 32},
        "n_kv_heads",
    ),
    (
        transformer.transformer_forward_flops_per_token,
        {"params": PARAMS, "d_model": 4096, "context_length": 4096},
        "n_layers",
    ),
    (
        serving.prefill_flops,
        {"params": PARAMS, "n_layers": 32, "d_model": 4096, "prompt_tokens": 512},
        "batch_size",
    ),
    (
        serving.decode_step_flops,
        {"params": PARAMS, "n_layers": 32, "d_model": 4096, "context_tokens": 640},
        "batch_size",
    ),
    (
        serving.tensor_parallel_allreduce_time,
        {"n_layers": 32, "tokens": 512, "d_model": 4096, "bytes_per_element": 2, "bandwidth": BW},
        "tensor_parallel",
    ),
]
IDS = [f"{fn.__name__}-{name}" for fn, _, name in COUNT_ARGUMENTS]


@pytest.mark.parametrize(
    "bad", [0.5, 0, -4, 2.5, float("nan"), float("inf"), np.array([8, 0.5]), True],
    ids=["half", "zero", "negative", "fraction", "nan", "inf", "array-element", "bool"],
)  # fmt: skip
@pytest.mark.parametrize(("fn", "kwargs", "name"), COUNT_ARGUMENTS, ids=IDS)
def test_a_count_that_is_not_a_whole_number_of_at_least_one_is_rejected(fn, kwargs, name, bad):
    rule = rf"argument '{name}' of {fn.__name__}\(\) must be a whole number >= 1 \(a count\)"
    with pytest.raises(ValueError, match=rule):
        fn(**kwargs, **{name: bad})


@pytest.mark.parametrize(("fn", "kwargs", "name"), COUNT_ARGUMENTS, ids=IDS)
def test_whole_counts_are_accepted_as_int_float_dimensionless_quantity_and_array(fn, kwargs, name):
    expected = fn(**kwargs, **{name: 4})
    assert fn(**kwargs, **{name: 4.0}) == expected
    assert fn(**kwargs, **{name: Q_(4, "")}) == expected
    many = fn(**kwargs, **{name: np.array([1, 4])})
    assert np.asarray(getattr(many, "magnitude", many))[1] == pytest.approx(
        getattr(expected, "magnitude", expected)
    )


def test_the_reported_cases_now_fail_instead_of_returning_nonsense():
    with pytest.raises(ValueError, match="'num_devices' of ring_allreduce_time"):
        communication.ring_allreduce_time(GB, 0.5, BW)  # was -0.02 s
    with pytest.raises(ValueError, match="'tensor_parallel' of tensor_parallel_allreduce_time"):
        serving.tensor_parallel_allreduce_time(32, 512, 4096, 2, 0.5, BW)  # was -5.8e-6 s
    with pytest.raises(ValueError, match="'num_components' of cluster_mtbf"):
        reliability.cluster_mtbf(Q_(1000, "hour"), 0.5)  # was 2000 h
    with pytest.raises(ValueError, match=r"'params' of training_flops\(\) must be > 0, got 0"):
        training.training_flops(Q_(0, "param"), Q_(1e12, "token"))  # was 0 FLOP
    with pytest.raises(ValueError, match=r"'tokens' of training_flops\(\) must be > 0, got 0"):
        training.training_flops(PARAMS, Q_(0, "token"))
    with pytest.raises(ValueError, match=r"'params' of chinchilla_optimal_tokens\(\) must be > 0"):
        training.chinchilla_optimal_tokens(Q_(0, "param"))  # was 0 tokens
    with pytest.raises(ValueError, match=r"'compute' of chinchilla_optimal\(\) must be > 0"):
        training.chinchilla_optimal(Q_(0, "flop"))
    with pytest.raises(ValueError, match="'batch_size' of kv_cache_bytes"):
        transformer.kv_cache_bytes(32, 8, 128, 4096, batch_size=0.5, bytes_per_element=2)


def test_a_single_device_is_a_valid_count_with_no_communication():
    assert communication.ring_allreduce_time(GB, 1, BW).m_as("s") == 0.0
    assert communication.tree_allreduce_time(GB, 1, BW).m_as("s") == 0.0
    assert reliability.cluster_mtbf(Q_(1000, "hour"), 1).m_as("hour") == 1000.0


def test_the_raw_fast_path_skips_the_count_check():
    # documented: .raw is the unchecked body for pre-validated engine inputs
    assert reliability.cluster_mtbf.raw(1000.0, 0.5) == 2000.0


@pytest.mark.parametrize(
    ("value", "where", "message"),
    [
        (0, "ring_allreduce_time", "argument 'n' of ring_allreduce_time() must be"),
        (2.5, None, "argument 'n' must be"),
        (np.array([True, True]), None, "argument 'n' must be"),
    ],
)
def test_one_count_rule_and_wording_with_or_without_the_function(value, where, message):
    # the engine's arguments (batch_size, num_devices) have no function name to cite
    from mlsysim.core.formulas._formula import require_count

    with pytest.raises(ValueError) as err:
        require_count(value, "n", where)
    assert str(err.value) == f"{message} a whole number >= 1 (a count), got {value!r}"
    require_count(np.array([1, 4.0]), "n")  # whole numbers as floats are counts
