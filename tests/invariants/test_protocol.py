"""The wire: what a check or golden value looks like, and which payloads a verifier accepts."""

from __future__ import annotations

import numpy as np
import pytest

from invariants.protocol import (
    CheckRecord,
    ProtocolError,
    PublishedValue,
    published_value,
    validate_payload,
)
from mlsysim import Q_


def test_a_quantity_keeps_full_magnitude_and_long_unit_but_reads_at_six_digits():
    # H100 ridge point: 989.4e12 / 3.35e12 = 295.34328358208955 FLOP/byte
    ridge = Q_(989.4e12, "flop/s") / Q_(3.35e12, "byte/s")
    assert published_value(ridge) == PublishedValue(
        magnitude=295.34328358208955, unit="flop / byte", text="295.343 FLOP/B"
    )


def test_large_and_small_quantities_use_pints_pretty_exponent():
    assert published_value(Q_(137.96e9, "B")).text == "1.3796×10¹¹ B"
    assert published_value(Q_(0.055461254037424086, "s")).text == "0.0554613 s"


def test_plain_numbers_read_at_six_digits_and_integers_stay_whole():
    assert published_value(0.1 + 0.2) == PublishedValue(0.30000000000000004, None, "0.3")
    assert published_value(12345678) == PublishedValue(12345678.0, None, "12345678")


def test_arrays_keep_every_element():
    value = published_value(Q_(np.array([1.5, 2.0]), "ms"))
    assert value.magnitude == [1.5, 2.0]
    assert value.unit == "millisecond"


def test_non_finite_magnitudes_are_sent_as_null():
    assert published_value(float("nan")).magnitude is None
    assert published_value(Q_(float("inf"), "s")).magnitude is None


_PAYLOAD = {
    "protocol": 1, "kind": "check", "name": None, "message": "x is below 10", "passed": False,
    "values": {"x": {"magnitude": 15.0, "unit": None, "text": "15"}}, "golden": None,
    "file": "/book/chapters/helper.py", "line": 3,
}  # fmt: skip


def test_a_payload_without_the_optional_cell_frame_reads_as_none():
    record = CheckRecord.from_json(dict(_PAYLOAD))  # what a library older than cell_file sends
    assert (record.file, record.line, record.cell_file, record.cell_line) == (
        "/book/chapters/helper.py",
        3,
        None,
        None,
    )


def test_the_cell_frame_of_a_check_in_a_module_round_trips():
    payload = {**_PAYLOAD, "cell_file": "/tmp/ipykernel_42/9813.py", "cell_line": 2}
    record = CheckRecord.from_json(payload)
    assert (record.cell_file, record.cell_line) == ("/tmp/ipykernel_42/9813.py", 2)
    assert record.to_json() == payload


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"cell_file": "/tmp/ipykernel_42/9813.py"}, "'cell_file' and 'cell_line' go together"),
        ({"cell_line": 2}, "'cell_file' and 'cell_line' go together"),
        ({"cell_file": 7, "cell_line": 2}, "'cell_file' must be a string or null"),
        ({"cell_file": "c.py", "cell_line": -1}, "'cell_line' must be a non-negative integer"),
        ({"cell_file": "c.py", "cell_line": "2"}, "'cell_line' must be a non-negative integer"),
    ],
)
def test_a_broken_cell_frame_is_a_protocol_error(extra, error):
    with pytest.raises(ProtocolError, match=error):
        validate_payload({**_PAYLOAD, **extra})
