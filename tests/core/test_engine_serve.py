"""Engine.serve: decode memory floor, TTFT, KV cache, max batch, TP all-reduce, bad input."""

from __future__ import annotations

import dataclasses

import pytest

from mlsysim.core.catalogs import Hardware
from mlsysim.core.engine import Efficiency, Engine
from mlsysim.core.units import Q_

PURE = Efficiency(1.0, 1.0, 0.0)  # the pure roofline, to isolate one effect at a time
H100_BW = 3.35e12
H100_NVLINK = 900e9 / 2  # 900 GB/s NVLink 4 is bidirectional: 450 GB/s each way
NVLINK_HOP = 0.6e-6  # NCCL v2.20.3 src/graph/tuning.cc: hwLat[NVLINK][Ring][LL] = .6 us per step
MI300X_HOP = 0.8e-6  # assumption: lowest Ring/LL xGMI step in RCCL's tuning tables
MI300X_LINK = 896e9 / 2  # Infinity Fabric 896 GB/s bidirectional: 448 GB/s each way
LLAMA2_7B = {"params": 6.74e9, "layers": 32, "kv_heads": 32, "head_dim": 128, "d_model": 4096}
LLAMA2_70B = {"params": 68.98e9, "layers": 80, "kv_heads": 8, "head_dim": 128, "d_model": 8192}


def kv_bytes(arch, tokens, batch, bytes_per_element=2):
    return (
        2
        * arch["layers"]
        * arch["kv_heads"]
        * arch["head_dim"]
        * tokens
        * batch
        * bytes_per_element
    )


def test_decode_at_batch1_is_memory_bound_and_prefill_compute_bound():
    profile = Engine.serve("Llama2_7B", "H100")
    assert profile.decode_bottleneck == "memory"
    assert profile.prefill_bottleneck == "compute"


def test_tpot_never_below_memory_floor_computed_by_hand():
    profile = Engine.serve("Llama2_7B", "H100", prompt_tokens=512, output_tokens=128)
    context = 512 + 128 / 2  # mean context over the decode
    floor = (2 * LLAMA2_7B["params"] + kv_bytes(LLAMA2_7B, context, 1)) / H100_BW
    assert floor == pytest.approx(4.11403e-3, rel=1e-5)
    assert profile.memory_floor.m_as("s") == pytest.approx(floor)
    assert profile.tpot.m_as("s") >= floor
    # calibrated: floor / 0.60 memory efficiency + 450 us overhead
    assert profile.tpot.m_as("s") == pytest.approx(floor / 0.60 + 450e-6)


def test_pure_roofline_decode_sits_exactly_on_the_floor():
    profile = Engine.serve("Llama2_7B", "H100", efficiency=PURE)
    assert profile.tpot_s == pytest.approx(profile.memory_floor_s, rel=1e-12)


@pytest.mark.parametrize("batch", [1, 8, 64, 256])
@pytest.mark.parametrize("precision", ["fp16", "fp8"])
def test_tpot_at_least_floor_across_batches(batch, precision):
    profile = Engine.serve("Llama3_8B", "H100", batch_size=batch, precision=precision)
    assert profile.tpot_s >= profile.memory_floor_s


def test_ttft_e2e_and_tokens_per_second_by_hand():
    profile = Engine.serve(
        "Llama2_7B", "H100", prompt_tokens=512, output_tokens=128, efficiency=PURE
    )
    prefill_flops = 512 * (2 * LLAMA2_7B["params"] + 2 * 32 * 4096 * (512 + 1) / 2)
    assert profile.ttft.m_as("s") == pytest.approx(prefill_flops / 989.4e12)
    e2e = profile.ttft_s + 127 * profile.tpot_s
    assert profile.e2e_latency.m_as("s") == pytest.approx(e2e)
    assert profile.tokens_per_second.m_as("1/s") == pytest.approx(128 / e2e)


def test_kv_cache_and_max_batch_size_by_hand():
    profile = Engine.serve("Llama2_7B", "H100", batch_size=4, prompt_tokens=512, output_tokens=128)
    assert profile.kv_cache.m_as("byte") == kv_bytes(LLAMA2_7B, 640, 4)  # 1.342 GB
    per_sequence = kv_bytes(LLAMA2_7B, 640, 1)  # 335.5 MB
    assert profile.max_batch_size == int((80e9 - 2 * LLAMA2_7B["params"]) / per_sequence) == 198


def test_llama2_70b_fp16_does_not_fit_one_a100_and_needs_no_crash():
    profile = Engine.serve("Llama2_70B", "A100")
    assert profile.fits is False
    assert profile.max_batch_size == 0
    expected = 2 * LLAMA2_70B["params"] + kv_bytes(LLAMA2_70B, 640, 1) - 80e9
    assert profile.shortfall.m_as("byte") == pytest.approx(expected)
    assert "does NOT fit" in profile.explain()


def test_tensor_parallel_2_adds_the_hand_computed_ring_allreduce():
    one = Engine.serve("Llama2_70B", "H100", precision="fp8", efficiency=PURE)
    two = Engine.serve("Llama2_70B", "H100", precision="fp8", tensor_parallel=2, efficiency=PURE)
    # Megatron: 2 all-reduces per layer of batch x d_model x 1 byte; a ring over p=2 devices
    # takes 2(p-1) = 2 dependent hops of alpha = 0.6 us (NCCL's NVLink ring step) and moves
    # 2(p-1)/p = 1 x the message at the link bandwidth.
    ring = 2 * (2 - 1) * NVLINK_HOP + 2 * (2 - 1) / 2 * (1 * 8192 * 1) / H100_NVLINK
    comm = 2 * 80 * ring
    assert two.decode_comm_s == pytest.approx(comm)
    assert comm == pytest.approx(194.9127e-6, rel=1e-6)  # 192 us of hops + 2.91 us of bytes
    # weights and KV split over two devices, plus the all-reduce
    assert two.tpot_s == pytest.approx(one.tpot_s / 2 + comm)
    prefill_ring = 2 * 80 * (2 * NVLINK_HOP + (512 * 8192 * 1) / H100_NVLINK)
    assert two.prefill_comm_s == pytest.approx(prefill_ring)
    assert one.decode_comm_s == 0.0


def test_tensor_parallel_8_pays_fourteen_dependent_hops_per_allreduce():
    # Before the alpha term one decode all-reduce at tp=8 (8 KB message) took 2 x 7/8 x 8192 B /
    # 450 GB/s = 0.032 us; a ring has 2(p-1) = 14 dependent hops, 14 x 0.6 us = 8.4 us.
    profile = Engine.serve("Llama2_7B", "H100", tensor_parallel=8)
    per_allreduce = profile.decode_comm_s / (2 * 32)
    bytes_term = 2 * 7 / 8 * (4096 * 2) / H100_NVLINK
    assert per_allreduce == pytest.approx(14 * 0.6e-6 + bytes_term)
    assert per_allreduce == pytest.approx(8.4319e-6, rel=1e-4)
    assert profile.decode_comm_s == pytest.approx(539.639e-6, rel=1e-5)


def test_the_hop_latency_is_the_parts_catalog_figure_not_a_constant():
    # H100's interconnect_latency is NCCL's NVLink step; serve reads it from the catalog
    h100 = Hardware.H100
    assert h100.interconnect_latency.m_as("us") == pytest.approx(0.6)
    assert h100.provenance["interconnect_latency"].key == "nccl-2.20.3-tuning"
    slower = dataclasses.replace(h100, interconnect_latency=Q_(1.0, "us"))  # NCCL's PCI step
    base = Engine.serve("Llama2_7B", h100, tensor_parallel=8)
    what_if = Engine.serve("Llama2_7B", slower, tensor_parallel=8)
    # 64 all-reduces x 14 hops x (1.0 - 0.6) us = 358.4 us more per token
    assert what_if.decode_comm_s - base.decode_comm_s == pytest.approx(64 * 14 * 0.4e-6)


def test_mi300x_tp2_and_tp8_use_its_own_hop_latency_by_hand():
    # Llama-2-70B fp16 decode at batch 1: the message is 1 x 8192 x 2 B = 16,384 B
    two = Engine.serve("Llama2_70B", "MI300X", tensor_parallel=2)
    ring2 = 2 * 1 * MI300X_HOP + 2 * 1 / 2 * 16384 / MI300X_LINK  # 1.6 us + 0.0366 us
    assert ring2 == pytest.approx(1.636571e-6, rel=1e-6)
    assert two.decode_comm_s == pytest.approx(2 * 80 * ring2)  # 261.85 us per token
    assert two.decode_comm_s == pytest.approx(261.8514e-6, rel=1e-6)
    eight = Engine.serve("Llama2_70B", "MI300X", tensor_parallel=8)
    ring8 = 2 * 7 * MI300X_HOP + 2 * 7 / 8 * 16384 / MI300X_LINK  # 11.2 us + 0.064 us
    assert ring8 == pytest.approx(11.264e-6, rel=1e-6)
    assert eight.decode_comm_s == pytest.approx(2 * 80 * ring8)  # 1.802 ms per token
    # prefill of the 512-token prompt: the message is 512 x 16,384 B = 8.39 MB
    prefill8 = 2 * 80 * (14 * MI300X_HOP + 2 * 7 / 8 * 512 * 16384 / MI300X_LINK)
    assert eight.prefill_comm_s == pytest.approx(prefill8)
    assert prefill8 == pytest.approx(7.03488e-3, rel=1e-5)  # 160 x (11.2 + 32.77) us


def test_a_part_without_a_hop_latency_is_refused_not_given_alpha_zero():
    no_alpha = dataclasses.replace(Hardware.H100, interconnect_latency=None)
    assert Engine.serve("Llama2_7B", no_alpha).decode_comm_s == 0.0  # tp = 1 needs no link
    with pytest.raises(ValueError) as err:
        Engine.serve("Llama2_7B", no_alpha, tensor_parallel=2)
    assert str(err.value) == (
        "argument 'tensor_parallel'=2 needs an interconnect, but H100 has no sourced "
        "interconnect_latency; use tensor_parallel=1 or give a what-if copy both, e.g. "
        "dataclasses.replace(spec, interconnect_bandwidth=Q_(900, 'GB/s'), "
        "interconnect_latency=Q_(0.6, 'us'))"
    )


def test_tensor_parallel_makes_70b_fit_on_two_h100s():
    assert Engine.serve("Llama2_70B", "H100").fits is False
    assert Engine.serve("Llama2_70B", "H100", tensor_parallel=2).fits is True


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "argument 'batch_size' must be a whole number >= 1 (a count), got 0"),
        (
            {"prompt_tokens": -5},
            "argument 'prompt_tokens' must be a whole number >= 1 (a count), got -5",
        ),
        (
            {"output_tokens": 0},
            "argument 'output_tokens' must be a whole number >= 1 (a count), got 0",
        ),
        (
            {"tensor_parallel": 0},
            "argument 'tensor_parallel' must be a whole number >= 1 (a count), got 0",
        ),
    ],
)
def test_bad_serving_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError) as err:
        Engine.serve("Llama2_7B", "H100", **kwargs)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("prompt", "output", "total"), [(100_000, 128, 100_128), (4000, 97, 4097), (1, 4096, 4097)]
)
def test_prompt_plus_output_beyond_the_context_length_is_refused(prompt, output, total):
    with pytest.raises(ValueError) as err:
        Engine.serve("Llama2_7B", "H100", prompt_tokens=prompt, output_tokens=output)
    assert str(err.value) == (
        f"arguments 'prompt_tokens'={prompt} + 'output_tokens'={output} = {total} exceed "
        "Llama2_7B's context_length of 4,096 tokens; need prompt_tokens >= 1, output_tokens >= 1 "
        "and prompt_tokens + output_tokens <= 4096"
    )


def test_a_sequence_that_fills_the_context_exactly_is_served():
    profile = Engine.serve("Llama2_7B", "H100", prompt_tokens=4000, output_tokens=96)
    assert profile.kv_cache.m_as("byte") == kv_bytes(LLAMA2_7B, 4096, 1)  # 2.147 GB
    assert profile.fits is True


def test_serving_a_cnn_is_a_clear_error():
    with pytest.raises(ValueError, match="serve\\(\\) needs a transformer"):
        Engine.serve("ResNet50", "H100")


def test_tensor_parallel_without_interconnect_is_a_clear_error():
    with pytest.raises(ValueError) as err:
        Engine.serve("Llama2_7B", "A17Pro", precision="int8", tensor_parallel=2)
    assert "A17Pro has no sourced interconnect_bandwidth or interconnect_latency" in str(err.value)


# NVIDIA NeMo Framework performance docs, Llama-2 inference (TensorRT-LLM, TP1, fp16/bf16):
# batch 1, 128 input / 20 output tokens, average end-to-end latency in ms.
NEMO_LLAMA2_7B_E2E_MS = {"H100": 153.8, "A100": 234.0}


@pytest.mark.parametrize(("part", "measured_ms"), NEMO_LLAMA2_7B_E2E_MS.items())
def test_llama2_7b_batch1_latency_is_near_nvidias_published_measurement(part, measured_ms):
    profile = Engine.serve("Llama2_7B", part, batch_size=1, prompt_tokens=128, output_tokens=20)
    assert profile.e2e_latency.m_as("ms") == pytest.approx(measured_ms, rel=0.10)
    assert profile.tpot_s > profile.memory_floor_s  # never faster than the weights stream


def test_tensor_parallel_must_divide_the_heads():
    # Llama-2-7B: 32 heads and 32 KV heads -> divisors of 32; Llama-2-70B: 64 heads, 8 KV heads.
    with pytest.raises(ValueError) as err:
        Engine.serve("Llama2_7B", "H100", tensor_parallel=3)
    assert str(err.value) == (
        "argument 'tensor_parallel'=3 must divide Llama2_7B's 32 attention heads and 32 KV "
        "heads; valid: 1, 2, 4, 8, 16, 32"
    )
    with pytest.raises(ValueError, match=r"valid: 1, 2, 4, 8$"):
        Engine.serve("Llama2_70B", "H100", tensor_parallel=16)


def test_explain_prints_the_rates_a_hand_check_uses():
    s = Engine.serve("Llama2_7B", "H100")
    # prefill: 6.94 TFLOP / (0.55 x 989.4 TFLOP/s = 544 TFLOP/s) = 12.76 ms + 0.45 ms = 13.2 ms;
    # decode: 13.8 GB / 3.35 TB/s = 4.11 ms (floor); / (0.60 x 3.35 = 2.01 TB/s) = 6.86 ms,
    # + 0.45 ms overhead = 7.31 ms.
    assert s.explain() == (
        "prefill is compute-bound: 6.94 TFLOP per device at 544 TFLOP/s achieved (55% of "
        "989 TFLOP/s fp16), TTFT 13.2 ms incl. 450 us fixed overhead; decode is memory-bound: "
        "each step reads 13.8 GB of weights+KV per device, 4.11 ms at the full 3.35 TB/s (the "
        "floor) and 6.86 ms at 2.01 TB/s achieved (60%); TPOT 7.31 ms incl. 450 us fixed overhead."
    )
    assert s.prefill_flop / (0.55 * 989.4e12) + 450e-6 == pytest.approx(s.ttft_s)
    weights_kv = 6.74e9 * 2 + kv_bytes(LLAMA2_7B, 512 + 64, 1)
    assert weights_kv / (0.60 * H100_BW) + 450e-6 == pytest.approx(s.tpot_s, rel=1e-3)


def test_precision_is_case_insensitive_and_lists_are_refused():
    assert Engine.serve("Llama2_7B", "H100", precision="FP8").tpot_s == (
        Engine.serve("Llama2_7B", "H100", precision="fp8").tpot_s
    )
    with pytest.raises(ValueError, match="argument 'prompt_tokens' takes one number"):
        Engine.serve("Llama2_7B", "H100", prompt_tokens=[128, 512])
