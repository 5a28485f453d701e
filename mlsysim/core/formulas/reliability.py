"""Reliability of large fleets and synchronous jobs; checkpoint intervals and goodput.

Failures are independent and exponential (constant rate). Checkpointing: Young 1974, "A first
order approximation to the optimum checkpoint interval", CACM 17(9); Daly 2006, "A higher order
estimate of the optimum checkpoint interval for restart dumps", FGCS 22(3).
"""

from __future__ import annotations

import numpy as np

from mlsysim.core.formulas._formula import formula


@formula(
    "hour",
    positive=("component_mtbf",),
    counts=("num_components",),
    component_mtbf="hour",
)
def cluster_mtbf(component_mtbf, num_components):
    """MTBF of a series system M_cluster = M_component / N [hour].

    For a synchronous job (e.g. data-parallel training) that stops when ANY of N independent,
    identical components fails: failure rates add. Not for independent fleets (see fleet_failures).
    Trivedi 2016, "Probability and Statistics with Reliability, Queuing, and CS Applications".
    """
    return component_mtbf / num_components


@formula(
    "",
    non_negative=("duration",),
    positive=("mttf",),
    counts=("num_devices",),
    duration="hour",
    mttf="hour",
)
def fleet_failures(num_devices, duration, mttf):
    """Expected failures in a fleet E[F] = N * t / MTTF [dimensionless count].

    N independent devices each failing at rate 1/MTTF (failed devices are replaced); the fleet
    is not a series system, each device serves on its own. Superposition of independent
    Poisson processes (Trivedi 2016).
    """
    return num_devices * duration / mttf


_CHECKPOINT = {"checkpoint_time": "s", "mtbf": "s"}
_CHECKPOINT_SIGNS = {"positive": ("checkpoint_time", "mtbf")}


@formula("s", **_CHECKPOINT_SIGNS, **_CHECKPOINT)
def young_daly_interval(checkpoint_time, mtbf):
    """Optimal checkpoint interval tau = sqrt(2 * delta * M) [s] (first order, delta << M).

    delta = time to write one checkpoint, M = MTBF of the job. Young 1974; Daly 2006.
    """
    return np.sqrt(2.0 * checkpoint_time * mtbf)


@formula("s", **_CHECKPOINT_SIGNS, **_CHECKPOINT)
def daly_interval(checkpoint_time, mtbf):
    """Daly's higher-order optimum [s], for delta < 2M:

    tau = sqrt(2 delta M) * [1 + (1/3) sqrt(delta / 2M) + (1/9) (delta / 2M)] - delta; else M.
    Daly 2006 (higher-order estimate).
    """
    ratio = checkpoint_time / (2.0 * mtbf)
    root = np.sqrt(2.0 * checkpoint_time * mtbf)
    higher = root * (1.0 + np.sqrt(ratio) / 3.0 + ratio / 9.0) - checkpoint_time
    return np.where(ratio < 1.0, higher, mtbf)[()]


@formula(
    "",
    positive=("checkpoint_interval", "mtbf"),
    non_negative=("checkpoint_time", "restart_time"),
    checkpoint_interval="s",
    checkpoint_time="s",
    mtbf="s",
    restart_time="s",
)
def checkpoint_goodput(checkpoint_interval, checkpoint_time, mtbf, restart_time=0.0):
    """Useful fraction of wall-clock time G = 1 - delta/tau - (tau/2 + R)/M [dimensionless].

    First-order model (Young 1974; Daly 2006): checkpoint overhead delta/tau, plus per failure
    (rate 1/M) on average tau/2 of lost work and a restart R. Clipped at 0; maximised at
    tau = sqrt(2 delta M). Valid while delta, tau, R << M.
    """
    waste = (
        checkpoint_time / checkpoint_interval + (checkpoint_interval / 2.0 + restart_time) / mtbf
    )
    return np.maximum(1.0 - waste, 0.0)[()]


@formula("", positive=("mtbf",), non_negative=("mttr",), mtbf="hour", mttr="hour")
def availability(mtbf, mttr):
    """Steady-state availability A = MTBF / (MTBF + MTTR) [dimensionless]. Trivedi 2016."""
    return mtbf / (mtbf + mttr)
