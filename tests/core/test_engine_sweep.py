"""Engine.sweep: equals per-point solve, skips unsupported precisions, table accessors."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from mlsysim.core.engine import Engine, SweepTable
from mlsysim.errors import UnknownNameError

MODELS = ["ResNet50", "Llama2_7B"]
HARDWARE = ["H100", "A100", "ESP32_S3"]
PRECISIONS = ["fp16", "int8"]
BATCHES = [1, 8, 256]


@pytest.fixture(scope="module")
def table() -> SweepTable:
    return Engine.sweep(MODELS, HARDWARE, BATCHES, PRECISIONS)


def test_sweep_equals_per_point_solve(table):
    assert len(table) == 2 * (2 * 2 + 1) * 3  # ESP32_S3 has no fp16
    for row in table:
        point = Engine.solve(row["model"], row["hardware"], row["batch_size"], row["precision"])
        assert row["latency_s"] == pytest.approx(point.latency_s, rel=1e-12)
        assert row["bottleneck"] == point.bottleneck
        assert row["mfu"] == pytest.approx(point.mfu, rel=1e-12)
        assert row["energy_j"] == pytest.approx(point.energy_j, rel=1e-12)
        assert row["fits"] == point.fits
        assert row["throughput_per_s"] == pytest.approx(point.throughput.m_as("1/s"))
        assert row["arithmetic_intensity"] == pytest.approx(point.arithmetic_intensity.magnitude)
        assert row["memory_required_b"] == pytest.approx(point.memory_required_b, rel=1e-12)
        assert row["unit"] == point.unit  # what throughput_per_s and energy_j count


def test_each_row_says_what_it_counts_in_a_last_unit_column(table):
    from mlsysim.core.engine.sweep import COLUMNS

    assert COLUMNS[-1] == "unit" and list(table.columns) == list(COLUMNS)
    assert {(r["model"], r["unit"]) for r in table} == {
        ("ResNet50", "sample"),  # one forward pass: samples/s, energy per sample
        ("Llama2_7B", "token"),  # one decode step: tokens/s, energy per token
    }
    assert Engine.solve("Llama2_7B", "H100").to_dict()["unit"] == "token"


def test_a_transformer_sweep_counts_the_kv_cache_per_batch_size(table):
    # Llama-2-7B fp16: 13.48 GB of weights + batch x 2.147 GB of KV at the 4,096-token context.
    rows = [r for r in table if r["model"] == "Llama2_7B" and r["hardware"] == "H100"]
    fp16 = {r["batch_size"]: r for r in rows if r["precision"] == "fp16"}
    kv_sequence = 2 * 32 * 32 * 128 * 4096 * 2
    for batch in BATCHES:
        assert fp16[batch]["memory_required_b"] == pytest.approx(13.48e9 + batch * kv_sequence)
    assert [fp16[b]["fits"] for b in BATCHES] == [True, True, False]  # 563 GB > 80 GB at 256


def test_unsupported_precisions_are_listed_not_silently_dropped(table):
    assert table.skipped == [("ResNet50", "ESP32_S3", "fp16"), ("Llama2_7B", "ESP32_S3", "fp16")]
    with pytest.raises(UnknownNameError, match="unknown ESP32_S3 precision 'fp16'"):
        Engine.sweep("ResNet50", "ESP32_S3", [1], ["fp16"], skip_unsupported=False)


def test_a_name_that_is_no_precision_raises_instead_of_an_empty_table():
    with pytest.raises(UnknownNameError) as err:
        Engine.sweep("ResNet50", "H100", [1], ["fp7"])
    assert str(err.value) == (
        "unknown precision 'fp7'. Did you mean 'fp8', 'fp32', 'fp16'? "
        "Valid: bf16, fp16, fp32, fp8, int4, int8, tf32."
    )


def test_a_real_precision_no_part_has_is_skipped():
    table = Engine.sweep("ResNet50", "H100", [1], ["fp16", "int4"])  # int4: no sourced peak
    assert len(table) == 1 and table.skipped == [("ResNet50", "H100", "int4")]


def test_records_are_plain_python_values(table):
    first = table[0]
    assert first == table.records()[0]
    assert isinstance(first["latency_s"], float) and isinstance(first["batch_size"], int)
    assert isinstance(first["fits"], bool) and isinstance(first["model"], str)
    assert table[-1] == table.records()[-1]
    with pytest.raises(IndexError):
        table[len(table)]


def test_to_pandas_has_one_row_per_point(table):
    pd = pytest.importorskip("pandas")
    frame = table.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == len(table)
    assert frame["latency_s"].iloc[0] == table[0]["latency_s"]


def test_to_pandas_without_pandas_says_how_to_fix(table, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="needs pandas: pip install pandas"):
        table.to_pandas()


def test_numpy_batch_axis_and_single_names():
    table = Engine.sweep("ResNet50", "H100", np.arange(1, 101), "fp16")
    assert len(table) == 100
    assert table[99]["batch_size"] == 100
    assert not math.isnan(table[0]["energy_j"])


@pytest.mark.parametrize(
    ("batches", "bad"), [([0, 1], 0), ([8, 1.5], 1.5), ([True], True), ([4, -2], -2)]
)
def test_a_bad_batch_size_is_named_in_the_words_solve_uses(batches, bad):
    with pytest.raises(ValueError) as err:
        Engine.sweep("ResNet50", "H100", batches)
    assert (
        str(err.value)
        == f"argument 'batch_sizes' must be a whole number >= 1 (a count), got {bad!r}"
    )
    with pytest.raises(ValueError) as solve_err:  # one rule, one wording for a count
        Engine.solve("ResNet50", "H100", batch_size=bad)
    assert str(err.value) == str(solve_err.value).replace("'batch_size'", "'batch_sizes'")


def test_no_batch_size_at_all_is_refused():
    with pytest.raises(ValueError) as err:
        Engine.sweep("ResNet50", "H100", [])
    assert str(err.value) == "argument 'batch_sizes' needs at least one value, got []"


def test_precision_names_are_case_insensitive_and_reported_canonically():
    table = Engine.sweep("ResNet50", ["H100", "V100"], precisions=["FP16", "BF16"])
    frame = table.to_pandas()
    assert list(frame["precision"]) == ["fp16", "bf16", "fp16"]
    assert table.skipped == [("ResNet50", "V100", "bf16")]  # V100 has fp16 and fp32 only


def test_a_sweep_column_by_name_and_a_misspelt_one():
    table = Engine.sweep(models="ResNet50", hardware=["H100"])
    assert table["latency_s"] is table.columns["latency_s"]
    with pytest.raises(KeyError) as err:
        table["latency"]
    assert str(err.value).startswith("unknown sweep column 'latency'. Did you mean 'latency_s'")
