"""Roofline performance: intensity, ridge point, attainable throughput, time, bottleneck, MFU.

The roofline model is Williams, Waterman & Patterson 2009, "Roofline: an insightful visual
performance model for multicore architectures", CACM 52(4). MFU/HFU follow Chowdhery et al.
2022, "PaLM", Appendix B. Convention: 1 MAC = 2 FLOPs.
"""

from __future__ import annotations

import numpy as np

from mlsysim.core.formulas._formula import formula, require_range


def _duration(work, rate, efficiency, name: str, where: str):
    """work / (rate * efficiency) on magnitudes, the efficiency checked to lie in (0, 1]."""
    require_range(efficiency, name, where, low=0.0, high=1.0, low_open=True)
    return work / (rate * efficiency)


@formula("flop/byte", positive=("flops", "bytes_moved"), flops="flop", bytes_moved="byte")
def arithmetic_intensity(flops, bytes_moved):
    """Operational intensity I = W / Q [FLOP/byte]: work per byte of memory traffic.

    Williams, Waterman & Patterson 2009 ("Roofline").
    """
    return flops / bytes_moved


@formula(
    "flop/byte",
    positive=("peak_flops", "memory_bandwidth"),
    peak_flops="flop/s",
    memory_bandwidth="byte/s",
)
def ridge_point(peak_flops, memory_bandwidth):
    """Ridge point I* = P_peak / B_mem [FLOP/byte]; above it a kernel is compute-bound.

    Williams, Waterman & Patterson 2009 ("Roofline"). H100 SXM bf16: 989.4e12 / 3.35e12 = 295.3.
    """
    return peak_flops / memory_bandwidth


@formula(
    "flop/s",
    positive=("peak_flops", "memory_bandwidth", "intensity"),
    peak_flops="flop/s",
    memory_bandwidth="byte/s",
    intensity="flop/byte",
)
def roofline_throughput(peak_flops, memory_bandwidth, intensity):
    """Attainable throughput P = min(P_peak, B_mem * I) [FLOP/s].

    Williams, Waterman & Patterson 2009 ("Roofline").
    """
    return np.minimum(peak_flops, memory_bandwidth * intensity)


@formula(
    "s",
    positive=("peak_flops", "efficiency"),
    non_negative=("flops",),
    flops="flop",
    peak_flops="flop/s",
    efficiency="",
)
def compute_time(flops, peak_flops, efficiency=1.0):
    """Compute-bound time t = W / (P_peak * eta) [s], eta in (0, 1] the achieved fraction.

    Williams, Waterman & Patterson 2009 ("Roofline").
    """
    return _duration(flops, peak_flops, efficiency, "efficiency", "compute_time")


@formula(
    "s",
    positive=("memory_bandwidth", "efficiency"),
    non_negative=("bytes_moved",),
    bytes_moved="byte",
    memory_bandwidth="byte/s",
    efficiency="",
)
def memory_time(bytes_moved, memory_bandwidth, efficiency=1.0):
    """Memory-bound time t = Q / (B_mem * eta) [s], eta in (0, 1] the achieved fraction.

    Williams, Waterman & Patterson 2009 ("Roofline").
    """
    return _duration(bytes_moved, memory_bandwidth, efficiency, "efficiency", "memory_time")


def _roof_times(
    where, flops, bytes_moved, peak_flops, memory_bandwidth, compute_efficiency, memory_efficiency
):
    """(compute time, memory time) in s on magnitudes."""
    return (
        _duration(flops, peak_flops, compute_efficiency, "compute_efficiency", where),
        _duration(bytes_moved, memory_bandwidth, memory_efficiency, "memory_efficiency", where),
    )


_ROOFLINE_UNITS = {
    "flops": "flop",
    "bytes_moved": "byte",
    "peak_flops": "flop/s",
    "memory_bandwidth": "byte/s",
    "compute_efficiency": "",
    "memory_efficiency": "",
}
_ROOFLINE_POSITIVE = ("peak_flops", "memory_bandwidth", "compute_efficiency", "memory_efficiency")


@formula(
    "s",
    positive=_ROOFLINE_POSITIVE,
    non_negative=("flops", "bytes_moved", "overhead"),
    overhead="s",
    **_ROOFLINE_UNITS,
)
def roofline_time(
    flops,
    bytes_moved,
    peak_flops,
    memory_bandwidth,
    compute_efficiency=1.0,
    memory_efficiency=1.0,
    overhead=0.0,
):
    """Roofline time t = max(W / (P*eta_c), Q / (B*eta_m)) + t_overhead [s].

    Compute and memory traffic overlap perfectly; the overhead (launch, dispatch) does not.
    Williams, Waterman & Patterson 2009 ("Roofline").
    """
    t_compute, t_memory = _roof_times(
        "roofline_time",
        flops,
        bytes_moved,
        peak_flops,
        memory_bandwidth,
        compute_efficiency,
        memory_efficiency,
    )
    return np.maximum(t_compute, t_memory) + overhead


@formula(
    None,
    positive=_ROOFLINE_POSITIVE,
    non_negative=("flops", "bytes_moved"),
    **_ROOFLINE_UNITS,
)
def bottleneck(
    flops,
    bytes_moved,
    peak_flops,
    memory_bandwidth,
    compute_efficiency=1.0,
    memory_efficiency=1.0,
):
    """Which roof binds: "compute" when W/(P*eta_c) >= Q/(B*eta_m), else "memory".

    Returns a str for scalars and a numpy array of str for arrays. A tie (exactly at the ridge
    point) counts as compute-bound. Williams, Waterman & Patterson 2009 ("Roofline").
    """
    t_compute, t_memory = _roof_times(
        "bottleneck",
        flops,
        bytes_moved,
        peak_flops,
        memory_bandwidth,
        compute_efficiency,
        memory_efficiency,
    )
    compute_bound = t_compute >= t_memory
    if isinstance(compute_bound, (bool, np.bool_)):  # scalar fast path (engine's solve)
        return "compute" if compute_bound else "memory"
    if compute_bound.ndim == 0:
        return "compute" if compute_bound else "memory"
    return np.where(compute_bound, "compute", "memory")


_UTILIZATION_UNITS = {"time": "s", "peak_flops": "flop/s"}


@formula(
    "",
    positive=("time", "peak_flops"),
    non_negative=("model_flops",),
    counts=("num_devices",),
    model_flops="flop",
    **_UTILIZATION_UNITS,
)
def model_flops_utilization(model_flops, time, peak_flops, num_devices=1):
    """MFU = model FLOPs / (t * P_peak * n) [dimensionless]: only the FLOPs the model needs.

    Model FLOPs exclude recomputation (e.g. 6ND for training).
    Chowdhery et al. 2022, "PaLM", Appendix B.
    """
    return model_flops / (time * peak_flops * num_devices)


@formula(
    "",
    positive=("time", "peak_flops"),
    non_negative=("hardware_flops",),
    counts=("num_devices",),
    hardware_flops="flop",
    **_UTILIZATION_UNITS,
)
def hardware_flops_utilization(hardware_flops, time, peak_flops, num_devices=1):
    """HFU = hardware FLOPs / (t * P_peak * n) [dimensionless]: FLOPs actually executed.

    Includes recomputation (e.g. 8ND with full activation recompute), so HFU >= MFU.
    Chowdhery et al. 2022, "PaLM", Appendix B.
    """
    return hardware_flops / (time * peak_flops * num_devices)
