"""Engine.solve: bottleneck flips, hand-computed latency, fit/no-fit, explain(), bad input."""

from __future__ import annotations

import numpy as np
import pytest

from mlsysim.core.engine import DEFAULT_EFFICIENCY, Efficiency, Engine
from mlsysim.errors import UnknownNameError

# Published numbers, typed by hand (not read from the catalog):
RESNET50_PARAMS = 25.557032e6  # torchvision resnet50 weights
RESNET50_FLOPS = 2 * 4.09e9  # 4.09 GMAC at 2 FLOP/MAC
H100_FP16 = 989.4e12  # dense, SXM
H100_BW = 3.35e12
A100_CAPACITY = 80e9
LLAMA2_70B_PARAMS = 68.98e9
CLOUD = DEFAULT_EFFICIENCY["cloud"]


def test_resnet50_batch1_on_h100_is_memory_bound_by_hand_intensity():
    profile = Engine.solve("ResNet50", "H100", batch_size=1, precision="fp16")
    intensity = RESNET50_FLOPS / (2 * RESNET50_PARAMS)  # 160.03 flop/byte
    achieved_ridge = (H100_FP16 * CLOUD.compute) / (H100_BW * CLOUD.memory)  # 270.7
    assert intensity == pytest.approx(160.034, rel=1e-4)
    assert intensity < achieved_ridge
    assert profile.arithmetic_intensity.m_as("flop/byte") == pytest.approx(intensity)
    assert profile.bottleneck == "memory"


def test_resnet50_batch256_on_h100_is_compute_bound():
    profile = Engine.solve("ResNet50", "H100", batch_size=256, precision="fp16")
    intensity = 256 * RESNET50_FLOPS / (2 * RESNET50_PARAMS)  # 40,969 flop/byte
    assert profile.arithmetic_intensity.m_as("flop/byte") == pytest.approx(intensity)
    assert intensity > H100_FP16 / H100_BW
    assert profile.bottleneck == "compute"


def test_latency_is_memory_time_plus_fixed_overhead_by_hand():
    profile = Engine.solve("ResNet50", "H100")
    memory_time = 2 * RESNET50_PARAMS / (H100_BW * 0.60)  # 25.43 us
    assert profile.latency.m_as("s") == pytest.approx(memory_time + 450e-6)
    assert profile.latency.m_as("ms") == pytest.approx(0.4754299, rel=1e-5)
    assert profile.throughput.m_as("1/s") == pytest.approx(1 / (memory_time + 450e-6))
    assert profile.energy.m_as("J") == pytest.approx(700 * (memory_time + 450e-6))
    assert profile.mfu == pytest.approx(RESNET50_FLOPS / ((memory_time + 450e-6) * H100_FP16))


# MLPerf Inference v3.0 Edge closed, ResNet-50 SingleStream (TensorRT, int8) median latency,
# github.com/mlcommons/inference_results_v3.0 closed/NVIDIA/results/*/resnet50/SingleStream
MLPERF_SINGLE_STREAM_S = {"A100": 0.470e-3, "JetsonAGXOrin": 0.630e-3}  # A100 PCIe-80GB, Orin


@pytest.mark.parametrize(("part", "measured"), MLPERF_SINGLE_STREAM_S.items())
def test_batch1_resnet50_matches_mlperf_single_stream(part, measured):
    calibrated = Engine.solve("ResNet50", part, batch_size=1, precision="int8")
    pure = Engine.solve("ResNet50", part, 1, "int8", efficiency=Efficiency(1.0, 1.0, 0.0))
    assert calibrated.latency_s == pytest.approx(measured, rel=0.05)
    assert measured / pure.latency_s > 4  # a pure roofline misses them 5x (Orin) to 37x (A100)


def test_overhead_dominates_a_short_request_on_h100():
    calibrated = Engine.solve("ResNet50", "H100")
    pure = Engine.solve("ResNet50", "H100", efficiency=Efficiency(1.0, 1.0, 0.0))
    assert pure.latency.m_as("s") == pytest.approx(2 * RESNET50_PARAMS / H100_BW)  # 15.26 us
    # (25.43 us of weights at 60% + 450 us) / 15.26 us = 31.16
    assert calibrated.latency_s / pure.latency_s == pytest.approx(31.16, rel=1e-3)


def test_float_efficiency_overrides_both_fractions_and_keeps_overhead():
    profile = Engine.solve("ResNet50", "H100", batch_size=256, efficiency=0.5)
    expected = 256 * RESNET50_FLOPS / (H100_FP16 * 0.5) + 450e-6
    assert profile.latency.m_as("s") == pytest.approx(expected)


def test_llm_decode_step_at_batch1_is_memory_bound():
    profile = Engine.solve("Llama2_7B", "H100", batch_size=1)
    assert profile.bottleneck == "memory"
    assert profile.arithmetic_intensity.m_as("flop/byte") < 2  # ~2N flops / 2N bytes


def test_llama2_70b_fp16_does_not_fit_one_a100_and_reports_shortfall():
    profile = Engine.solve("Llama2_70B", "A100", precision="fp16")
    kv = 2 * 80 * 8 * 128 * 4096 * 2  # GQA: 8 KV heads of 128, full 4,096-token context, fp16
    assert kv == 1_342_177_280
    assert profile.fits is False
    assert profile.memory_required.m_as("byte") == pytest.approx(2 * LLAMA2_70B_PARAMS + kv)
    assert profile.shortfall.m_as("GB") == pytest.approx(
        (2 * LLAMA2_70B_PARAMS + kv - A100_CAPACITY) / 1e9
    )
    assert profile.shortfall.m_as("GB") == pytest.approx(59.30218, rel=1e-6)
    assert "does NOT fit: needs 139 GB, has 80 GB" in profile.explain()


# Llama-2-7B (Touvron et al. 2023): 6.74e9 params, 32 layers x 32 KV heads x 128, 4,096 context.
LLAMA2_7B_PARAMS = 6.74e9
LLAMA2_7B_KV_PER_SEQUENCE = 2 * 32 * 32 * 128 * 4096 * 2  # K and V, fp16: 2.147 GB


def test_transformer_solve_reads_the_kv_cache_its_flops_assume():
    # One decode step of 16 sequences at the full context: 13.48 GB of weights + 16 x 2.147 GB
    # of KV = 47.84 GB at 0.60 x 3.35 TB/s = 23.80 ms, + 450 us = 24.25 ms (weights alone would
    # give 7.16 ms, below the 14.28 ms memory floor of the same step).
    profile = Engine.solve("Llama2_7B", "H100", batch_size=16)
    moved = 2 * LLAMA2_7B_PARAMS + 16 * LLAMA2_7B_KV_PER_SEQUENCE
    assert moved == pytest.approx(47.839738368e9)
    assert profile.kv_cache_b == 16 * LLAMA2_7B_KV_PER_SEQUENCE
    assert profile.memory_required.m_as("byte") == pytest.approx(moved)
    assert profile.latency_s == pytest.approx(moved / (0.60 * H100_BW) + 450e-6)
    assert profile.latency.m_as("ms") == pytest.approx(24.25086, rel=1e-6)
    assert profile.latency_s > moved / H100_BW  # the memory floor, 14.28 ms
    assert profile.bottleneck == "memory"
    assert profile.throughput.units == "token / second"
    assert profile.throughput.m_as("token/s") == pytest.approx(16 / 24.25086e-3, rel=1e-6)


def test_transformer_solve_matches_serves_decode_step_at_the_full_context():
    # serve decodes at the mean context prompt + output / 2 = 4,095.5 tokens; solve at 4,096.
    step = Engine.solve("Llama2_7B", "H100", batch_size=16).latency_s
    tpot = Engine.serve("Llama2_7B", "H100", 16, prompt_tokens=4095, output_tokens=1).tpot_s
    assert step > tpot
    assert step == pytest.approx(tpot, rel=1e-4)


def test_kv_cache_of_a_big_batch_does_not_fit():
    profile = Engine.solve("Llama2_7B", "H100", batch_size=256)
    need = 2 * LLAMA2_7B_PARAMS + 256 * LLAMA2_7B_KV_PER_SEQUENCE  # 13.48 GB + 549.76 GB
    assert profile.fits is False
    assert profile.memory_required.m_as("GB") == pytest.approx(need / 1e9)
    assert profile.memory_required.m_as("GB") == pytest.approx(563.2358, rel=1e-6)
    assert profile.shortfall.m_as("GB") == pytest.approx(483.2358, rel=1e-6)


def test_transformer_explain_says_it_is_a_decode_step_at_full_context():
    # 47.84 GB = 13.5 GB + 34.4 GB at 2.01 TB/s = 23.8 ms; 16 x 14.55 GFLOP = 233 GFLOP at
    # 544 TFLOP/s = 0.428 ms.
    assert Engine.solve("Llama2_7B", "H100", batch_size=16).explain() == (
        "memory-bound decode step (16 sequences x 1 token, each at the full 4,096-token "
        "context): 13.5 GB of weights + 34.4 GB of KV cache at 2.01 TB/s achieved (60% of "
        "3.35 TB/s) take 23.8 ms; 233 GFLOP of compute at 544 TFLOP/s achieved (55% of "
        "989 TFLOP/s fp16) would take 0.428 ms (+450 us fixed overhead per call)."
    )


def test_a_cnn_has_no_kv_cache_and_counts_samples():
    profile = Engine.solve("ResNet50", "H100", batch_size=8)
    assert profile.kv_cache_b == 0.0 and profile.context_tokens == 0
    assert profile.memory_required.m_as("byte") == pytest.approx(2 * RESNET50_PARAMS)
    assert profile.throughput.units == "sample / second"


def test_fitting_model_has_zero_shortfall():
    profile = Engine.solve("Llama2_7B", "H100")
    assert profile.fits is True
    assert profile.shortfall.m_as("byte") == 0


def test_explain_names_bottleneck_with_numbers():
    # Achieved rates so the sentence checks by hand: 0.60 x 3.35 TB/s = 2.01 TB/s and
    # 51.1 MB / 2.01 TB/s = 0.0254 ms; 0.55 x 989.4 TFLOP/s = 544 TFLOP/s and
    # 8.18 GFLOP / 544 TFLOP/s = 0.0150 ms.
    assert Engine.solve("ResNet50", "H100").explain() == (
        "memory-bound: 51.1 MB of weights at 2.01 TB/s achieved (60% of 3.35 TB/s) take "
        "0.0254 ms; 8.18 GFLOP of compute at 544 TFLOP/s achieved (55% of 989 TFLOP/s fp16) "
        "would take 0.015 ms (+450 us fixed overhead per call)."
    )
    # 256 x 8.18 GFLOP = 2.09 TFLOP; 2.094e12 / 544.2e12 = 3.85 ms (not 2.09 / 989 = 2.11 ms).
    assert (
        Engine.solve("ResNet50", "H100", batch_size=256)
        .explain()
        .startswith(
            "compute-bound: 2.09 TFLOP at 544 TFLOP/s achieved (55% of 989 TFLOP/s fp16) take "
            "3.85 ms; reading 51.1 MB of weights at 2.01 TB/s achieved (60% of 3.35 TB/s) would "
            "take 0.0254 ms"
        )
    )


def test_specs_and_names_give_the_same_profile():
    from mlsysim.core.catalogs import Hardware, Models

    by_name = Engine.solve("ResNet50", "H100", batch_size=4)
    by_spec = Engine.solve(Models.ResNet50, Hardware.H100, batch_size=4)
    assert by_name == by_spec


def test_unknown_precision_lists_the_parts_precisions():
    with pytest.raises(UnknownNameError) as err:
        Engine.solve("ResNet50", "ESP32_S3", precision="fp16")
    assert (
        str(err.value)
        == "unknown ESP32_S3 precision 'fp16'. Did you mean 'fp32'? Valid: fp32, int8."
    )


def test_unknown_model_suggests_close_names():
    with pytest.raises(UnknownNameError, match="Did you mean 'ResNet50'"):
        Engine.solve("ResNet5", "H100")


@pytest.mark.parametrize("batch", [0, -1, 2.5, True])
def test_bad_batch_size_names_the_argument(batch):
    with pytest.raises(ValueError) as err:
        Engine.solve("ResNet50", "H100", batch_size=batch)
    assert (
        str(err.value)
        == f"argument 'batch_size' must be a whole number >= 1 (a count), got {batch!r}"
    )


def test_efficiency_out_of_range_is_rejected():
    with pytest.raises(ValueError, match=r"argument 'efficiency' must be in \(0, 1\], got 1.5"):
        Engine.solve("ResNet50", "H100", efficiency=1.5)
    with pytest.raises(ValueError, match=r"efficiency 'memory' must be in \(0, 1\]"):
        Efficiency(0.5, 0.0)


def test_every_category_default_has_a_source_and_an_overhead():
    for category, efficiency in DEFAULT_EFFICIENCY.items():
        assert 0 < efficiency.compute <= 1 and 0 < efficiency.memory <= 1, category
        assert efficiency.overhead_s > 0, category
        assert len(efficiency.source) > 40, category
    assert DEFAULT_EFFICIENCY["cloud"].overhead_s == pytest.approx(450e-6)


def test_to_dict_carries_si_floats_and_the_sentence():
    record = Engine.solve("ResNet50", "H100").to_dict()
    assert record["latency_s"] == pytest.approx(0.4754299e-3, rel=1e-5)
    assert record["bottleneck"] == "memory"
    assert record["explain"].startswith("memory-bound")
    assert record["shortfall_b"] == 0
    assert record["unit"] == "sample"  # what throughput_per_s counts, as in a sweep row


def test_a_list_batch_size_names_the_argument_and_points_at_sweep():
    with pytest.raises(ValueError) as err:
        Engine.solve("ResNet50", "H100", batch_size=[1, 8, 64])
    assert str(err.value) == (
        "argument 'batch_size' takes one number, got [1, 8, 64]; for a grid use "
        "Engine.sweep(models, hardware, batch_sizes=[...], precisions=[...]) "
        "or call once per value"
    )
    with pytest.raises(ValueError, match="argument 'efficiency' takes one number"):
        Engine.solve("ResNet50", "H100", efficiency=np.array([0.5, 0.6]))


@pytest.mark.parametrize("spelling", ["FP16", "Fp16", " fp16 "])
def test_precision_is_case_insensitive(spelling):
    profile = Engine.solve("ResNet50", "H100", precision=spelling)
    assert profile.precision == "fp16"
    assert profile.peak_flops_per_s == 989.4e12


def test_an_encoder_sample_is_one_whole_sequence_with_no_kv_cache():
    # BERT-Large at 512 tokens: per token 2 x 335,141,888 + 2 x 24 x 512 x 1024 = 695,449,600
    # FLOP; one sequence x 512 = 3.5607e11 FLOP; batch 8 int8 on H100 at 0.55 x 1979 TOPS
    profile = Engine.solve("BERTLarge", "H100", batch_size=8, precision="int8")
    sequence_flops = 512 * (2 * 335_141_888 + 2 * 24 * 512 * 1024)
    assert profile.flop_count == pytest.approx(8 * sequence_flops)
    assert profile.kv_cache_b == 0 and profile.unit == "sample"
    assert profile.memory_required_b == pytest.approx(335_141_888)  # int8 weights only
    compute_s = 8 * sequence_flops / (1979e12 * 0.55)
    assert profile.latency_s == pytest.approx(compute_s + 450e-6, rel=1e-3)  # 3.07 ms
    assert profile.bottleneck == "compute"


def test_serving_an_encoder_is_refused_with_the_reason():
    with pytest.raises(ValueError) as err:
        Engine.serve("BERTBase", "H100")
    assert str(err.value) == (
        "serve() generates tokens; model 'BERTBase' is an encoder, which generates none "
        "(use Engine.solve: one sample is one sequence of its context_length tokens)"
    )


@pytest.mark.parametrize("batch", ["8", b"8"])
def test_a_numeric_string_is_no_batch_size(batch):
    with pytest.raises(ValueError, match=r"argument 'batch_size' must be a whole number >= 1"):
        Engine.solve("ResNet50", "H100", batch_size=batch)
