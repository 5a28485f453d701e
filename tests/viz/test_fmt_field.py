"""fmt_field: the one formatting path of table exports (Ledger, scorecard), and MAC unit text."""

from __future__ import annotations

import pytest

from mlsysim.core.units import Q_
from mlsysim.errors import FormatError
from mlsysim.viz.formatting import Formatted, fmt, fmt_field


def test_mac_prints_in_capitals():
    # 8.18e9 flop = 4.09e9 MAC (1 MAC = 2 FLOPs); pint's short symbol is "mac"
    assert fmt(Q_(8.18e9, "flop"), "GMAC") == "4.09 GMAC"
    assert fmt(Q_(6e8, "flop"), "MMAC") == "300 MMAC"
    assert fmt(Q_(8.18e9, "flop"), "GMAC", style="latex") == r"4.09\,\mathrm{GMAC}"
    assert fmt(Q_(8.18e9, "flop"), "GMAC").unit == "gigaMAC"  # published unit unchanged


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Q_(0.00696765, "W"), "6.97 mW"),  # W to mW (a formatting example, no scenario value)
        (Q_(0.000196821, "W"), "197 µW"),
        (Q_(700, "W"), "700 W"),
        (Q_(610366.497, "kWh"), "610 MWh"),
        (Q_(0.00297345, "J"), "2.97 mJ"),
        (Q_(14038.4294, "kgCO2e"), "14.0 t CO₂e"),
        (Q_(0.0438, "hour"), "2.63 min"),  # 0.0438 x 60 = 2.628 min
        (Q_(438000, "hour"), "50.0 years"),  # 438,000 / (365.25 x 24) = 49.97
        (Q_(200136.986, "1/year"), "200,000/yr"),
        (Q_(5000, "1/day"), "5000/day"),
        (Q_(25e6, "USD"), "$25.0 M"),
        (Q_(3.799e25, "flop"), "3.80 × 10²⁵ FLOP"),
        (Q_(325, "kB"), "325 kB"),
        (Q_(10_000_000, ""), "10,000,000"),
        (Q_(1.1, ""), "1.10"),
        (Q_(23, "gCO2e/kWh"), "23.0 g CO₂e/kWh"),
        (None, "n/a"),
        (True, "yes"),
        ("compute", "compute"),
    ],
)
def test_table_fields_read_in_human_units(value, text):
    assert fmt_field(value) == text


def test_fractions_are_percent_and_latex_exponents_are_valid():
    assert fmt_field(Q_(0.384260682, ""), fraction=True) == "38.4%"
    assert fmt_field(0.000147072, fraction=True) == "0.0147%"
    assert fmt_field(Q_(0.384260682, "")) == "0.384"
    latex = fmt_field(Q_(3.799e25, "flop"), "latex")
    assert isinstance(latex, Formatted)
    assert latex == r"3.80 \times 10^{25}\,\mathrm{FLOP}"
    assert fmt_field(Q_(200136.986, "1/year"), "latex") == r"200{,}000\mathrm{/yr}"
    assert fmt_field(Q_(25e6, "USD"), "markdown") == r"\$25.0 M"


@pytest.mark.parametrize(
    ("value", "text", "latex", "published"),
    [  # the rest of the unit printed as a field would print it, then "/token"
        (Q_(0.002, "USD/token"), "$0.00200/token", r"{\$}0.00200\mathrm{/token}", "USD / token"),
        (
            Q_(0.5, "J/token"),
            "500 mJ/token",
            r"500\,\mathrm{mJ}\mathrm{/token}",
            "millijoule / token",
        ),
        (
            Q_(7, "ms/token"),
            "7.00 ms/token",
            r"7.00\,\mathrm{ms}\mathrm{/token}",
            "millisecond / token",
        ),
        (Q_(16, "byte/param"), "16.0 B/param", r"16.0\,\mathrm{B}\mathrm{/param}", "byte / param"),
        (
            Q_(2, "flop/param"),
            "2.00 FLOP/param",
            r"2.00\,\mathrm{FLOP}\mathrm{/param}",
            "flop / param",
        ),
        (
            Q_(0.02, "kWh/sample"),
            "20.0 Wh/sample",
            r"20.0\,\mathrm{Wh}\mathrm{/sample}",
            "watt_hour / sample",
        ),
        (Q_(2, "USD/Mtoken"), "$2.00/Mtoken", r"{\$}2.00\mathrm{/Mtoken}", "USD / megatoken"),
        (Q_(3, "1/token"), "3/token", r"3\mathrm{/token}", "1 / token"),
        # counts of things keep their (plural) unit
        (Q_(7e9, "param"), "7.00 B params", r"7.00\,\mathrm{B\,params}", "param"),
        (Q_(512, "token"), "512 tokens", r"512\,\mathrm{tokens}", "token"),
        (Q_(100, "token/s"), "100 tokens/s", r"100\,\mathrm{tokens/s}", "token / second"),
        (
            Q_(3, "token/param"),
            "3.00 tokens/param",
            r"3.00\,\mathrm{tokens/param}",
            "token / param",
        ),
    ],
)
def test_per_count_fields_keep_their_count_unit(value, text, latex, published):
    assert fmt_field(value) == text
    assert fmt_field(value, "latex") == latex
    assert fmt_field(value)._invariants_value_()["unit"] == published


def test_per_count_magnitude_is_in_the_printed_unit():
    assert fmt_field(Q_(0.5, "J/token"))._invariants_value_() == {
        "magnitude": 500.0,
        "unit": "millijoule / token",
    }
    assert fmt_field(Q_(0.5, "J/token"), "markdown") == "500 mJ/token"
    assert fmt_field(Q_(0.002, "USD/token"), "markdown") == r"\$0.00200/token"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "cannot format NaN: the computation upstream produced no number"),
        (Q_(float("nan"), "W"), "cannot format NaN W: the computation upstream produced no number"),
        (Q_(float("inf"), "W"), "cannot format inf W: an infinite value has no printable size"),
        (
            Q_(float("-inf"), "J/token"),
            "cannot format -inf J/token: an infinite value has no printable size",
        ),
    ],
)
def test_non_finite_fields_are_errors_naming_the_value(value, message):
    for style in ("text", "latex", "markdown"):
        with pytest.raises(FormatError) as caught:
            fmt_field(value, style)
        assert str(caught.value) == message


def test_allow_nan_prints_what_a_table_holds():
    assert fmt_field(float("nan"), allow_nan=True) == "nan"
    assert fmt_field(Q_(float("inf"), "W"), "latex", allow_nan=True) == "inf"
    assert fmt_field(Q_(float("-inf"), "J"), allow_nan=True) == "-inf"
