"""check(): raise and collect modes, unit-aware comparisons, caller file/line, the wire protocol."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from pint import DimensionalityError

import mlsysim
from invariants.protocol import ENV_MODE, MIME_CHECK, CheckRecord, validate_payload
from mlsysim.core.units import Q_
from mlsysim.errors import InvariantError
from mlsysim.viz import check, fmt


@pytest.fixture(autouse=True)
def _raise_mode(monkeypatch):
    monkeypatch.delenv(ENV_MODE, raising=False)


def test_public_names_are_one_object():
    assert mlsysim.check is check
    assert mlsysim.fmt is fmt
    assert callable(check.between) and callable(check.close) and callable(check.golden)


def test_passing_check_returns_true_and_failing_raises_with_message_and_values():
    assert check(2 > 1, "two exceeds one") is True
    with pytest.raises(InvariantError) as err:
        line = _line_of_next_statement()
        check(Q_(3, "ms") > Q_(4, "ms"), "decode is slower than prefill", tpot=Q_(3, "ms"))
    text = str(err.value)
    assert text.startswith("decode is slower than prefill\n")
    assert "  tpot = 3 ms" in text
    assert text.endswith(f"  at {__file__}:{line}")
    assert isinstance(err.value, AssertionError)


def test_numpy_bool_is_a_bool():
    assert check(np.float64(2.0) > 1, "numpy comparison") is True
    with pytest.raises(InvariantError):
        check(np.bool_(False), "numpy false")


@pytest.mark.parametrize("bad", [np.array([True, False]), [True], None, 1, Q_(1, ""), "yes"])
def test_non_bool_condition_is_a_type_error(bad):
    with pytest.raises(TypeError, match="check\\(\\) needs a bool condition"):
        check(bad, "not a bool")


def test_array_condition_error_suggests_all_or_any():
    with pytest.raises(TypeError, match=r"np\.all\(\.\.\.\) or np\.any"):
        check(np.array([1, 2]) > 0, "all positive")


def test_message_must_be_text():
    with pytest.raises(TypeError, match="message must be a str"):
        check(True, 42)


def test_records_carry_the_callers_file_and_line():
    with check.collecting() as records:
        here = _line_of_next_statement()
        check(True, "first")
        check.between(1, 0, 2, "second")
        check.close(1.0, 1.0, message="third")
        check.golden("fourth", 1.0)
    assert [r.line for r in records] == [here, here + 1, here + 2, here + 3]
    assert all(r.file == __file__ for r in records)


def _line_of_next_statement() -> int:
    import sys

    return sys._getframe(1).f_lineno + 1


def test_between_is_unit_aware_and_inclusive():
    bw = Q_(3.35, "TB/s")
    assert check.between(bw, Q_(3000, "GB/s"), Q_(4, "TB/s"), "HBM3 bandwidth") is True
    assert check.between(5, 5, 6, "edges count") is True
    with pytest.raises(InvariantError, match="strictly inside"):
        check.between(5, 5, 6, "strictly inside", inclusive=False)
    with pytest.raises(InvariantError) as err:
        check.between(bw, Q_(1, "TB/s"), Q_(2, "TB/s"), "PCIe-class bandwidth")
    assert "  x = 3.35 TB/s" in str(err.value) and "  hi = 2 TB/s" in str(err.value)
    with pytest.raises(InvariantError):
        check.between(float("nan"), 0, 1, "NaN is never inside")
    assert check.between(np.array([1.0, 2.0]), 0, 3, "every element") is True


def test_between_rejects_unit_mixups_and_reversed_bounds():
    with pytest.raises(DimensionalityError, match=r"check\.between \(lo\)"):
        check.between(Q_(3, "TB/s"), Q_(1, "TB"), Q_(4, "TB/s"), "wrong unit")
    with pytest.raises(DimensionalityError, match="lo is a plain number"):
        check.between(Q_(3, "TB/s"), 1, Q_(4, "TB/s"), "unitless bound")
    with pytest.raises(ValueError, match=r"lo .* is greater than hi"):
        check.between(1, 3, 2, "reversed")


def test_close_converts_units():
    assert check.close(Q_(3.35, "TB/s"), Q_(3350, "GB/s"), message="same bandwidth") is True
    assert check.close(0.1 + 0.2, 0.3) is True
    assert check.close(100.0, 101.0, rtol=0.01) is True  # 1 <= 0.01 * 101
    with pytest.raises(InvariantError, match=r"within 0\.5%"):
        check.close(100.0, 101.0, rtol=0.005, message="within 0.5%")
    assert check.close(Q_(1.0, "ms"), Q_(1.4, "ms"), rtol=0, atol=Q_(0.5, "ms")) is True
    assert check.close(Q_(1.0, "ms"), Q_(1400, "us"), rtol=0, atol=Q_(500, "us")) is True
    with pytest.raises(InvariantError):
        check.close(Q_(1.0, "ms"), Q_(1.6, "ms"), rtol=0, atol=Q_(0.5, "ms"))
    assert check.close(np.array([1.0, 2.0]), np.array([1.0, 2.0])) is True


def test_close_with_incompatible_units_is_a_clear_error():
    with pytest.raises(DimensionalityError) as err:
        check.close(Q_(3.35, "TB/s"), Q_(3.35, "TB"))
    message = str(err.value)
    assert "terabyte / second" in message and "terabyte" in message
    assert "check.close (expected)" in message
    with pytest.raises(DimensionalityError, match="atol is a plain number"):
        check.close(Q_(1, "ms"), Q_(1, "ms"), atol=0.1)
    with pytest.raises(ValueError, match="rtol must be >= 0"):
        check.close(1.0, 1.0, rtol=-1)


def test_golden_in_raise_mode_validates_and_returns_the_value():
    value = fmt(Q_(295.2, "flop/byte"))
    assert check.golden("h100_ridge", value, rtol=1e-3) is value
    with pytest.raises(ValueError, match="identifier-like"):
        check.golden("has space", 1.0)
    with pytest.raises(ValueError, match="identifier-like"):
        check.golden("", 1.0)
    with pytest.raises(TypeError, match="finite number"):
        check.golden("nan_value", float("nan"))
    with pytest.raises(TypeError, match="finite number"):
        check.golden("array", np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="rtol must be >= 0"):
        check.golden("neg", 1.0, rtol=-0.1)


def test_collecting_records_every_result_and_never_raises():
    with check.collecting() as records:
        assert check.mode() == "collect"
        assert check(False, "broken one", x=1) is False
        assert check.close(1.0, 2.0, message="broken two") is False
        check.golden("ridge", Q_(295.2, "flop/byte"), rtol=1e-3, atol=None)
    assert check.mode() == "raise"
    assert [(r.kind, r.message, r.passed) for r in records] == [
        ("check", "broken one", False),
        ("check", "broken two", False),
        ("golden", "ridge", True),
    ]
    golden = records[2]
    assert golden.name == "ridge"
    assert golden.golden == {
        "magnitude": 295.2,
        "unit": "flop / byte",
        "text": "295.2 FLOP/B",
        "rtol": 1e-3,
        "atol": None,
    }


def test_formatted_values_publish_their_printed_unit():
    with check.collecting() as records:
        check.golden("ridge_str", fmt(Q_(295.2, "flop/byte")), rtol=1e-3)
    value = records[0].values["ridge_str"]
    assert (value.magnitude, value.unit, value.text) == (295.2, "flop / byte", "295 FLOP/byte")


def test_protocol_round_trip_through_json():
    with check.collecting() as records:
        ai, arr = Q_(1.9, "flop/byte"), Q_(np.ones(2), "s")
        check(False, "H100 decode is memory-bound", ai=ai, arr=arr)
        check.golden("tpot", fmt(Q_(12.3, "ms")), rtol=0.01)
    for record in records:
        payload = json.loads(json.dumps(record.to_json()))
        validate_payload(payload)
        assert CheckRecord.from_json(payload) == record
    assert records[0].values["arr"].magnitude == [1.0, 1.0]


def test_env_collect_mode_publishes_through_ipython_display(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw: shown.append((obj, raw)))
    monkeypatch.setenv(ENV_MODE, "collect")
    assert check(1 > 2, "one exceeds two", x=1) is False  # no raise
    monkeypatch.setenv(ENV_MODE, "raise")  # read at call time
    with pytest.raises(InvariantError):
        check(1 > 2, "one exceeds two")
    ((obj, raw),) = shown
    assert raw is True and list(obj) == [MIME_CHECK]
    record = CheckRecord.from_json(obj[MIME_CHECK])
    assert (record.message, record.passed, record.values["x"].magnitude) == (
        "one exceeds two",
        False,
        1.0,
    )


def test_bad_mode_variable_names_the_valid_modes(monkeypatch):
    monkeypatch.setenv(ENV_MODE, "loud")
    with pytest.raises(ValueError, match="'raise' \\(default\\) or 'collect'"):
        check(True, "anything")


def test_collect_mode_in_a_real_ipython_shell(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    monkeypatch.setenv(ENV_MODE, "collect")
    shell = InteractiveShell.instance()
    try:
        with capture_output() as captured:
            result = shell.run_cell(
                "from mlsysim import check, Q_\n"
                "check(Q_(2, 'ms') > Q_(3, 'ms'), 'two ms exceed three', t=Q_(2, 'ms'))\n"
                "check.golden('answer', 42.0, rtol=0.0)\n"
                "print('still running')\n"
            )
    finally:
        InteractiveShell.clear_instance()
    assert result.success
    assert captured.stdout == "still running\n"
    payloads = [out.data[MIME_CHECK] for out in captured.outputs]
    records = [CheckRecord.from_json(p) for p in payloads]
    assert [(r.kind, r.passed, r.line) for r in records] == [
        ("check", False, 2),
        ("golden", True, 3),
    ]
    assert records[0].values["t"].text == "2 ms"
    assert records[1].golden["magnitude"] == 42.0


def test_plain_bounds_against_a_dimensionless_quantity_are_pure_ratios():
    mfu = Q_(45, "percent")
    assert check.between(mfu, 0.3, 0.6, "MFU of well-tuned runs") is True
    with pytest.raises(InvariantError):
        check.between(mfu, 30, 60, "30 is 3000 %, not 30 %")
    assert check.close(Q_(6, "hour") / Q_(3, "hour"), 2) is True


def test_a_call_spread_over_lines_reports_its_first_line():
    with check.collecting() as records:
        first = _line_of_next_statement()
        check(
            1 > 2,
            "spread over four lines",
        )
    assert records[0].line == first


def test_a_check_in_a_helper_module_records_the_kernel_cell_line_that_called_it(
    monkeypatch, tmp_path
):
    """Regression (issue 8): a failed check() inside a module the chapter imported had no
    .qmd location; the record now carries the innermost cell frame: the chapter's call site."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    helper = tmp_path / "helper_for_guards.py"
    helper.write_text(
        'from mlsysim import check\n\ndef guard(x): check(x < 10, "x is below 10", x=x)\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(ENV_MODE, "collect")
    shell = InteractiveShell.instance()
    try:
        with capture_output() as captured:
            shell.run_cell("import helper_for_guards\nfrom mlsysim import check\n")
            shell.run_cell("y = 1\nhelper_for_guards.guard(3 * 5)\ncheck(True, 'in the cell')\n")
            shell.run_cell("def wrap(v):\n    return helper_for_guards.guard(v)\n")
            shell.run_cell("wrap(2)\n")
        cells = set(shell.compile._filename_map)  # the cell files IPython compiled
    finally:
        InteractiveShell.clear_instance()
        sys.modules.pop("helper_for_guards", None)
    in_module, in_cell, wrapped = (
        CheckRecord.from_json(out.data[MIME_CHECK]) for out in captured.outputs
    )
    assert (Path(in_module.file), in_module.line, in_module.passed) == (helper, 3, False)
    assert (in_module.cell_file, in_module.cell_line) == (in_cell.file, 2)  # line 2 of cell 2
    # written in the cell itself: file/line already are the call site
    assert in_cell.file in cells and (in_cell.line, in_cell.cell_file) == (3, None)
    # the innermost cell frame: the function defined in cell 3, not the call in cell 4
    assert (Path(wrapped.file), wrapped.line) == (helper, 3)
    assert wrapped.cell_file in cells - {in_cell.file} and wrapped.cell_line == 2


def test_outside_ipython_a_record_has_no_cell_frame(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)  # as if never imported
    with check.collecting() as records:
        _guard_in_this_module(15)
    assert (records[0].cell_file, records[0].cell_line) == (None, None)
    assert records[0].line == _guard_in_this_module.__code__.co_firstlineno + 1


def _guard_in_this_module(x):
    check(x < 10, "x is below 10", x=x)
