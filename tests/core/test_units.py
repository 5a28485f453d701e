"""The one registry: mlsysim's units, and the mix-ups it must refuse."""

from __future__ import annotations

import os
import subprocess
import sys

import pint
import pytest

import mlsysim
from mlsysim import Q_
from mlsysim.core.units import get_registry


def test_there_is_one_registry():
    assert Q_(1, "s")._REGISTRY is get_registry()
    assert mlsysim.ureg.Quantity is get_registry().Quantity
    assert pint.get_application_registry().get() is get_registry()


def test_gigabyte_is_decimal_and_gibibyte_is_binary():
    assert Q_(1, "GB").to("byte").m == 1e9
    assert Q_(1, "GiB").to("byte").m == 2**30
    assert Q_(80, "GB").to("GiB").m == pytest.approx(74.50580596923828)  # 80e9 / 2**30


def test_information_is_its_own_dimension():
    # pint's default bit = [] would let a bandwidth pass for a token rate.
    with pytest.raises(pint.DimensionalityError):
        Q_(3.35, "TB/s").to("token/s")
    assert Q_(1, "byte").to("bit").m == 8


def test_a_mac_is_two_flops_and_prints_as_mac():
    assert Q_(4.09, "GMAC").to("GFLOP").m == pytest.approx(8.18)
    assert f"{Q_(4.09, 'GMAC'):~P}" == "4.09 GMAC"


def test_flops_is_a_rate_and_flop_is_its_own_dimension():
    assert Q_(989.4, "TFLOPs").to("flop/s").m == pytest.approx(989.4e12)
    with pytest.raises(pint.DimensionalityError):
        Q_(1, "flop").to("byte")


def test_counting_units_are_dimensionless():
    assert Q_(3, "token/s").to("1/s").m == 3
    assert Q_(2, "sample/s").to("Hz").m == 2
    assert Q_(6.74e9, "param").to("").m == 6.74e9


def test_carbon_and_currency_units():
    assert Q_(1, "tCO2e").to("kgCO2e").m == 1000
    assert Q_(1, "kgCO2e").to("gCO2e").m == 1000
    assert f"{Q_(2, 'kgCO2e'):~P}" == "2 kgCO2e"
    with pytest.raises(pint.DimensionalityError):
        Q_(1, "kgCO2e").to("kg")  # carbon-equivalent is not a mass of anything on a scale
    assert Q_(5, "USD").to("dollar").m == 5


def test_import_builds_no_registry_and_imports_no_pint():
    code = "import sys, mlsysim; print('pint' in sys.modules, 'yaml' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["False", "False"]


_COLD_BUILD = """
import pint
from mlsysim import Q_
from mlsysim.core.units import get_registry
print(Q_(1, "GB").to("byte").m, get_registry().get_dimensionality("byte"))
try:
    Q_(3.35, "TB/s").to("token/s")
except pint.DimensionalityError:
    print("refused")
with get_registry().context("sp"):  # leaving a context restores pint's no-context cache
    Q_(500, "nm").to("THz")
print(Q_(1, "GiB").to("byte").m, get_registry().get_dimensionality("byte"))
print(*sorted(map(str, Q_(3, "GB").compatible_units())), Q_(1, "kB").to("bit").m)
"""


@pytest.mark.parametrize("cache", ["cold, then warm", "unwritable"])
def test_information_has_its_dimension_however_pints_cache_starts(tmp_path, cache):
    # A clean machine builds the registry with no disk cache yet: that first build once left
    # byte dimensionless (pint fills its dimension cache before our bit = [information]).
    if cache == "unwritable":  # the OSError fallback builds with no disk cache at all
        (tmp_path / "pint").write_text("a file where pint's cache folder should be")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    runs = 2 if cache == "cold, then warm" else 1
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", _COLD_BUILD], capture_output=True, text=True, env=env
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split("\n") == [
            "1000000000.0 [information]",
            "refused",
            "1073741824 [information]",
            "B bit 8000.0",  # byte (printed "B") and bit: a table pint builds on this first use
            "",
        ]
    assert (tmp_path / "pint").is_dir() is (cache == "cold, then warm")
