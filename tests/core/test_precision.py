"""Bytes per parameter for each precision, and the error for an unknown one."""

from __future__ import annotations

import pytest

from mlsysim.core.precision import PRECISIONS, bytes_per_param
from mlsysim.errors import UnknownNameError


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("fp32", 4.0),
        ("tf32", 4.0),
        ("fp16", 2.0),
        ("bf16", 2.0),
        ("fp8", 1.0),
        ("int8", 1.0),
        ("int4", 0.5),
    ],
)
def test_bytes_per_param(name, expected):
    assert bytes_per_param(name) == expected


def test_names_are_case_insensitive():
    assert bytes_per_param("BF16") == 2.0


def test_errors_rank_an_exact_match_ignoring_case_first():
    # Case-sensitive difflib scores 'H100', 'V100' and 'H200' all 0.75 against "h100" and
    # listed 'V100' first; folding case makes 'H100' an exact match (ratio 1.0).
    error = UnknownNameError("hardware", "h100", ["V100", "H100", "H200"])
    assert error.suggestions[0] == "H100"
    assert sorted(error.suggestions) == ["H100", "H200", "V100"]


def test_precisions_lists_every_name():
    assert list(PRECISIONS) == ["fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4"]


def test_precisions_is_read_only():
    with pytest.raises(TypeError):
        PRECISIONS["fp64"] = 8.0  # type: ignore[index]


def test_unknown_precision_suggests_close_names():
    with pytest.raises(UnknownNameError) as info:
        bytes_per_param("fp61")
    message = str(info.value)
    assert "unknown precision 'fp61'" in message
    assert "Did you mean 'fp16'" in message
    assert "Valid: bf16, fp16, fp32, fp8, int4, int8, tf32." in message
    assert isinstance(info.value, KeyError)
