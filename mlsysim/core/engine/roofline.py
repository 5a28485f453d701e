"""The engine's roofline step on magnitudes: time and bottleneck against the *achieved* roofs.

With achieved roofs P' = P * eta_c and B' = B * eta_m, ``t = W / min(P', B' * I) + overhead``
equals ``max(W / P', Q / B') + overhead`` (``formulas.performance.roofline_time``), and the work
is compute-bound when I >= P' / B' (the achieved ridge point). Composing the unchecked
``arithmetic_intensity`` / ``ridge_point`` / ``roofline_throughput`` keeps one solve in
microseconds; the efficiencies are validated once, by ``calibration.Efficiency``.
Williams, Waterman & Patterson 2009.
"""

from __future__ import annotations

import numpy as np

from mlsysim.core.formulas.performance import (
    arithmetic_intensity,
    ridge_point,
    roofline_throughput,
)


def roofline_step(flops, moved, peak, bandwidth, eff_compute, eff_memory, overhead):
    """``(time [s], bottleneck)`` of ``flops`` [flop] and ``moved`` [byte]; scalars or arrays.

    The bottleneck is a str for scalars and a numpy array of "compute"/"memory" for arrays.
    """
    achieved_peak = peak * eff_compute
    achieved_bandwidth = bandwidth * eff_memory
    intensity = arithmetic_intensity.raw(flops, moved)
    attainable = roofline_throughput.raw(achieved_peak, achieved_bandwidth, intensity)
    time = flops / attainable + overhead
    compute_bound = intensity >= ridge_point.raw(achieved_peak, achieved_bandwidth)
    if np.ndim(compute_bound) == 0:
        return float(time), "compute" if compute_bound else "memory"
    return time, np.where(compute_bound, "compute", "memory")
