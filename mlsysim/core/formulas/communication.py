"""Collective communication time in the alpha-beta (latency-bandwidth) model.

Ring all-reduce: Patarasuk & Yuan 2009, "Bandwidth optimal all-reduce algorithms for clusters of
workstations", JPDC 69(2); Thakur, Rabenseifner & Gropp 2005, "Optimization of collective
communication operations in MPICH", IJHPCA 19(1). alpha = per-message latency, beta = bandwidth.
"""

from __future__ import annotations

import numpy as np

from mlsysim.core.formulas._formula import formula

_UNITS = {"message_bytes": "byte", "bandwidth": "byte/s", "latency": "s"}
_SIGNS = {
    "counts": ("num_devices",),
    "positive": ("bandwidth",),
    "non_negative": ("message_bytes", "latency"),
}


@formula("s", **_SIGNS, **_UNITS)
def ring_allreduce_time(message_bytes, num_devices, bandwidth, latency=0.0):
    """Ring all-reduce t = 2(p-1)*alpha + 2(p-1)/p * n/beta [s] (reduce-scatter + all-gather).

    Bandwidth-optimal: each device sends 2(p-1)/p of the n-byte message. p = 1 costs 0.
    Patarasuk & Yuan 2009; Thakur, Rabenseifner & Gropp 2005.
    """
    steps = num_devices - 1.0
    return 2.0 * steps * latency + 2.0 * steps / num_devices * message_bytes / bandwidth


@formula("s", **_SIGNS, **_UNITS)
def tree_allreduce_time(message_bytes, num_devices, bandwidth, latency=0.0):
    """Tree all-reduce t = 2 * log2(p) * (alpha + n/beta) [s]: reduce up a binary tree, broadcast.

    Latency-optimal for small messages, bandwidth-poor for large ones.
    Thakur, Rabenseifner & Gropp 2005.
    """
    return 2.0 * np.log2(num_devices) * (latency + message_bytes / bandwidth)


@formula("s", **_SIGNS, **_UNITS)
def ring_allgather_time(message_bytes, num_devices, bandwidth, latency=0.0):
    """Ring all-gather (or reduce-scatter) t = (p-1)*alpha + (p-1)/p * n/beta [s].

    n is the full gathered size; half of a ring all-reduce. Thakur, Rabenseifner & Gropp 2005.
    """
    steps = num_devices - 1.0
    return steps * latency + steps / num_devices * message_bytes / bandwidth
