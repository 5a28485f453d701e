"""Issue 5 "Done when": every formatter's edge cases (0, negatives, 1e-9, 1e15) print exactly,
and NaN / +-inf are a clear FormatError, in every helper. Expected strings are by hand from the
rules: 3 significant digits, positional for 1e-3 <= |x| < 1e6, otherwise scientific."""

from __future__ import annotations

import pytest

from mlsysim.core.units import Q_
from mlsysim.errors import FormatError
from mlsysim.viz import formatting as f

HELPERS = {
    "fmt": f.fmt,
    "fmt_percent": f.fmt_percent,
    "fmt_multiple": f.fmt_multiple,
    "fmt_sci": f.fmt_sci,
    "fmt_eng": f.fmt_eng,
    "fmt_count": f.fmt_count,
    "fmt_currency": f.fmt_currency,
    "fmt_time": f.fmt_time,
    "fmt_bytes": f.fmt_bytes,
    "fmt_flops": f.fmt_flops,
    "fmt_range": lambda value: f.fmt_range(value, value * 2 if value > 0 else value / 2 or 1.0),
    "fmt_field": f.fmt_field,
}

# helper -> (0, -3.7, 1e-9, 1e15)
EXPECTED = {
    "fmt": ("0", "-3.70", "1.00 × 10⁻⁹", "1.00 × 10¹⁵"),
    "fmt_percent": ("0%", "-370%", "1.00 × 10⁻⁷%", "1.00 × 10¹⁷%"),
    "fmt_multiple": ("0×", "-3.70×", "1.00 × 10⁻⁹×", "1.00 × 10¹⁵×"),
    "fmt_sci": ("0", "-3.70", "1.00 × 10⁻⁹", "1.00 × 10¹⁵"),
    "fmt_eng": ("0", "-3.70", "1.00 × 10⁻⁹", "1.00 × 10¹⁵"),
    "fmt_count": ("0", "-3.70", "1.00 × 10⁻⁹", "1.00 × 10¹⁵"),
    "fmt_currency": ("$0", "-$3.70", "$1.00 × 10⁻⁹", "$1.00 × 10¹⁵"),
    "fmt_time": ("0 s", "-3.70 s", "1.00 ns", "3.17 × 10⁷ years"),  # 1e15 s / 31,557,600 s
    "fmt_bytes": ("0 B", "-3.70 B", "1.00 × 10⁻⁹ B", "1.00 PB"),
    "fmt_flops": ("0 FLOP", "-3.70 FLOP", "1.00 × 10⁻⁹ FLOP", "1.00 PFLOP"),
    "fmt_range": ("0–1.00", "-3.70–-1.85", "1.00 × 10⁻⁹–2.00 × 10⁻⁹", "1.00 × 10¹⁵–2.00 × 10¹⁵"),
    "fmt_field": ("0", "-3.70", "1.00 × 10⁻⁹", "1.00 × 10¹⁵"),
}
EDGES = (0.0, -3.7, 1e-9, 1e15)


@pytest.mark.parametrize("name", HELPERS)
@pytest.mark.parametrize("index", range(len(EDGES)))
def test_edge_values_print_exactly(name, index):
    assert HELPERS[name](EDGES[index]) == EXPECTED[name][index]


@pytest.mark.parametrize("name", HELPERS)
def test_negative_zero_never_prints_a_minus_sign(name):
    if name == "fmt_range":
        assert f.fmt_range(-0.0, 1.0) == "0–1.00"
    else:
        assert not HELPERS[name](-0.0).startswith("-")


@pytest.mark.parametrize("name", HELPERS)
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_are_clear_errors_in_every_helper(name, bad):
    reason = "NaN: the computation upstream produced no number" if bad != bad else "infinite"
    with pytest.raises(FormatError, match=reason):
        HELPERS[name](bad)


@pytest.mark.parametrize("name", [n for n in HELPERS if n != "fmt_range"])
def test_nan_inside_a_quantity_is_the_same_error(name):
    units = {"fmt_time": "s", "fmt_bytes": "byte", "fmt_flops": "flop", "fmt_currency": "USD"}
    unit = units.get(name, "")
    with pytest.raises(FormatError, match="NaN"):
        HELPERS[name](Q_(float("nan"), unit))


def test_extremes_never_print_hundreds_of_digits():
    for value in (1e-300, 1e300):
        for name, helper in HELPERS.items():
            assert len(helper(value)) < 40, name


def test_edge_values_in_latex_keep_the_exponent_in_braces():
    assert f.fmt_percent(1e-9, style="latex") == r"1.00 \times 10^{-7}\%"
    assert f.fmt_currency(-1e15, style="latex") == r"-{\$}1.00 \times 10^{15}"
    assert f.fmt_range(1e-9, 2e-9, style="latex") == (
        r"1.00 \times 10^{-9}\text{--}2.00 \times 10^{-9}"
    )


def test_collapsed_ranges_are_errors_even_when_the_ends_are_equal():
    with pytest.raises(
        FormatError, match=r"range low and high ends are both 0\.0; print one value"
    ):
        f.fmt_range(0, 0)
    with pytest.raises(FormatError, match=r"prints as a single number '1\.00 × 10¹⁵'"):
        f.fmt_range(1e15, 1.0001e15)


def test_a_bare_number_quantity_in_a_unit_error_is_called_dimensionless():
    with pytest.raises(FormatError) as err:
        f.fmt_currency(Q_(3.0, ""))
    assert str(err.value) == (
        "cannot print 3.0 in 'USD': dimensionless (dimensionless) does not convert to USD "
        "([currency])"
    )


@pytest.mark.parametrize(
    "quantity",
    [Q_(1.5, ""), Q_(295.2, "flop/byte"), Q_(989e12, "flop/s"), Q_(3, "kgCO2e"), Q_(5, "ms")],
)
def test_formatted_publishes_the_unit_a_bare_quantity_publishes(quantity):
    from invariants.protocol import published_value

    assert f.fmt(quantity)._invariants_value_()["unit"] == published_value(quantity).unit
