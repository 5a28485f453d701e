"""The engine's roofline step on magnitudes: time and bottleneck against the *achieved* roofs.

``t = max(W / (P * eta_c), Q / (B * eta_m)) + overhead`` and its bottleneck are the checked
``formulas.performance.roofline_time`` / ``bottleneck`` called on their ``raw`` fast paths (the
efficiency range checks have a scalar fast path, so one solve stays in microseconds). The work is
compute-bound when W / (P * eta_c) >= Q / (B * eta_m), i.e. when its intensity reaches the
achieved ridge point. Williams, Waterman & Patterson 2009.
"""

from __future__ import annotations

from mlsysim.core.formulas.performance import bottleneck, roofline_time


def roofline_step(flops, moved, peak, bandwidth, eff_compute, eff_memory, overhead):
    """``(time [s], bottleneck)`` of ``flops`` [flop] and ``moved`` [byte]; scalars or arrays.

    The bottleneck is a str for scalars and a numpy array of "compute"/"memory" for arrays.
    """
    roofs = (flops, moved, peak, bandwidth, eff_compute, eff_memory)
    time = roofline_time.raw(*roofs, overhead)
    bound = bottleneck.raw(*roofs)
    if isinstance(time, float) or time.ndim == 0:  # np.float64 is a float
        return float(time), bound
    return time, bound
