"""ReliabilitySimulation: independent fleets (N t / MTTF) vs series training jobs (Young/Daly)."""

from __future__ import annotations

import math

import pytest
from sim_helpers import thermostat

import mlsysim
from mlsysim.errors import CatalogError, ChoiceError, UnknownNameError
from mlsysim.sim import ReliabilitySimulation
from mlsysim.sim.reliability import FLEET_MTBF, JOB_MTBF


def test_doorbell_fleet_fails_independently_by_hand():
    ledger = ReliabilitySimulation("Doorbell", "TinyPioneer").evaluate({"duration_days": 365})
    mttf_h = 438_000  # sim/data/assumptions.yaml: 2 %/year annualised failure rate
    n = 10_000_000
    assert ledger.reliability.failures.m_as("") == pytest.approx(n * 365 * 24 / mttf_h)
    assert ledger.reliability.failures.m_as("") == pytest.approx(200_000)
    assert ledger.reliability.failures_per_year == pytest.approx(n * 8766 / mttf_h, rel=1e-12)
    # independent devices are not a series system: MTBF is each doorbell's own, 50 years ...
    assert ledger.reliability.mtbf_hours == mttf_h
    assert ledger.reliability.mtbf_meaning == FLEET_MTBF
    assert FLEET_MTBF == "each device's MTBF (its MTTF): independent devices, not a series system"
    # ... while failures arrive somewhere in the fleet every 438,000 h / 1e7 = 2.628 min
    between = ledger.reliability.mean_time_between_fleet_failures
    assert between.m_as("hour") == pytest.approx(mttf_h / n, rel=1e-12)
    assert between.m_as("min") == pytest.approx(2.628, rel=1e-12)
    assert "goodput" not in ledger.reliability  # no checkpoints for a doorbell
    assert "ESP32_S3.mttf" in ledger.sources
    assert ledger.sources["ESP32_S3.mttf"].is_assumption


def test_failures_scale_with_fleet_size_and_duration():
    sim = ReliabilitySimulation("AV", "EdgeGuardian")
    one = sim.evaluate({"fleet_size": 1, "duration_days": 365})
    big = sim.evaluate({"fleet_size": 1000, "duration_days": 730})
    assert big.reliability.failures.m_as("") == pytest.approx(
        2000 * one.reliability.failures.m_as("")
    )
    assert one.reliability.failures.m_as("") == pytest.approx(8760 / 100_000)
    # a bigger fleet fails more often in total, but no vehicle fails sooner: MTBF stays MTTF
    assert one.reliability.mtbf_hours == big.reliability.mtbf_hours == 100_000
    assert one.reliability.mean_time_between_fleet_failures_hours == pytest.approx(100_000)
    assert big.reliability.mean_time_between_fleet_failures_hours == pytest.approx(100)


def test_training_job_is_a_series_system_with_young_daly_checkpoints():
    ledger = ReliabilitySimulation("GPT4", "CloudTitan").evaluate({})
    mtbf_h = 79_000 / 16_384  # H100 MTTF from Llama 3 / 16,384 GPUs
    mtbf_s = mtbf_h * 3600
    delta, restart = 60.0, 600.0  # labelled assumptions
    tau = math.sqrt(2 * delta * mtbf_s)
    goodput = 1 - delta / tau - (tau / 2 + restart) / mtbf_s
    assert ledger.reliability.mtbf_hours == pytest.approx(mtbf_h, rel=1e-12)
    assert ledger.reliability.mtbf_hours == pytest.approx(4.822, rel=1e-3)
    assert ledger.reliability.mtbf_meaning == JOB_MTBF
    assert "mean_time_between_fleet_failures" not in ledger.reliability  # the job's mtbf is it
    assert ledger.reliability.checkpoint_interval.m_as("s") == pytest.approx(tau, rel=1e-12)
    assert ledger.reliability.goodput.m_as("") == pytest.approx(goodput, rel=1e-12)
    assert goodput == pytest.approx(0.8823, abs=1e-4)
    days = mlsysim.Applications.GPT4.profile().time_to_train.m_as("day")
    assert ledger.reliability.failures.m_as("") == pytest.approx(16_384 * days * 24 / 79_000)
    assert ledger.reliability.time_to_train_with_failures_days == pytest.approx(days / goodput)
    # a ledger over a chosen year still stretches the run's own time to train, not the year
    year = ReliabilitySimulation("GPT4", "CloudTitan").evaluate({"duration_days": 365})
    assert year.reliability.time_to_train_with_failures_days == pytest.approx(days / goodput)
    assert year.reliability.failures.m_as("") == pytest.approx(16_384 * 365 * 24 / 79_000)


def test_checkpoint_choices_change_the_interval_by_hand():
    ledger = ReliabilitySimulation("GPT4", "CloudTitan").evaluate(
        {"checkpoint_time_s": 240.0, "restart_time_s": 0.0}
    )
    mtbf_s = 79_000 / 16_384 * 3600
    tau = math.sqrt(2 * 240 * mtbf_s)
    assert ledger.reliability.checkpoint_interval.m_as("s") == pytest.approx(tau, rel=1e-12)
    assert ledger.reliability.goodput.m_as("") == pytest.approx(
        1 - 240 / tau - tau / 2 / mtbf_s, rel=1e-12
    )


@pytest.mark.parametrize(
    ("choices", "error", "message"),
    [
        (
            {"checkpoint_time_s": 0},
            ChoiceError,
            "choice 'checkpoint_time_s' = 0.0 is out of range; valid: (0, inf) s",
        ),
        (
            {"restart_time_s": -1},
            ChoiceError,
            "choice 'restart_time_s' = -1.0 is out of range; valid: [0, inf) s",
        ),
        (
            {"fleet_size": 0},
            ChoiceError,
            "choice 'fleet_size' = 0 is out of range; valid: [1, inf) device",
        ),
        (
            {"region": "Quebec"},
            UnknownNameError,
            "unknown ReliabilitySimulation choice 'region'. Did you mean 'duration_days'? "
            "Valid: checkpoint_time_s, duration_days, fleet_size, restart_time_s.",
        ),
    ],
)
def test_bad_choices(choices, error, message):
    with pytest.raises(error) as caught:
        ReliabilitySimulation("GPT4", "CloudTitan").evaluate(choices)
    assert str(caught.value) == message


def test_a_part_without_mttf_is_an_explicit_error_not_a_borrowed_value():
    scenario = thermostat()
    with pytest.raises(CatalogError) as caught:
        ReliabilitySimulation(scenario, "TinyPioneer").evaluate({})
    assert str(caught.value) == (
        "STM32F4 has no sourced 'mttf' in the hardware catalog and no labelled assumption in "
        "mlsysim/sim/data/assumptions.yaml; the failure count of STM32F4 devices needs it "
        "(mlsysim never borrows it from another part)"
    )


def test_a_cluster_too_large_to_make_progress_says_so():
    ledger = ReliabilitySimulation("GPT4", "CloudTitan").evaluate({"fleet_size": 128 * 8192})
    mtbf_s = 79_000 / (128 * 8192) * 3600  # 271.2 s between job interruptions
    tau = math.sqrt(2 * 60 * mtbf_s)
    assert 1 - 60 / tau - (tau / 2 + 600) / mtbf_s < 0  # waste exceeds the wall clock
    assert ledger.reliability.goodput.m_as("") == 0.0
    assert ledger.reliability.time_to_train_with_failures is None
    assert (
        "goodput 0: with a job MTBF of 271 s the job restarts before a checkpoint pays off and "
        "never finishes (first-order Young/Daly model)"
    ) in ledger.notes
