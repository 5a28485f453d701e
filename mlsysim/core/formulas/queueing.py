"""Queueing: Little's law and waiting times of M/M/1 and M/M/c (Erlang C) queues.

Little 1961, "A proof for the queuing formula L = lambda W", Operations Research 9(3);
M/M/1 and M/M/c: Kleinrock 1975, "Queueing Systems, Volume 1: Theory", Sections 3.2 and 3.5.
Rates are per second (requests/s); times are seconds.
"""

from __future__ import annotations

import numpy as np

from mlsysim.core.formulas._formula import formula


def _require_stable(arrival_rate, capacity, where: str) -> None:
    """A queue is stable only when utilisation rho = lambda / (c * mu) < 1."""
    rho = np.asarray(arrival_rate / capacity, dtype=float)
    worst = float(rho.max()) if rho.size else 0.0
    if not worst < 1.0:  # also catches NaN
        raise ValueError(
            f"{where}() needs utilisation ρ < 1 (ρ = arrival rate / total service rate), "
            f"got ρ = {worst:.4g}: the queue would grow without bound"
        )


@formula(
    "",
    non_negative=("arrival_rate", "time_in_system"),
    arrival_rate="1/s",
    time_in_system="s",
)
def littles_law(arrival_rate, time_in_system):
    """Mean number in the system L = lambda * W [dimensionless count]. Little 1961.

    Holds for any stable queue, whatever the arrival or service distributions.
    """
    return arrival_rate * time_in_system


_MM1 = {"arrival_rate": "1/s", "service_rate": "1/s"}
_MM1_SIGNS = {"non_negative": ("arrival_rate",), "positive": ("service_rate",)}


@formula("s", **_MM1_SIGNS, **_MM1)
def mm1_wait(arrival_rate, service_rate):
    """M/M/1 mean time in queue W_q = rho / (mu - lambda) [s], rho = lambda / mu < 1.

    Kleinrock 1975, Section 3.2.
    """
    _require_stable(arrival_rate, service_rate, "mm1_wait")
    return arrival_rate / (service_rate * (service_rate - arrival_rate))


@formula("s", **_MM1_SIGNS, **_MM1)
def mm1_response_time(arrival_rate, service_rate):
    """M/M/1 mean time in system W = 1 / (mu - lambda) [s] (queue + service), rho < 1.

    Kleinrock 1975, Section 3.2.
    """
    _require_stable(arrival_rate, service_rate, "mm1_response_time")
    return 1.0 / (service_rate - arrival_rate)


def _erlang_c(offered_load, servers):
    """P(wait) on magnitudes via the stable Erlang B recursion B_k = a*B_{k-1}/(k + a*B_{k-1})."""
    load = np.asarray(offered_load, dtype=float)
    blocking = np.ones(np.broadcast_shapes(load.shape, servers.shape))
    for k in range(1, int(np.max(servers)) + 1):  # loops over server counts, not elements
        blocking = np.where(k <= servers, load * blocking / (k + load * blocking), blocking)
    rho = load / servers
    return (blocking / (1.0 - rho * (1.0 - blocking)))[()]


@formula("", counts=("servers",), non_negative=("offered_load",), offered_load="")
def erlang_c(offered_load, servers):
    """Erlang C: probability an arrival waits in M/M/c, a = lambda/mu erlangs, a / c < 1.

    C(c, a) = B / (1 - (a/c)(1 - B)), B the Erlang B blocking probability. Kleinrock 1975, 3.5.
    """
    servers = np.asarray(servers, dtype=float)
    _require_stable(offered_load, servers, "erlang_c")
    return _erlang_c(offered_load, servers)


@formula(
    "s",
    non_negative=("arrival_rate",),
    positive=("service_rate",),
    counts=("servers",),
    **_MM1,
)
def mmc_wait(arrival_rate, service_rate, servers):
    """M/M/c mean time in queue W_q = C(c, a) / (c*mu - lambda) [s], a = lambda/mu, rho = a/c < 1.

    C(c, a) is the Erlang C waiting probability. Kleinrock 1975, Section 3.5.
    """
    servers = np.asarray(servers, dtype=float)
    _require_stable(arrival_rate, servers * service_rate, "mmc_wait")
    waiting = _erlang_c(arrival_rate / service_rate, servers)
    return waiting / (servers * service_rate - arrival_rate)
