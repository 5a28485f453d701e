"""Ledger: Quantity fields with derived unit-suffix floats, validate, exports and diff."""

from __future__ import annotations

import pytest

import mlsysim
from mlsysim import Q_
from mlsysim.errors import InvariantError
from mlsysim.sim import Ledger, ResourceSimulation
from mlsysim.sim.ledger import changes_table


def small_ledger() -> Ledger:
    ledger = Ledger(title="toy")
    ledger.performance["latency"] = Q_(2.5, "ms")
    ledger.performance["mfu"] = Q_(0.4, "")
    ledger.performance["bottleneck"] = "compute"
    ledger.sustainability["energy"] = Q_(1500, "Wh")
    ledger.sustainability["carbon"] = Q_(2, "tCO2e")
    ledger.economics["capex"] = Q_(100, "USD")
    ledger.economics["opex"] = Q_(20, "USD")
    ledger.economics["tco"] = Q_(120, "USD")
    ledger.reliability["failure_rate"] = Q_(3, "1/year")
    ledger.reliability["mtbf"] = Q_(2, "day")
    return ledger


def validation_error(ledger: Ledger) -> str:
    """The InvariantError message ``ledger.validate()`` raises."""
    with pytest.raises(InvariantError) as caught:
        ledger.validate()
    return str(caught.value)


def test_suffix_fields_are_floats_derived_from_the_quantities():
    ledger = small_ledger()
    assert ledger.sustainability.carbon == Q_(2, "tCO2e")
    assert ledger.sustainability.carbon_kg == 2000.0
    assert ledger.sustainability.energy_kwh == 1.5
    assert ledger.economics.tco_usd == 120.0
    assert ledger.reliability.mtbf_hours == 48.0
    assert ledger.reliability.failures_per_year == 3.0
    assert ledger.performance.latency_s == pytest.approx(0.0025)
    assert isinstance(ledger.sustainability.carbon_kg, float)
    assert f"{ledger.sustainability.carbon_kg:,.0f}" == "2,000"


def test_suffix_names_cannot_be_stored_and_numbers_need_units():
    ledger = Ledger()
    with pytest.raises(ValueError, match="store the Quantity under 'carbon'"):
        ledger.sustainability["carbon_kg"] = 3.0
    with pytest.raises(TypeError, match="must be a pint Quantity"):
        ledger.sustainability["carbon"] = 3.0
    with pytest.raises(AttributeError, match="has no field 'water'; fields: "):
        _ = small_ledger().sustainability.water
    with pytest.raises(AttributeError, match="set ledger fields with"):
        ledger.sustainability.carbon = Q_(1, "kgCO2e")


def test_validate_rejects_a_deliberately_bad_ledger_naming_every_field():
    ledger = small_ledger()
    ledger.sustainability["energy"] = Q_(-1, "kWh")
    ledger.performance["mfu"] = Q_(1.3, "")
    ledger.economics["tco"] = Q_(150, "USD")
    ledger.sustainability["pue"] = Q_(0.8, "")
    assert validation_error(ledger) == (
        "toy: performance.mfu = 1.3 is outside [0, 1]; sustainability.energy = -1.00 kWh is "
        "negative; sustainability.pue = 0.8 is below 1; economics.tco = 150 USD != capex + "
        "opex = 120 USD"
    )
    assert small_ledger().validate() is not None


def test_validate_rejects_non_finite_values():
    ledger = small_ledger()
    ledger.economics["opex"] = Q_(float("nan"), "USD")
    with pytest.raises(InvariantError, match=r"economics.opex is not finite"):
        ledger.validate()


def test_to_dict_markdown_and_latex():
    ledger = small_ledger()
    data = ledger.to_dict()
    assert list(data) == ["performance", "sustainability", "economics", "reliability"]
    assert data["sustainability"]["carbon"] == Q_(2, "tCO2e")
    assert data["performance"]["bottleneck"] == "compute"
    assert ledger.to_markdown().splitlines()[:6] == [
        "**toy**",
        "",
        "| Section | Field | Value |",
        "|---|---|---:|",
        "| performance | latency | 2.50 ms |",
        "| performance | mfu | 40.0% |",
    ]
    assert ledger._repr_markdown_() == ledger.to_markdown()
    latex = ledger.to_latex()
    assert latex.startswith("\\begin{tabular}{llr}\n\\hline\nSection & Field & Value \\\\")
    assert "sustainability & carbon & $2.00\\,\\mathrm{t\\,CO_{2}e}$ \\\\" in latex
    assert "economics & capex & ${\\$}100$ \\\\" in latex
    assert "performance & mfu & $40.0\\%$ \\\\" in latex
    assert latex.endswith("\\end{tabular}")
    assert "performance & bottleneck & compute \\\\" in latex


def test_latex_escapes_underscores():
    ledger = Ledger()
    ledger.reliability["mtbf_meaning"] = "fleet: 5% of N_devices"
    assert "mtbf\\_meaning & fleet: 5\\% of N\\_devices \\\\" in ledger.to_latex()


def test_diff_reports_absolute_and_relative_change():
    before, after = small_ledger(), small_ledger()
    after.sustainability["carbon"] = Q_(3000, "kgCO2e")
    after.economics["capex"] = Q_(0, "USD")
    changes = before.diff(after)
    carbon = changes["sustainability"]["carbon"]
    assert carbon.absolute == Q_(1, "tCO2e")
    assert carbon.relative == pytest.approx(0.5)
    assert changes["economics"]["capex"].relative == -1.0
    assert changes["performance"]["latency"].relative == 0.0
    assert "bottleneck" not in changes["performance"]
    zero = Ledger()
    zero.economics["capex"] = Q_(0, "USD")
    assert zero.diff(after)["economics"]["capex"].relative is None
    table = changes_table(changes)
    assert table.splitlines() == [
        "| Field | Before | After | Change |",
        "|---|---:|---:|---:|",
        "| sustainability.carbon | 2.00 t CO₂e | 3.00 t CO₂e | +50.0% |",
        "| economics.capex | \\$100 | \\$0 | -100.0% |",
    ]  # unchanged fields (latency, mfu, energy, opex, ...) are left out


def test_resource_simulation_fills_every_section_and_the_constraint():
    ledger = ResourceSimulation(mlsysim.Applications.Doorbell, "TinyPioneer").evaluate(
        {"region": "Quebec", "duration_days": 365}
    )
    for name, section in ledger.sections().items():
        assert len(section) > 0, name
    assert ledger.performance.latency_ms == pytest.approx(54.3535, rel=1e-5)  # docs/labs.md step 1
    assert ledger.performance.mfu.m_as("") <= 1
    assert ledger.constraint.name == "power budget"
    assert ledger.constraint.met
    # the device's peak draw, as the scenario checks it: Wi-Fi transmit (1.17 W) over one busy
    # core (0.239 W); without the radio, the busy core
    assert ledger.performance.peak_power_w == 1.17
    assert ledger.constraint.margin_fraction == pytest.approx((1.5 - 1.17) / 1.5)
    checks = {c.name: c for c in mlsysim.Applications.Doorbell.evaluate().constraints}
    assert ledger.constraint.margin_fraction == pytest.approx(checks["power"].margin_fraction)
    assert ledger.to_dict()["constraint"]["met"] is True
    assert ledger.choices["region"] == "Quebec"
    quiet = ResourceSimulation(mlsysim.Applications.Doorbell, "TinyPioneer").evaluate(
        {"include_radio": False}
    )
    assert quiet.performance.peak_power_w == quiet.performance.active_power_w == 0.239
    assert quiet.constraint.margin_fraction == pytest.approx((1.5 - 0.239) / 1.5)


def test_resource_simulation_validates_its_merged_choices():
    sim = ResourceSimulation("GPT4", "CloudTitan")
    with pytest.raises(mlsysim.UnknownNameError) as caught:
        sim.evaluate({"checkpoint_time": 60})
    assert str(caught.value) == (
        "unknown ResourceSimulation choice 'checkpoint_time'. Did you mean 'checkpoint_time_s', "
        "'restart_time_s', 'fleet_size'? Valid: checkpoint_time_s, duration_days, duty_cycle, "
        "embodied_kg, fleet_size, include_radio, lifetime_years, pue, region, restart_time_s."
    )


def test_a_resized_training_cluster_takes_longer_for_the_same_energy():
    sim = ResourceSimulation("GPT4", "CloudTitan")
    full, half = sim.evaluate({}), sim.evaluate({"fleet_size": 8192})
    assert half.performance.time_to_train_days == pytest.approx(
        2 * full.performance.time_to_train_days, rel=1e-9
    )
    assert half.sustainability.energy_kwh == pytest.approx(full.sustainability.energy_kwh)
    assert half.reliability.mtbf_hours == pytest.approx(2 * full.reliability.mtbf_hours)
    # the scenario's layout (data 128 x tensor 8 x pipeline 16) keeps tensor x pipeline = 128
    # and halves the data degree, so the sharded model still fits each device
    assert full.performance.fits is True and half.performance.fits is True


def test_a_resized_cluster_must_split_into_the_scenarios_model_parallel_groups():
    from mlsysim.errors import ChoiceError

    with pytest.raises(ChoiceError) as caught:
        ResourceSimulation("GPT4", "CloudTitan").evaluate({"fleet_size": 1000})
    assert str(caught.value) == (
        "choice 'fleet_size' = 1000 does not split into GPT4's model-parallel groups of "
        "tensor x pipeline = 8 x 16 = 128 devices; valid: multiples of 128"
    )


def test_plot_ledger_reads_a_real_ledger():
    from mlsysim.viz.plots import plot_ledger

    ledger = ResourceSimulation("Doorbell", "TinyPioneer").evaluate({"region": "Quebec"})
    figure = plot_ledger(ledger)
    table = next(t for t in figure.axes[0].tables if t.get_gid() == "scorecard")
    texts = {cell.get_text().get_text() for cell in table.get_celld().values()}
    assert {"sustainability", "carbon", "power budget", "yes"} <= texts


def test_a_ledger_copies_and_pickles():
    import copy
    import pickle

    ledger = small_ledger()
    for clone in (copy.deepcopy(ledger), pickle.loads(pickle.dumps(ledger))):
        assert clone.sustainability.carbon_kg == 2000.0
        assert clone.to_markdown() == ledger.to_markdown()


@pytest.mark.parametrize(
    ("app", "persona"),
    [("GPT4", "CloudTitan"), ("Chatbot", "CloudTitan"), ("Doorbell", "TinyPioneer")],
)
def test_validate_covers_every_amount_the_labs_write(app, persona):
    from mlsysim.core.units import is_quantity
    from mlsysim.sim.ledger import FRACTIONS, NON_NEGATIVE

    ledger = ResourceSimulation(app, persona).evaluate({})
    amounts = {
        key
        for section in ledger.sections().values()
        for key, value in section.items()
        if is_quantity(value) and key not in FRACTIONS and key != "pue"
    }
    assert amounts - NON_NEGATIVE == set()


def test_validate_checks_the_totals_against_their_parts():
    broken = small_ledger()
    broken.sustainability["it_energy"] = Q_(1000, "Wh")
    broken.sustainability["pue"] = Q_(1.2, "")  # 1000 Wh x 1.2 = 1.2 kWh, not the 1.5 kWh stored
    broken.sustainability["operational_carbon"] = Q_(1500, "kgCO2e")
    broken.sustainability["embodied_carbon"] = None  # None counts as 0: 1.5 t, not 2 t
    broken.reliability["checkpoint_interval"] = Q_(-3, "min")
    with pytest.raises(InvariantError) as caught:
        broken.validate()
    assert str(caught.value) == (
        "toy: reliability.checkpoint_interval = -3.00 min is negative; sustainability.energy = "
        "1500 Wh != it_energy x pue = 1200 Wh; sustainability.carbon = 2 tCO2e != "
        "operational_carbon + embodied_carbon = 1.5 tCO2e"
    )


def test_a_suffix_view_of_a_text_field_names_the_field():
    ledger = small_ledger()
    with pytest.raises(TypeError) as caught:
        _ = ledger.performance.bottleneck_s
    assert str(caught.value) == (
        "ledger field performance.bottleneck is 'compute' (str), not a Quantity: it has no "
        "value in s"
    )


def test_validate_names_a_field_written_in_the_wrong_unit():
    ledger = small_ledger()
    ledger.sustainability["energy"] = Q_(5, "W")  # a power, not an energy
    ledger.performance["mfu"] = Q_(40, "ms")
    assert validation_error(ledger) == (
        "toy: performance.mfu = 40 ms is in ms: expected a plain number (dimensionless); "
        "sustainability.energy = 5 W is in W, which does not convert to the expected kWh"
    )
    ledger.sustainability["energy"] = Q_(5.4e6, "J")  # another energy unit is fine
    ledger.performance["mfu"] = Q_(0.4, "")
    assert ledger.validate().sustainability.energy_kwh == pytest.approx(1.5)


def test_every_field_the_labs_write_has_a_declared_unit():
    from mlsysim.core.units import is_quantity
    from mlsysim.sim.ledger import FIELD_UNITS

    for app, persona in [
        ("GPT4", "CloudTitan"),
        ("Chatbot", "CloudTitan"),
        ("Doorbell", "TinyPioneer"),
    ]:
        ledger = ResourceSimulation(app, persona).evaluate({})
        for section in ledger.sections().values():
            for key, value in section.items():
                if is_quantity(value):
                    assert key in FIELD_UNITS, f"{section.name}.{key}"


def test_exports_read_in_human_units():
    """The doorbell ledger (hand calculation in docs/labs.md) as to_markdown prints it."""
    ledger = ResourceSimulation("Doorbell", "TinyPioneer").evaluate(
        {"region": "Quebec", "duration_days": 365}
    )
    lines = ledger.to_markdown().splitlines()
    for row in [
        "| performance | mfu | 1.80% |",  # 15.0 MFLOP / (54.35 ms x 15.36 GFLOP/s)
        "| performance | inferences_per_day | 5000/day |",
        "| sustainability | duty_cycled_power | 776 µW |",  # 751.8 µW + 24.7 µW
        "| sustainability | average_power | 7.55 mW |",  # + 500 x 1 s x 1.17 W / 86,400 s
        "| sustainability | energy | 661 MWh |",  # 661,141 kWh
        "| sustainability | carbon | 15.2 t CO₂e |",  # 661,141 kWh x 23 g/kWh
        "| economics | capex | \\$25.0 M |",  # 1e7 x 2.50 USD
        "| reliability | mttf | 50.0 years |",  # 438,000 h
        "| reliability | failure_rate | 200,000/yr |",  # 1e7 / 438,000 h x 8,766 h/yr
        "| reliability | mtbf | 50.0 years |",  # each doorbell's: 438,000 h / 8,766 h/yr
        "| reliability | mean_time_between_fleet_failures | 2.63 min |",  # 438,000 h / 1e7
    ]:
        assert row in lines
    gpt4 = ResourceSimulation("GPT4", "CloudTitan").evaluate({})
    assert "performance & total\\_flops & $3.80 \\times 10^{25}\\,\\mathrm{FLOP}$ \\\\" in (
        gpt4.to_latex()
    )
    # the underlying Quantities are untouched
    assert ledger.reliability.mtbf_hours == 438_000
    assert ledger.reliability.mean_time_between_fleet_failures_hours == pytest.approx(0.0438)
    assert ledger.sustainability.average_power == ledger.sustainability["average_power"]


def test_an_unvalidated_nan_prints_as_nan_and_validate_is_where_it_fails():
    ledger = ResourceSimulation("Doorbell", "TinyPioneer").evaluate({})
    ledger.performance["latency"] = Q_(float("nan"), "ms")
    assert "| performance | latency | nan |" in ledger.to_markdown().splitlines()
    assert "performance & latency & nan \\\\" in ledger.to_latex().splitlines()
    with pytest.raises(InvariantError, match=r"performance\.latency is not finite \(nan ms\)"):
        ledger.validate()
