"""fmt and its helpers: exact output in every style, the rounding guards, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from pint import DimensionalityError

from mlsysim.core.units import Q_
from mlsysim.errors import FormatError
from mlsysim.viz.formatting import (
    Formatted,
    fmt,
    fmt_bytes,
    fmt_count,
    fmt_currency,
    fmt_eng,
    fmt_flops,
    fmt_multiple,
    fmt_percent,
    fmt_range,
    fmt_sci,
    fmt_time,
)


def test_quantity_is_converted_to_the_requested_unit():
    out = fmt(Q_(989.4e12, "flop/s"), "TFLOP/s")
    assert out == "989 TFLOP/s"
    assert out.latex == r"989\,\mathrm{TFLOP/s}"
    assert out._invariants_value_() == {"magnitude": 989.4, "unit": "teraflop / second"}


def test_bandwidth_decimal_prefixes():
    assert fmt(Q_(3.35, "TB/s"), "GB/s") == "3350 GB/s"
    assert fmt(Q_(3.35, "TB/s")) == "3.35 TB/s"


def test_plain_number_with_unit_is_a_label_in_that_unit():
    out = fmt(4.2, "ms")
    assert out == "4.20 ms"
    assert out._invariants_value_() == {"magnitude": 4.2, "unit": "millisecond"}


def test_readable_unit_names():
    assert fmt(Q_(295.2, "flop/byte")) == "295 FLOP/byte"
    assert fmt(Q_(3, "kgCO2e")) == "3.00 kg CO₂e"
    assert fmt(Q_(3, "kgCO2e"), style="latex") == r"3.00\,\mathrm{kg\,CO_{2}e}"
    assert fmt(Q_(1, "TFLOPs"), "TFLOPs") == "1.00 TFLOP/s"
    assert fmt(Q_(2.5, "us")) == "2.50 µs"
    assert fmt(Q_(2.5, "us"), style="latex") == r"2.50\,\mathrm{\mu s}"


@pytest.mark.parametrize(
    ("quantity", "text", "latex"),
    [  # per count: singular (pint's symbols are the plurals tokens, params, samples)
        (Q_(0.5, "J/token"), "0.500 J/token", r"0.500\,\mathrm{J/token}"),
        (Q_(2, "flop/param"), "2.00 FLOP/param", r"2.00\,\mathrm{FLOP/param}"),
        (Q_(16, "byte/param"), "16.0 B/param", r"16.0\,\mathrm{B/param}"),
        (Q_(3, "ms/token"), "3.00 ms/token", r"3.00\,\mathrm{ms/token}"),
        (Q_(0.02, "kWh/sample"), "0.0200 kWh/sample", r"0.0200\,\mathrm{kWh/sample}"),
        (Q_(2, "USD/Mtoken"), "2.00 USD/Mtoken", r"2.00\,\mathrm{USD/Mtoken}"),
        (Q_(3, "token/param"), "3.00 tokens/param", r"3.00\,\mathrm{tokens/param}"),
        (Q_(3, "token**2"), "3.00 token²", r"3.00\,\mathrm{token^{2}}"),
        # a count of things: plural, as today
        (Q_(7e9, "param"), "7.00 × 10⁹ params", r"7.00 \times 10^{9}\,\mathrm{params}"),
        (Q_(100, "token/s"), "100 tokens/s", r"100\,\mathrm{tokens/s}"),
        (Q_(40, "token/J"), "40.0 tokens/J", r"40.0\,\mathrm{tokens/J}"),
        (Q_(2.5, "Mtoken/s"), "2.50 Mtokens/s", r"2.50\,\mathrm{Mtokens/s}"),
    ],
)
def test_count_units_read_singular_per_count_and_plural_as_counts(quantity, text, latex):
    assert fmt(quantity) == text
    assert fmt(quantity, style="latex") == latex


def test_exactly_one_count_is_singular():
    assert fmt(1, "token") == "1 token"
    assert fmt(Q_(1.0, "token/s"), sig=1) == "1 token/s"
    assert fmt(Q_(1.0, "token/s")) == "1.00 tokens/s"  # a decimal takes the plural
    assert fmt_count(Q_(1, "param")) == "1 param"
    assert fmt_count(Q_(2, "param")) == "2 params"
    assert fmt_count(Q_(1e9, "token")) == "1.00 B tokens"
    assert fmt(Q_(0.5, "J/token"))._invariants_value_() == {
        "magnitude": 0.5,
        "unit": "joule / token",
    }


def test_significant_digits_and_round_half_up():
    assert fmt(3.14159) == "3.14"
    assert fmt(3.14159, sig=5) == "3.1416"
    assert fmt(0.125, sig=2) == "0.13"  # half-up on the decimal repr, not binary 0.1249999...
    assert fmt(2.5, sig=1) == "3"
    assert fmt(999.7) == "1000"
    assert fmt(0.004) == "0.00400"


def test_zero_negative_tiny_and_huge():
    assert fmt(0) == "0"
    assert fmt(0.0) == "0"
    assert fmt(-0.0) == "0"
    assert fmt(0.0, decimals=2) == "0.00"
    assert fmt(-123456.7) == "-123,000"
    assert fmt(-123456.7, style="latex") == "-123{,}000"
    assert fmt(1e-9) == "1.00 × 10⁻⁹"
    assert fmt(1e-9, style="latex") == r"1.00 \times 10^{-9}"
    assert fmt(1e-9, style="markdown") == "1.00 × 10^-9^"
    assert fmt(1e15) == "1.00 × 10¹⁵"
    assert fmt(1e15)._invariants_value_() == {"magnitude": 1e15, "unit": None}
    assert fmt(-2.5e-7, "s") == "-2.50 × 10⁻⁷ s"


def test_integers_print_exactly_and_numpy_scalars_work():
    assert fmt(8) == "8"
    assert fmt(12288) == "12,288"
    assert fmt(np.int64(7), "GB") == "7 GB"
    assert fmt(np.float32(1.5)) == "1.50"
    assert fmt(np.float64(2.0) / 3) == "0.667"
    assert fmt(np.array(2.5)) == "2.50"


def test_guard_rejects_a_nonzero_value_printed_as_zero():
    with pytest.raises(FormatError, match=r"0\.004 would print as 0 at 0 decimals"):
        fmt(0.004, decimals=0)
    with pytest.raises(FormatError, match="would print as 0"):
        fmt_percent(0.00001, decimals=1)
    with pytest.raises(FormatError, match="would print as 0"):
        fmt(-0.0004, decimals=3)


def test_guard_rejects_rounding_that_hides_requested_precision():
    # 10.7 at 0 decimals prints 11: error 0.3 > 0.05, half a unit in the 3rd significant digit
    with pytest.raises(FormatError, match=r"10\.7 at 0 decimals prints 11.*0\.05"):
        fmt(10.7, decimals=0)
    assert fmt(10.7, decimals=0, sig=2) == "11"  # stating 2 significant digits is honest
    assert fmt(10.0, decimals=0) == "10"  # exact: nothing hidden
    assert fmt(989.4, decimals=0) == "989"  # error 0.4 <= 0.5
    assert fmt(-989.4, decimals=0) == "-989"
    with pytest.raises(FormatError, match="hiding precision"):
        fmt(989.6, decimals=0, sig=4)  # error 0.4 > 0.05
    assert fmt(0.1234, decimals=3) == "0.123"  # error 0.0004 <= 0.0005


def test_guard_boundary_is_half_a_unit_of_the_last_significant_digit():
    assert fmt(12.25, decimals=1) == "12.3"  # error exactly 0.05: allowed
    with pytest.raises(FormatError):
        fmt(12.26, decimals=0, sig=3)


@pytest.mark.parametrize("bad", [float("nan"), np.nan, Q_(float("nan"), "s")])
def test_nan_is_a_clear_error(bad):
    with pytest.raises(FormatError, match="NaN"):
        fmt(bad)


@pytest.mark.parametrize(
    "call",
    [
        lambda: fmt(float("inf")),
        lambda: fmt(-np.inf, "s"),
        lambda: fmt_percent(float("inf")),
        lambda: fmt_time(float("inf")),
        lambda: fmt_bytes(float("-inf")),
    ],
)
def test_infinity_is_a_clear_error(call):
    with pytest.raises(FormatError, match="infinite value"):
        call()


def test_unit_that_does_not_convert_names_both_units():
    with pytest.raises(FormatError) as err:
        fmt(Q_(3.35, "TB/s"), "TB")
    assert "TB/s" in str(err.value) and "'TB'" in str(err.value)
    with pytest.raises(FormatError, match=r"s .*does not convert to GB"):
        fmt(Q_(1, "s"), "GB")
    assert not isinstance(FormatError("x"), DimensionalityError)  # it is a ValueError


@pytest.mark.parametrize("bad", [[1, 2], np.array([1.0, 2.0]), "3", None, True])
def test_non_numbers_are_rejected(bad):
    with pytest.raises(FormatError, match="one real number"):
        fmt(bad)


def test_bad_style_sig_decimals_notation():
    with pytest.raises(FormatError, match="style must be one of text, latex, markdown"):
        fmt(1.0, style="html")
    with pytest.raises(FormatError, match="sig must be a positive integer"):
        fmt(1.0, sig=0)
    with pytest.raises(FormatError, match="decimals must be a non-negative integer"):
        fmt(1.0, decimals=-1)
    with pytest.raises(FormatError, match="notation must be"):
        fmt(1.0, notation="roman")


def test_percent():
    assert fmt_percent(0.4567) == "45.7%"
    assert fmt_percent(0.4567, style="latex") == r"45.7\%"
    assert fmt_percent(0.4567, style="markdown") == "45.7%"
    assert fmt_percent(0.5, decimals=0) == "50%"
    assert fmt_percent(-0.25) == "-25.0%"
    assert fmt_percent(0) == "0%"
    assert fmt_percent(Q_(45.67, "percent")) == "45.7%"
    assert fmt_percent(0.4567)._invariants_value_() == {"magnitude": 45.67, "unit": "percent"}
    with pytest.raises(FormatError, match="fraction must be dimensionless"):
        fmt_percent(Q_(1, "s"))


def test_multiple():
    assert fmt_multiple(3.24) == "3.24×"
    assert fmt_multiple(3.24, sig=2) == "3.2×"
    assert fmt_multiple(3.24, style="latex") == r"3.24\times"
    assert fmt_multiple(Q_(6, "s") / Q_(2, "s")) == "3.00×"
    assert fmt_multiple(1e15) == "1.00 × 10¹⁵×"
    assert fmt_multiple(0.5)._invariants_value_() == {"magnitude": 0.5, "unit": None}


def test_range():
    assert fmt_range(150, 160, "×") == "150–160×"
    assert fmt_range(150, 160, "×", style="latex") == r"150\text{--}160\times"
    assert fmt_range(Q_(1.2, "TB/s"), Q_(1500, "GB/s")) == "1.20–1.50 TB/s"
    assert fmt_range(-2, 3, "ms") == "-2.00–3.00 ms"
    assert fmt_range(150, 160, "×")._invariants_value_() == {"magnitude": 155.0, "unit": None}
    with pytest.raises(FormatError, match=r"low end 160.* exceeds high end 150"):
        fmt_range(160, 150)
    with pytest.raises(FormatError, match="prints as a single number '150'"):
        fmt_range(150.1, 150.2, "×")
    with pytest.raises(FormatError, match="does not convert"):
        fmt_range(Q_(1, "TB/s"), Q_(2, "TB"))


def test_scientific_and_engineering():
    assert fmt_sci(3.14e23, "FLOP") == "3.14 × 10²³ FLOP"
    assert fmt_sci(3.14e23, "FLOP", style="latex") == r"3.14 \times 10^{23}\,\mathrm{FLOP}"
    assert fmt_sci(3.14e23, "FLOP", style="markdown") == "3.14 × 10^23^ FLOP"
    assert fmt_sci(0.5) == "5.00 × 10⁻¹"
    assert fmt_sci(0) == "0"
    assert fmt_sci(9.996e2) == "1.00 × 10³"  # carry into the next power
    assert fmt_eng(31400) == "31.4 × 10³"
    assert fmt_eng(3.14e-5) == "31.4 × 10⁻⁶"
    assert fmt_eng(-1e15) == "-1.00 × 10¹⁵"


def test_count():
    assert fmt_count(Q_(7e9, "param")) == "7.00 B params"
    assert fmt_count(Q_(7e9, "param"))._invariants_value_() == {
        "magnitude": 7e9,
        "unit": "param",
    }
    assert fmt_count(7e9, "params", sig=2) == "7.0 B params"
    assert fmt_count(512, "tokens") == "512 tokens"
    assert fmt_count(1_500_000, "tokens") == "1.50 M tokens"
    assert fmt_count(2.5e12, "tokens") == "2.50 T tokens"
    assert fmt_count(999_999, "GPUs") == "1.00 M GPUs"
    assert fmt_count(4.2e15, "tokens") == "4.20 × 10¹⁵ tokens"
    assert fmt_count(0) == "0"
    assert fmt_count(-3000) == "-3.00 K"
    assert fmt_count(7e9, "params", style="latex") == r"7.00\,\mathrm{B\,params}"


def test_currency():
    assert fmt_currency(1.2e6) == "$1.20 M"
    assert fmt_currency(1.2e6, style="latex") == r"{\$}1.20\,\mathrm{M}"
    assert fmt_currency(1.2e6, style="markdown") == r"\$1.20 M"
    assert fmt_currency(-1.2e6) == "-$1.20 M"
    assert fmt_currency(Q_(30000, "USD")) == "$30.0 K"
    assert fmt_currency(0.15) == "$0.150"
    assert fmt_currency(0) == "$0"
    assert fmt_currency(3e9)._invariants_value_() == {"magnitude": 3e9, "unit": "USD"}
    with pytest.raises(FormatError, match="does not convert"):
        fmt_currency(Q_(3, "kWh"))


def test_time_picks_a_human_unit():
    assert fmt_time(0.0042) == "4.20 ms"
    assert fmt_time(4.2e-9) == "4.20 ns"
    assert fmt_time(Q_(3.5, "us")) == "3.50 µs"
    assert fmt_time(42) == "42.0 s"
    assert fmt_time(59.99) == "1.00 min"  # rounds up into the next unit, not "60.0 s"
    assert fmt_time(5400) == "1.50 h"
    assert fmt_time(Q_(3, "day")) == "3.00 days"
    assert fmt_time(Q_(1, "day"), sig=1) == "1 day"
    assert fmt_time(Q_(2, "year")) == "2.00 years"
    assert fmt_time(0) == "0 s"
    assert fmt_time(-0.5) == "-500 ms"
    assert fmt_time(1e-12) == "0.00100 ns"
    assert fmt_time(0.0042)._invariants_value_() == pytest.approx(
        {"magnitude": 4.2, "unit": "millisecond"}
    )
    with pytest.raises(FormatError, match="does not convert"):
        fmt_time(Q_(3, "GB"))


def test_bytes_si_and_binary_prefixes_are_explicit():
    assert fmt_bytes(80e9) == "80.0 GB"
    assert fmt_bytes(80e9, binary=True) == "74.5 GiB"
    assert fmt_bytes(Q_(80, "GiB"), binary=True) == "80.0 GiB"
    assert fmt_bytes(Q_(3.35, "TB/s")) == "3.35 TB/s"
    assert fmt_bytes(Q_(900, "Gbit/s")) == "113 GB/s"  # 112.5 rounds half up
    assert fmt_bytes(512) == "512 B"
    assert fmt_bytes(0) == "0 B"
    assert fmt_bytes(1e21) == "1.00 × 10²¹ B"
    assert fmt_bytes(80e9)._invariants_value_() == {"magnitude": 80.0, "unit": "gigabyte"}
    with pytest.raises(FormatError, match="expected bytes"):
        fmt_bytes(Q_(7e9, "param"))  # pint counts both as dimensionless; we do not


def test_flops_counts_and_rates():
    assert fmt_flops(Q_(989e12, "flop/s")) == "989 TFLOP/s"
    assert fmt_flops(989e12, rate=True) == "989 TFLOP/s"
    assert fmt_flops(1.23e15) == "1.23 PFLOP"
    assert fmt_flops(3.14e23) == "3.14 × 10²³ FLOP"
    assert fmt_flops(Q_(1, "MAC")) == "2.00 FLOP"
    assert fmt_flops(Q_(989e12, "flop/s"))._invariants_value_() == {
        "magnitude": 989.0,
        "unit": "teraflop / second",
    }
    with pytest.raises(FormatError, match="expected flop or flop/s"):
        fmt_flops(Q_(1, "GB/s"))


def test_every_helper_returns_formatted_with_markdown_repr():
    values = [
        fmt(1.5, "ms"),
        fmt_percent(0.5),
        fmt_multiple(2),
        fmt_range(1, 2, "×"),
        fmt_sci(1e20),
        fmt_eng(1e4),
        fmt_count(1e9, "params"),
        fmt_currency(1e6),
        fmt_time(1.0),
        fmt_bytes(1e9),
        fmt_flops(1e12),
    ]
    for value in values:
        assert isinstance(value, Formatted) and isinstance(value, str)
        assert isinstance(value._repr_markdown_(), str)
        assert set(value._invariants_value_()) == {"magnitude", "unit"}


def test_markdown_repr_is_verbatim_per_style():
    money = fmt_currency(1.2e6)
    assert money._repr_markdown_() == r"\$1.20 M"  # text style: markdown-escaped
    assert fmt_currency(1.2e6, style="markdown")._repr_markdown_() == r"\$1.20 M"
    latex = fmt(Q_(989e12, "flop/s"), "TFLOP/s", style="latex")
    assert latex._repr_markdown_() == r"989\,\mathrm{TFLOP/s}"  # math content, untouched
    assert repr(money) == "Formatted('$1.20 M')"


def test_renderings_travel_together():
    value = fmt_percent(0.123)
    assert (value.text, value.latex, value.markdown) == ("12.3%", r"12.3\%", "12.3%")
    assert value.style == "text"


def test_formatted_survives_pickle_and_deepcopy():
    import copy
    import pickle

    value = fmt(Q_(3.35, "TB/s"), style="latex")
    for clone in (pickle.loads(pickle.dumps(value)), copy.deepcopy(value)):
        assert type(clone) is Formatted and clone == value
        assert (clone.text, clone.latex, clone.style) == ("3.35 TB/s", value.latex, "latex")
        assert clone._invariants_value_() == value._invariants_value_()


def test_percent_unit_and_unknown_units():
    assert fmt(Q_(0.456, "")) == "0.456"
    assert fmt(Q_(0.456, ""), "%") == "45.6%"
    assert fmt(45.6, "%") == "45.6%"
    with pytest.raises(FormatError, match=r"unknown unit 'furlongs/fortnightz'"):
        fmt(1.0, "furlongs/fortnightz")
    with pytest.raises(FormatError, match="fmt_multiple"):
        fmt(3.2, "×")
