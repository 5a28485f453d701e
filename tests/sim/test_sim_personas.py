"""Personas and BaseSimulation: attribute access, scale, constraint, deployment match, choices."""

from __future__ import annotations

import pytest

import mlsysim
from mlsysim import Q_
from mlsysim.errors import ChoiceError, UnknownNameError
from mlsysim.sim import BaseSimulation, Choice, Personas, ResourceSimulation


def test_personas_by_attribute_and_name():
    tiny = Personas.TinyPioneer
    assert tiny is Personas["TinyPioneer"]
    assert (tiny.scale, tiny.scale_unit, tiny.deployment) == (10_000_000, "devices", "tiny")
    assert tiny.primary_constraint == "power budget"
    assert Personas.CloudTitan.primary_constraint == "time to train"
    assert Personas.names() == ["CloudTitan", "EdgeGuardian", "MobileNomad", "TinyPioneer"]
    assert str(tiny) == (
        "TinyPioneer (TinyML fleet engineer): 10,000,000 devices, tiny deployments, primary "
        "constraint: power budget"
    )
    with pytest.raises(UnknownNameError) as caught:
        _ = Personas.TinyPionear
    assert str(caught.value) == (
        "unknown persona 'TinyPionear'. Did you mean 'TinyPioneer'? "
        "Valid: CloudTitan, EdgeGuardian, MobileNomad, TinyPioneer."
    )


def test_a_persona_only_works_on_its_deployment():
    with pytest.raises(ChoiceError) as caught:
        ResourceSimulation(mlsysim.Applications.Doorbell, Personas.CloudTitan)
    assert str(caught.value) == (
        "persona CloudTitan works on datacenter deployments, but scenario Doorbell is a tiny "
        "deployment; use TinyPioneer"
    )


@pytest.mark.parametrize(
    ("app", "persona", "constraint", "met"),
    [
        ("AV", "EdgeGuardian", "latency", True),
        ("Smartphone", "MobileNomad", "energy per inference", True),
        ("Chatbot", "CloudTitan", "time to first token", True),
        ("GPT4", "CloudTitan", "time to train", True),
        # KWS sets no power budget, so latency is next; and it misses it: 5.4 MFLOP at 14% of the
        # nRF52840's 0.256 GFLOP/s + 0.1 ms = 150.8 ms > 100 ms (a 64 MHz Cortex-M4 is too slow)
        ("KWS", "TinyPioneer", "latency", False),
    ],
)
def test_each_persona_reports_its_primary_constraint(app, persona, constraint, met):
    ledger = ResourceSimulation(app, persona).evaluate({"region": "US"})
    assert ledger.constraint.name == constraint
    assert ledger.constraint.met is met


def test_a_lab_that_misses_the_metric_says_so():
    ledger = mlsysim.sim.SustainabilitySimulation("Doorbell", "TinyPioneer").evaluate({})
    assert ledger.constraint is None
    assert "TinyPioneer's constraint (power budget, latency) not reported by this lab" in (
        ledger.notes
    )


class Minimal(BaseSimulation):
    choices = (
        Choice("watts", float, default=2.0, unit="W", low=0.0, high=10.0, help="Power."),
        Choice("mode", str, default="eco", allowed=("eco", "turbo")),
    )

    def fill(self, ledger, lab):
        ledger.performance["peak_power"] = Q_(lab.choices["watts"], "W")


def test_a_subclass_declares_choices_once_and_gets_validation_for_free():
    sim = Minimal("Doorbell", "TinyPioneer")
    ledger = sim.evaluate({"watts": 2})  # an int is accepted for a float choice
    assert ledger.performance.peak_power_w == 2.0
    assert not ledger.constraint.met  # 2 W against the Doorbell's 1.5 W budget
    assert ledger.constraint.margin_fraction == pytest.approx(-1 / 3)
    assert ledger.constraint.describe() == (
        "power budget: 2.00 W, limit <= 1.50 W: NOT met, -33% margin (scenario.power_budget)"
    )
    assert sim.evaluate({"watts": 1.2}).constraint.met


def test_subclass_bad_choices():
    sim = Minimal("Doorbell", "TinyPioneer")
    with pytest.raises(
        ChoiceError, match=r"^choice 'watts' = 11.0 is out of range; valid: \[0, 10\] W$"
    ):
        sim.evaluate({"watts": 11})
    with pytest.raises(UnknownNameError, match="Did you mean 'turbo'"):
        sim.evaluate({"mode": "turb"})
    with pytest.raises(ChoiceError, match="Minimal choices must be a dict"):
        sim.evaluate([("watts", 1)])
    assert Minimal.describe_choices() == (
        "watts: [0, 10] W, default 2.0. Power.\nmode: one of eco, turbo, default 'eco'."
    )


def test_base_simulation_without_fill_says_what_to_do():
    with pytest.raises(NotImplementedError, match="BaseSimulation must implement fill"):
        BaseSimulation("Doorbell", "TinyPioneer").evaluate({})


def test_unknown_keys_and_regions_are_both_key_and_value_errors():
    from mlsysim.sim.choices import UnknownChoiceError

    sim = ResourceSimulation("Doorbell", "TinyPioneer")
    for bad in ({"regoin": "Quebec"}, {"region": "Quebek"}):
        with pytest.raises(ValueError) as caught:
            sim.evaluate(bad)
        error = caught.value
        assert isinstance(error, UnknownChoiceError)
        for kind in (UnknownNameError, KeyError, ChoiceError, ValueError):
            assert isinstance(error, kind), kind
    with pytest.raises(KeyError) as caught:
        sim.evaluate({"region": "Quebek"})
    assert str(caught.value).startswith(
        "unknown choice 'region' value 'Quebek'. Did you mean 'Quebec'? Valid: "
    )


def test_numpy_numbers_are_accepted_and_ints_widen_for_float_choices():
    import numpy as np

    sim = ResourceSimulation("Doorbell", "TinyPioneer")
    ledger = sim.evaluate({"fleet_size": np.int64(1000), "duration_days": np.float32(30)})
    assert ledger.choices["fleet_size"] == 1000 and type(ledger.choices["fleet_size"]) is int
    assert type(ledger.choices["duration_days"]) is float
    assert ledger.reliability.fleet_size.m_as("") == 1000


def test_a_numeric_choice_takes_a_quantity_in_a_convertible_unit():
    battery = Choice("battery_wh", float, default=7.4, unit="Wh", low=0.0, low_open=True)
    assert battery.validate(Q_(7, "Wh")) == 7.0
    assert battery.validate(Q_(7000, "mWh")) == pytest.approx(7.0)
    assert battery.validate(Q_(25.2e3, "J")) == pytest.approx(7.0)  # 25,200 J / 3,600 J/Wh
    with pytest.raises(ChoiceError) as caught:
        battery.validate(Q_(7, "W"))
    assert str(caught.value) == (
        "choice 'battery_wh' is in Wh; 7 W is in W, which does not convert to it"
    )
    with pytest.raises(ChoiceError, match=r"^choice 'battery_wh' = -1.0 is out of range"):
        battery.validate(Q_(-1, "Wh"))
    sim = Minimal("Doorbell", "TinyPioneer")
    assert sim.evaluate({"watts": Q_(1200, "mW")}).performance.peak_power_w == 1.2
    from mlsysim.sim.choices import DURATION

    assert DURATION.validate(Q_(2, "week")) == 14.0  # docs/labs.md
