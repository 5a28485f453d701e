"""Reliability lab: independent device fleets vs synchronous training jobs.

Fleet (inference, serving): devices fail independently, E[F] = N * t / MTTF
(``fleet_failures``), a rate of N / MTTF; a fleet is not a series system, so ``mtbf`` is each
device's (its MTTF) and the fleet-wide arrivals, one every MTTF / N, are
``mean_time_between_fleet_failures``. Training: the job stops when any of N devices fails, so
its MTBF is the series ``cluster_mtbf`` = MTTF / N; checkpoints every tau = sqrt(2 delta M)
(Young 1974, Daly 2006) give goodput G = 1 - delta/tau - (tau/2 + R)/M.
"""

from __future__ import annotations

from mlsysim.sim.base import BaseSimulation, Lab
from mlsysim.sim.choices import CHECKPOINT_TIME, DURATION, FLEET_SIZE, RESTART_TIME
from mlsysim.sim.ledger import Ledger

FLEET_MTBF = "each device's MTBF (its MTTF): independent devices, not a series system"
JOB_MTBF = "training job: mean time between job interruptions (series system, MTTF / N)"


def _training_time(lab: Lab, key: str):
    from mlsysim.core.units import Q_
    from mlsysim.sim.assumptions import assumption

    chosen = lab.choices.get(f"{key}_s")
    if chosen is not None:
        return Q_(chosen, "s")
    value, source = assumption("training", key)
    lab.record_source(f"training.{key}", source)
    return value.to("s")


def fill_reliability(ledger: Ledger, lab: Lab) -> None:
    """Write MTTF, expected failures, failure rate and MTBF: each device's for a fleet (plus the
    fleet-wide interval between failures), the series job's for training (+ checkpointing)."""
    from mlsysim.core.formulas.reliability import (
        checkpoint_goodput,
        cluster_mtbf,
        fleet_failures,
        young_daly_interval,
    )
    from mlsysim.core.units import Q_

    section = ledger.reliability
    n = lab.fleet_size
    mttf = lab.hardware_value("mttf", f"the failure count of {lab.hardware.name} devices")
    failures = fleet_failures(n, lab.duration, mttf)
    section["mttf"] = mttf.to("hour")
    section["fleet_size"] = Q_(n, "")
    section["failures"] = failures
    rate = (fleet_failures(n, Q_(1, "year"), mttf) / Q_(1, "year")).to("1/year")
    section["failure_rate"] = rate
    if not lab.is_training:  # independent devices: no device waits on another
        section["mtbf"] = mttf.to("hour")
        section["mtbf_meaning"] = FLEET_MTBF
        section["mean_time_between_fleet_failures"] = (1 / rate).to("hour")
        return
    job_mtbf = cluster_mtbf(mttf, n)
    delta = _training_time(lab, "checkpoint_time")
    restart = _training_time(lab, "restart_time")
    interval = young_daly_interval(delta, job_mtbf)
    goodput = checkpoint_goodput(interval, delta, job_mtbf, restart)
    section["mtbf"] = job_mtbf.to("hour")
    section["mtbf_meaning"] = JOB_MTBF
    section["checkpoint_time"] = delta
    section["restart_time"] = restart
    section["checkpoint_interval"] = interval.to("min")
    section["goodput"] = goodput
    if goodput.magnitude > 0:  # the run's own length, whatever period the ledger covers
        section["time_to_train_with_failures"] = (lab.profile.time_to_train / goodput).to("day")
    else:
        section["time_to_train_with_failures"] = None
        lab.note(
            f"goodput 0: with a job MTBF of {job_mtbf.to('s'):.0f~P} the job restarts before a "
            "checkpoint pays off and never finishes (first-order Young/Daly model)"
        )


class ReliabilitySimulation(BaseSimulation):
    """Failures of a fleet or cluster; for training, job MTBF, checkpoint interval and goodput."""

    choices = (DURATION, FLEET_SIZE, CHECKPOINT_TIME, RESTART_TIME)

    def fill(self, ledger: Ledger, lab: Lab) -> None:
        fill_reliability(ledger, lab)
