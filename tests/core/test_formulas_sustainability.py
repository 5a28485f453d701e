"""Energy, duty-cycle power, operational and embodied carbon, cost: hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from pint import DimensionalityError

from mlsysim.core.formulas import sustainability as sus
from mlsysim.core.units import Q_


def test_energy_scalar_and_array():
    # 700 W * 1 h = 0.7 kWh = 2.52e6 J
    assert sus.energy(Q_(700, "W"), Q_(1, "hour")).m_as("kWh") == pytest.approx(0.7)
    assert sus.energy(Q_(700, "W"), Q_(1, "hour")).m_as("J") == pytest.approx(2.52e6)
    result = sus.energy(Q_([1, 10, 100], "W"), Q_(10, "s"))
    np.testing.assert_allclose(result.m_as("J"), [10.0, 100.0, 1000.0])


def test_energy_errors():
    with pytest.raises(DimensionalityError, match="'power' of energy"):
        sus.energy(Q_(1, "J"), Q_(1, "s"))
    with pytest.raises(ValueError, match=r"'time' of energy\(\) must be >= 0"):
        sus.energy(Q_(1, "W"), Q_(-1, "s"))


def test_duty_cycle_power():
    # 1% of 50 mW + 99% of 10 uW = 0.5 mW + 0.0099 mW = 0.5099 mW
    result = sus.duty_cycle_power(Q_(50, "mW"), Q_(10, "uW"), 0.01)
    assert result.m_as("mW") == pytest.approx(0.5099)
    many = sus.duty_cycle_power(Q_(100, "mW"), Q_(0, "mW"), np.array([0.0, 0.5, 1.0]))
    np.testing.assert_allclose(many.m_as("mW"), [0.0, 50.0, 100.0])


def test_duty_cycle_power_errors():
    with pytest.raises(DimensionalityError, match="'sleep_power' of duty_cycle_power"):
        sus.duty_cycle_power(Q_(1, "W"), Q_(1, "J"), 0.5)
    with pytest.raises(
        ValueError, match=r"'duty_cycle' of duty_cycle_power\(\) must be in \[0, 1\]"
    ):
        sus.duty_cycle_power(Q_(1, "W"), Q_(0, "W"), 1.5)
    with pytest.raises(ValueError, match=r"'active_power' of duty_cycle_power\(\) must be >= 0"):
        sus.duty_cycle_power(Q_(-1, "W"), Q_(0, "W"), 0.5)


def test_operational_carbon():
    # 1000 kWh * 1.1 * 400 gCO2e/kWh = 440,000 g = 440 kgCO2e
    result = sus.operational_carbon(Q_(1, "MWh"), Q_(400, "gCO2e/kWh"), pue=1.1)
    assert result.m_as("kgCO2e") == pytest.approx(440.0)
    assert result.units == Q_(1, "kgCO2e").units


def test_operational_carbon_array_over_grids():
    # 1 MWh at Quebec-like 1.7, US-like 367, Poland-like 662 g/kWh, PUE 1: 1.7, 367, 662 kg
    result = sus.operational_carbon(Q_(1, "MWh"), Q_([1.7, 367, 662], "gCO2e/kWh"))
    np.testing.assert_allclose(result.m_as("kgCO2e"), [1.7, 367.0, 662.0])


def test_operational_carbon_errors():
    with pytest.raises(DimensionalityError, match="'carbon_intensity' of operational_carbon"):
        sus.operational_carbon(Q_(1, "kWh"), Q_(400, "gCO2e"))
    with pytest.raises(DimensionalityError, match="'energy' of operational_carbon"):
        sus.operational_carbon(Q_(1, "kW"), Q_(400, "gCO2e/kWh"))
    with pytest.raises(ValueError, match=r"'pue' of operational_carbon\(\) must be in \[1, inf\]"):
        sus.operational_carbon(Q_(1, "kWh"), Q_(400, "gCO2e/kWh"), pue=0.9)
    with pytest.raises(ValueError, match=r"'energy' of operational_carbon\(\) must be >= 0"):
        sus.operational_carbon(Q_(-1, "kWh"), Q_(400, "gCO2e/kWh"))


def test_embodied_carbon_amortized():
    # 1500 kgCO2e over 5 years, job of 30 days: 1500 * 720 h / 43,830 h = 24.641 kg
    result = sus.embodied_carbon_amortized(Q_(1500, "kgCO2e"), Q_(5, "year"), Q_(30, "day"))
    assert result.m_as("kgCO2e") == pytest.approx(1500 * 720 / 43_830)
    many = sus.embodied_carbon_amortized(Q_(100, "kgCO2e"), Q_(4, "year"), Q_([0, 1, 2], "year"))
    np.testing.assert_allclose(many.m_as("kgCO2e"), [0.0, 25.0, 50.0])


def test_embodied_carbon_errors():
    with pytest.raises(DimensionalityError, match="'embodied_carbon' of embodied_carbon_amortized"):
        sus.embodied_carbon_amortized(Q_(1, "kg"), Q_(5, "year"), Q_(1, "day"))
    with pytest.raises(
        ValueError, match=r"'lifetime' of embodied_carbon_amortized\(\) must be > 0"
    ):
        sus.embodied_carbon_amortized(Q_(1, "kgCO2e"), Q_(0, "year"), Q_(1, "day"))


def test_energy_cost():
    # 1000 kWh * 1.2 * 0.08 USD/kWh = 96 USD; array of prices 0.05, 0.10 at PUE 1 -> 50, 100
    assert sus.energy_cost(Q_(1, "MWh"), Q_(0.08, "USD/kWh"), 1.2).m_as("USD") == pytest.approx(96)
    many = sus.energy_cost(Q_(1, "MWh"), Q_([0.05, 0.10], "USD/kWh"))
    np.testing.assert_allclose(many.m_as("USD"), [50.0, 100.0])
    with pytest.raises(DimensionalityError, match="'price' of energy_cost"):
        sus.energy_cost(Q_(1, "kWh"), Q_(1, "USD"))
    with pytest.raises(ValueError, match=r"'pue' of energy_cost\(\) must be in \[1, inf\]"):
        sus.energy_cost(Q_(1, "kWh"), Q_(1, "USD/kWh"), pue=0)


def test_raw_path():
    assert sus.operational_carbon.raw(1000.0, 400.0, 1.1) == pytest.approx(440.0)
