"""Engine.sweep_serve: every row is Engine.serve at that point, hand-checked values, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from mlsysim.core.engine import Engine
from mlsysim.core.engine.sweep_serve import SERVE_COLUMNS
from mlsysim.errors import UnknownNameError

GRID = {
    "models": ["Llama2_7B", "Llama3_8B"],
    "hardware": ["H100", "A100"],
    "batch_sizes": [1, 16, 128],
    "precisions": ["fp16", "fp8"],
    "prompt_tokens": [128, 1024],
    "output_tokens": [16, 256],
    "tensor_parallel": [1, 2],
}


@pytest.fixture(scope="module")
def table():
    return Engine.sweep_serve(**GRID)


def test_every_row_is_engine_serve_at_that_point(table):
    # A100 has no fp8: 2 models x (2 + 1) part-precisions x 2 tp x 2 prompts x 2 outputs x 3
    assert len(table) == 2 * 3 * 2 * 2 * 2 * 3
    assert table.skipped == [("Llama2_7B", "A100", "fp8"), ("Llama3_8B", "A100", "fp8")]
    for row in table:
        point = Engine.serve(
            row["model"],
            row["hardware"],
            batch_size=row["batch_size"],
            prompt_tokens=row["prompt_tokens"],
            output_tokens=row["output_tokens"],
            precision=row["precision"],
            tensor_parallel=row["tensor_parallel"],
        ).to_dict()
        for column in ("ttft_s", "tpot_s", "e2e_latency_s", "memory_floor_s", "kv_cache_b"):
            assert row[column] == pytest.approx(point[column], rel=1e-12), column
        assert row["tokens_per_s"] == pytest.approx(point["tokens_per_second"], rel=1e-12)
        assert row["memory_required_b"] == pytest.approx(point["weights_b"] + point["kv_cache_b"])
        same = ("prefill_bottleneck", "decode_bottleneck", "fits", "max_batch_size")
        assert [row[c] for c in same] == [point[c] for c in same]


def test_columns_and_row_order_batch_size_fastest(table):
    assert list(table.columns) == list(SERVE_COLUMNS)
    first = [
        tuple(r[c] for c in ("model", "hardware", "precision", "tensor_parallel",
                             "prompt_tokens", "output_tokens", "batch_size"))
        for r in table[:7]
    ]  # fmt: skip
    assert first == [
        ("Llama2_7B", "H100", "fp16", 1, 128, 16, 1),
        ("Llama2_7B", "H100", "fp16", 1, 128, 16, 16),
        ("Llama2_7B", "H100", "fp16", 1, 128, 16, 128),
        ("Llama2_7B", "H100", "fp16", 1, 128, 256, 1),
        ("Llama2_7B", "H100", "fp16", 1, 128, 256, 16),
        ("Llama2_7B", "H100", "fp16", 1, 128, 256, 128),
        ("Llama2_7B", "H100", "fp16", 1, 1024, 16, 1),
    ]
    assert all(type(table[0][c]) is int for c in ("batch_size", "max_batch_size", "prompt_tokens"))


def test_llama2_7b_on_one_h100_by_hand():
    (row,) = Engine.sweep_serve("Llama2_7B", "H100", 1, "fp16", 512, 128, 1)
    kv_per_token = 2 * 32 * 32 * 128 * 2  # K and V x layers x KV heads x head_dim x 2 B
    weights = 6.74e9 * 2
    # Decode reads the weights and the KV cache at the mean context 512 + 128 / 2 = 576.
    floor = (weights + 576 * kv_per_token) / 3.35e12
    assert row["memory_floor_s"] == pytest.approx(floor, rel=1e-12)  # 4.114 ms
    # Memory-bound at 60% of 3.35 TB/s, plus the 450 us per-call overhead: 7.307 ms.
    assert row["tpot_s"] == pytest.approx(floor / 0.6 + 450e-6, rel=1e-9)
    assert row["decode_bottleneck"] == "memory"
    assert row["kv_cache_b"] == 640 * kv_per_token  # 335,544,320 B at prompt + output
    assert row["max_batch_size"] == (80e9 - weights) // (640 * kv_per_token) == 198
    assert row["e2e_latency_s"] == pytest.approx(row["ttft_s"] + 127 * row["tpot_s"])
    assert row["tokens_per_s"] == pytest.approx(128 / row["e2e_latency_s"])


def test_no_row_beats_the_memory_floor_and_batching_raises_tokens_per_second():
    table = Engine.sweep_serve(
        ["Llama2_7B", "Llama3_70B"], ["H100", "MI300X"], np.arange(1, 257), ["fp16", "fp8"]
    )
    assert len(table) == 2 * 2 * 2 * 256
    assert np.all(table["tpot_s"] >= table["memory_floor_s"])
    one_part = [r for r in table if (r["model"], r["hardware"], r["precision"]) ==
                ("Llama2_7B", "H100", "fp16")]  # fmt: skip
    rates = [r["tokens_per_s"] for r in one_part]
    assert rates == sorted(rates)  # decode is memory-bound: a bigger batch shares the reads


def test_skip_unsupported_false_raises_the_parts_error():
    with pytest.raises(UnknownNameError, match="precision 'fp8'"):
        Engine.sweep_serve("Llama2_7B", "A100", precisions="fp8", skip_unsupported=False)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"models": "BERTBase"}, "serve() generates tokens; model 'BERTBase' is an encoder"),
        ({"models": "ResNet50"}, "serve() needs a transformer with an architecture; model "),
        (
            {"prompt_tokens": [512, 4000], "output_tokens": 200},
            "arguments 'prompt_tokens'=4000 + 'output_tokens'=200 = 4200 exceed Llama2_7B's "
            "context_length of 4,096 tokens",
        ),
        (
            {"tensor_parallel": [1, 3]},
            "argument 'tensor_parallel'=3 must divide Llama2_7B's 32 attention heads and 32 KV "
            "heads; valid: 1, 2, 4, 8, 16, 32",
        ),
        (
            {"hardware": ["H100", "JetsonAGXOrin"], "tensor_parallel": 2},
            "argument 'tensor_parallel'=2 needs an interconnect, but JetsonAGXOrin has no ",
        ),
        ({"prompt_tokens": []}, "argument 'prompt_tokens' needs at least one value, got []"),
        ({"batch_sizes": [1, 0]}, "argument 'batch_sizes' must be a whole number >= 1"),
        ({"output_tokens": [8, 2.5]}, "argument 'output_tokens' must be a whole number >= 1"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(arguments, message):
    call = {"models": "Llama2_7B", "hardware": "H100", **arguments}
    with pytest.raises(ValueError) as caught:
        Engine.sweep_serve(**call)
    assert str(caught.value).startswith(message)


def test_a_name_that_is_no_precision_raises_even_when_skipping():
    with pytest.raises(UnknownNameError, match="fp7"):
        Engine.sweep_serve("Llama2_7B", "H100", precisions=["fp16", "fp7"])


def test_serve_given_a_list_points_at_sweep_serve():
    with pytest.raises(ValueError) as caught:
        Engine.serve("Llama2_7B", "H100", batch_size=[1, 8])
    assert str(caught.value) == (
        "argument 'batch_size' takes one number, got [1, 8]; for a grid use "
        "Engine.sweep_serve(models, hardware, batch_sizes=[...], prompt_tokens=[...], "
        "output_tokens=[...], precisions=[...], tensor_parallel=[...]) or call once per value"
    )


def test_to_pandas_has_the_serving_columns(table):
    frame = table.to_pandas()
    assert frame.shape == (len(table), len(SERVE_COLUMNS))
    generated = frame["batch_size"] * frame["output_tokens"]  # tokens per request batch
    assert list(frame["tokens_per_s"]) == pytest.approx(list(generated / frame["e2e_latency_s"]))


@pytest.mark.parametrize("sweep", [Engine.sweep, Engine.sweep_serve])
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"models": None}, "argument 'models' needs at least one model, got None"),
        ({"models": []}, "argument 'models' needs at least one model, got []"),
        ({"hardware": ()}, "argument 'hardware' needs at least one hardware part, got ()"),
        ({"precisions": []}, "argument 'precisions' needs at least one precision, got []"),
        (
            {"batch_sizes": None},
            "argument 'batch_sizes' must be a whole number >= 1 (a count), got None",
        ),
        (
            {"batch_sizes": [[1, 2]]},
            "argument 'batch_sizes' takes one count or a flat list of counts, got [[1, 2]]",
        ),
    ],
)
def test_both_sweeps_name_the_argument_that_is_missing_or_nested(sweep, arguments, message):
    with pytest.raises(ValueError) as caught:
        sweep(**{"models": "Llama2_7B", "hardware": "H100", **arguments})
    assert str(caught.value) == message


def test_a_set_sweeps_in_sorted_order_and_a_0d_array_is_one_value():
    table = Engine.sweep_serve("Llama2_7B", {"H100", "A100"}, batch_sizes={64, 1, 8})
    assert [(r["hardware"], r["batch_size"]) for r in table] == [
        ("A100", 1), ("A100", 8), ("A100", 64), ("H100", 1), ("H100", 8), ("H100", 64),
    ]  # fmt: skip
    (row,) = Engine.sweep_serve("Llama2_7B", "H100", batch_sizes=np.array(8))
    assert row["batch_size"] == 8


def test_serve_refuses_a_missing_count_in_the_count_rules_words():
    with pytest.raises(ValueError) as caught:
        Engine.serve("Llama2_7B", "H100", output_tokens=None)
    assert str(caught.value) == (
        "argument 'output_tokens' must be a whole number >= 1 (a count), got None"
    )


@pytest.mark.parametrize("sweep", [Engine.sweep, Engine.sweep_serve])
def test_a_count_beyond_exact_float64_is_refused_not_wrapped(sweep):
    assert len(sweep("Llama2_7B", "H100", batch_sizes=[2**53])) == 1  # the largest allowed
    with pytest.raises(ValueError) as caught:
        sweep("Llama2_7B", "H100", batch_sizes=[1, 2**63])
    assert str(caught.value) == (
        "argument 'batch_sizes' must be at most 2**53 = 9,007,199,254,740,992 per value "
        "(exact in float64), got 9223372036854775808"
    )
