"""Engine.train: 6ND time at the calibrated MFU, PUE energy, ZeRO memory, DP all-reduce."""

from __future__ import annotations

import pytest
from pint import DimensionalityError

from mlsysim.core.engine import DEFAULT_TRAINING_MFU, Engine, Parallelism
from mlsysim.core.units import Q_

N = 6.74e9  # Llama-2-7B parameters
D = 1e12  # tokens
H100_BF16 = 989.4e12
H100_NVLINK = 900e9 / 2  # 900 GB/s NVLink 4 is bidirectional: 450 GB/s each way
# NCCL v2.20.3-1 src/graph/tuning.cc, us per ring step: hwLat[NVLINK][Ring][LL] = .6 (the H100's
# catalog interconnect_latency), hwLat[NET][Ring][LL] = 2.7 (Parallelism's network default)
NVLINK_HOP = 0.6e-6
NET_HOP = 2.7e-6
PUE_HYPERSCALE = 1.1


def test_time_energy_and_device_hours_by_hand():
    profile = Engine.train("Llama2_7B", "H100", num_devices=8, tokens=D)
    total = 6 * N * D  # 4.044e22 FLOP
    seconds = total / (8 * H100_BF16 * 0.40)
    assert profile.total_flops.m_as("flop") == pytest.approx(total)
    assert profile.time_to_train.m_as("s") == pytest.approx(seconds)
    assert profile.device_hours.m_as("hour") == pytest.approx(8 * seconds / 3600)
    assert profile.energy.m_as("J") == pytest.approx(8 * 700 * seconds * PUE_HYPERSCALE)
    assert profile.mfu == 0.40 == DEFAULT_TRAINING_MFU["cloud"].mfu


def test_default_mfu_cites_published_runs():
    source = DEFAULT_TRAINING_MFU["cloud"].source
    assert "PaLM" in source and "46.2%" in source and "Llama 3" in source


def test_explicit_mfu_overrides():
    slow = Engine.train("Llama2_7B", "H100", 8, D, mfu=0.2)
    fast = Engine.train("Llama2_7B", "H100", 8, D, mfu=0.4)
    assert slow.time_to_train_s == pytest.approx(2 * fast.time_to_train_s)


def test_edge_parts_get_no_datacenter_pue():
    profile = Engine.train("ResNet50", "JetsonAGXOrin", 1, 1e6, precision="fp16")
    assert profile.pue == 1.0


def test_unsharded_replica_needs_16_bytes_per_param_and_does_not_fit():
    profile = Engine.train("Llama2_7B", "H100", 8, D)
    assert profile.memory_per_device.m_as("byte") == pytest.approx(16 * N)
    assert profile.fits is False
    assert profile.shortfall.m_as("GB") == pytest.approx((16 * N - 80e9) / 1e9)  # 27.84 GB
    assert profile.communication_time is None


@pytest.mark.parametrize(
    ("stage", "bytes_per_param"),
    [(0, 16), (1, 2 + 2 + 12 / 8), (2, 2 + 2 / 8 + 12 / 8), (3, 16 / 8)],
)
def test_zero_stages_shard_over_the_data_degree(stage, bytes_per_param):
    profile = Engine.train(
        "Llama2_7B", "H100", 8, D, parallelism=Parallelism(data=8, zero_stage=stage)
    )
    assert profile.memory_per_device.m_as("byte") == pytest.approx(bytes_per_param * N)


def test_data_parallel_ring_allreduce_per_step_by_hand():
    parallelism = Parallelism(data=8, zero_stage=3, global_batch_tokens=4 * 2**20)
    profile = Engine.train("Llama2_7B", "H100", 8, D, parallelism=parallelism)
    message = 2 * N  # bf16 gradients
    # 2(p-1) = 14 hops of 0.6 us (8.4 us) + 2(p-1)/p x 13.48 GB / 450 GB/s (52.422 ms)
    ring = 2 * (8 - 1) * NVLINK_HOP + 2 * (8 - 1) / 8 * message / H100_NVLINK
    assert ring == pytest.approx(52.4306e-3, rel=1e-5)
    assert profile.communication_time.m_as("s") == pytest.approx(ring)
    assert profile.steps == pytest.approx(D / (4 * 2**20))
    assert profile.compute_time_per_step_s == pytest.approx(profile.time_to_train_s / profile.steps)
    assert "gradient all-reduce 52.4 ms per step" in profile.explain()


def test_tensor_and_pipeline_split_the_model_state():
    parallelism = Parallelism(data=2, tensor=4, pipeline=2)
    profile = Engine.train("Llama2_70B", "H100", 16, D, parallelism=parallelism)
    assert profile.memory_per_device.m_as("byte") == pytest.approx(16 * 68.98e9 / 8)


def test_parallelism_must_match_num_devices():
    with pytest.raises(ValueError) as err:
        Engine.train("Llama2_7B", "H100", 16, D, parallelism=Parallelism(data=8))
    assert str(err.value) == (
        "parallelism data x tensor x pipeline = 8 must equal argument 'num_devices' = 16"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"num_devices": 0, "tokens": D},
            "argument 'num_devices' must be a whole number >= 1 (a count), got 0",
        ),
        ({"num_devices": 8, "tokens": -1}, "argument 'tokens' must be > 0, got -1"),
        ({"num_devices": 8, "tokens": 0}, "argument 'tokens' must be > 0, got 0"),
        ({"num_devices": 8, "tokens": D, "mfu": 1.5}, "argument 'mfu' must be in (0, 1], got 1.5"),
    ],
)
def test_bad_training_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError) as err:
        Engine.train("Llama2_7B", "H100", **kwargs)
    assert str(err.value) == message


def test_bad_zero_stage():
    with pytest.raises(ValueError, match="argument 'zero_stage' must be 0, 1, 2 or 3, got 4"):
        Parallelism(data=2, zero_stage=4)


def test_llama3_405b_run_lands_near_published_gpu_hours():
    # Dubey et al. 2024: 3.8e25 FLOPs; Llama 3 405B used ~30.84M H100-hours in total.
    profile = Engine.train("Llama3_405B", "H100", 16_384, 15.6e12)
    assert profile.total_flops.m_as("flop") == pytest.approx(3.8e25, rel=0.02)
    assert profile.device_hours.m_as("hour") == pytest.approx(30.84e6, rel=0.2)


def test_network_bandwidth_overrides_the_interconnect_for_cross_node_data_parallelism():
    from mlsysim.core.units import Q_

    infiniband = Parallelism(data=8, zero_stage=3, network_bandwidth=Q_(50, "GB/s"))
    profile = Engine.train("Llama2_7B", "H100", 8, D, parallelism=infiniband)
    # 14 hops of NCCL's 2.7 us network step (37.8 us) + 1.75 x 13.48 GB / 50 GB/s (471.8 ms)
    ring = 14 * NET_HOP + 2 * 7 / 8 * 2 * N / 50e9
    assert ring == pytest.approx(471.8378e-3, rel=1e-6)
    assert profile.communication_time.m_as("s") == pytest.approx(ring)


def test_network_latency_overrides_the_default_network_hop():
    # NCCL charges 14.0 us per network step with its Simple protocol (large buckets)
    simple = Parallelism(data=8, network_bandwidth=Q_(50, "GB/s"), network_latency=Q_(14, "us"))
    profile = Engine.train("Llama2_7B", "H100", 8, D, parallelism=simple)
    assert profile.communication_time_s == pytest.approx(14 * 14e-6 + 2 * 7 / 8 * 2 * N / 50e9)
    bandwidth_only = Parallelism(
        data=8, network_bandwidth=Q_(50, "GB/s"), network_latency=Q_(0, "s")
    )
    profile = Engine.train("Llama2_7B", "H100", 8, D, parallelism=bandwidth_only)
    assert profile.communication_time_s == pytest.approx(2 * 7 / 8 * 2 * N / 50e9)


def test_a_network_latency_without_a_network_is_refused_not_ignored():
    with pytest.raises(ValueError) as err:
        Parallelism(data=8, network_latency=Q_(2.7, "us"))
    assert str(err.value) == (
        "argument 'network_latency' needs 'network_bandwidth': without it the gradient "
        "all-reduce runs over the part's interconnect, at the catalog's interconnect_latency"
    )


def test_a_negative_network_latency_names_the_argument():
    with pytest.raises(ValueError) as err:
        Parallelism(data=8, network_bandwidth=Q_(50, "GB/s"), network_latency=Q_(-1, "us"))
    assert str(err.value) == "argument 'network_latency' must be >= 0 s, got -1 µs"


def test_a_part_without_a_hop_latency_is_refused_for_data_parallelism():
    import dataclasses

    from mlsysim.core.catalogs import Hardware

    no_alpha = dataclasses.replace(Hardware.H100, interconnect_latency=None)
    with pytest.raises(ValueError) as err:
        Engine.train("Llama2_7B", no_alpha, 8, D, parallelism=Parallelism(data=8))
    assert str(err.value) == (
        "H100 has no sourced interconnect_latency; pass Parallelism(network_bandwidth=Q_(..., "
        "'GB/s')) for the gradient all-reduce"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (  # 50 could be B/s, GB/s or Gb/s: it was an AttributeError ('int' has no 'm_as')
            {"network_bandwidth": 50},
            "Cannot convert from 'dimensionless' to 'byte/s' for argument 'network_bandwidth' "
            "of Parallelism(): got the bare number 50; pass a bandwidth Quantity per direction "
            "in byte/s, e.g. Q_(50, 'GB/s') (400 Gb/s InfiniBand is Q_(50, 'GB/s'))",
        ),
        (  # 2.7 could be s or us
            {"network_bandwidth": Q_(50, "GB/s"), "network_latency": 2.7},
            "Cannot convert from 'dimensionless' to 's' for argument 'network_latency' of "
            "Parallelism(): got the bare number 2.7; pass a time Quantity in s, e.g. "
            "Q_(2.7, 'us') (NCCL's network ring step is Q_(2.7, 'us'))",
        ),
    ],
)
def test_a_bare_network_number_names_the_argument_and_its_unit(kwargs, message):
    with pytest.raises(DimensionalityError) as err:
        Parallelism(data=8, **kwargs)
    assert str(err.value) == message


def test_network_bandwidth_of_the_wrong_dimension_or_sign_names_the_argument():
    with pytest.raises(DimensionalityError) as err:
        Parallelism(data=8, network_bandwidth=Q_(50, "GB"))
    assert str(err.value) == (
        "Cannot convert from 'gigabyte' ([information]) to 'byte / second' "
        "([information] / [time]) for argument 'network_bandwidth' of Parallelism()"
    )
    with pytest.raises(ValueError) as err:
        Parallelism(data=8, network_bandwidth=Q_(0, "GB/s"))
    assert str(err.value) == "argument 'network_bandwidth' must be > 0 byte/s, got 0 GB/s"
    # 400 Gb/s (bits) is 50 GB/s: a bit rate converts
    bits = Parallelism(data=8, network_bandwidth=Q_(400, "Gbit/s"))
    profile = Engine.train("Llama2_7B", "H100", 8, D, parallelism=bits)
    assert profile.communication_time.m_as("s") == pytest.approx(
        14 * NET_HOP + 2 * 7 / 8 * 2 * N / 50e9
    )


def test_tokens_of_the_wrong_dimension_name_the_argument():
    with pytest.raises(DimensionalityError) as err:
        Engine.train("Llama2_7B", "H100", 8, Q_(1, "s"))
    assert str(err.value) == (
        "Cannot convert from 'second' ([time]) to 'token' (dimensionless) "
        "for argument 'tokens' of train()"
    )
    assert Engine.train("Llama2_7B", "H100", 8, Q_(1e12, "token")).tokens == D


def test_array_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match="argument 'tokens' takes one number, got \\[1, 2\\]"):
        Engine.train("Llama2_7B", "H100", 8, [1, 2])
    with pytest.raises(ValueError, match="argument 'mfu' takes one number"):
        Engine.train("Llama2_7B", "H100", 8, D, mfu=[0.3, 0.4])


def test_explain_prints_the_achieved_rate_per_device():
    # 6 x 6.74e9 x 1e12 = 4.04e22 FLOP / (8 x 0.40 x 989.4e12 = 8 x 396 TFLOP/s) = 1.28e7 s.
    profile = Engine.train("Llama2_7B", "H100", 8, D, precision="BF16")
    assert profile.precision == "bf16"
    assert profile.explain().startswith(
        "4.04e+22 FLOP (6ND) on 8 x H100 at 396 TFLOP/s achieved (40% of 989 TFLOP/s bf16) "
        "each (MFU) take 148 days;"
    )


def test_parallelism_stores_whole_degrees_and_refuses_strings():
    from mlsysim.core.engine import Parallelism

    assert Parallelism(data=8.0, tensor=2).data == 8 and type(Parallelism(data=8.0).data) is int
    with pytest.raises(ValueError, match=r"argument 'data' must be a whole number >= 1"):
        Parallelism(data="8")
