"""fmt_field: the one formatting path of table exports (Ledger, scorecard), and MAC unit text."""

from __future__ import annotations

import pytest

from mlsysim.core.units import Q_
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
        (Q_(0.00696765, "W"), "6.97 mW"),  # doorbell average power
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
    assert fmt_field(Q_(float("nan"), "W")) == "nan"
