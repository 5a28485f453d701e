"""Single-device inference: one forward pass of a batch on the roofline, plus fixed overhead.

``latency = max(F*B / (P*eta_c), (W + B*KV) / (BW*eta_m)) + t_overhead`` with F the forward
FLOPs per sample, B the batch, W the weight bytes at the precision (read once per batch), P the
part's dense peak and the efficiencies of ``calibration``. For a decoder one sample is one
generated token at the full ``context_length`` (what its catalog F assumes), so each of the B
sequences also reads its KV cache of ``context_length`` tokens: KV = 2*L*n_kv*d_head*ctx*b. For
an encoder (BERT) one sample is one whole sequence of ``context_length`` tokens (512 for BERT;
MLPerf's SQuAD samples are at most 384): F = ctx x per-token FLOPs, and no KV cache is read back.
Williams et al. 2009; Pope et al. 2022.
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.engine.calibration import Efficiency, efficiency_for
from mlsysim.core.engine.profiles import PerformanceProfile
from mlsysim.core.engine.resolve import (
    hardware_numbers,
    model_numbers,
    precision_bytes,
    require_count,
)
from mlsysim.core.engine.roofline import roofline_step
from mlsysim.core.formulas.performance import model_flops_utilization
from mlsysim.core.formulas.sustainability import energy as energy_formula
from mlsysim.core.formulas.transformer import kv_cache_bytes, weight_bytes
from mlsysim.core.precision import precision_name


def context_tokens(m: Any) -> int:
    """Tokens of cached context one decode step reads: a decoder's ``context_length``, else 0
    (a CNN has none; an encoder computes its K and V within the sequence it reads)."""
    return int(m.spec.arch.context_length) if m.is_decoder else 0


def context_kv_bytes(m: Any, bytes_per_element: float) -> float:
    """KV-cache bytes one sample reads [byte]: one sequence's K and V at full context (0 for a CNN).

    ``kv_cache_bytes`` (the formula serve uses) of ``context_length`` tokens, batch 1.
    """
    tokens = context_tokens(m)
    if not tokens:
        return 0.0
    return kv_cache_bytes.raw(m.n_layers, m.n_kv_heads, m.head_dim, tokens, 1.0, bytes_per_element)


def solve(
    model: Any,
    hardware: Any,
    batch_size: int = 1,
    precision: str = "fp16",
    efficiency: Efficiency | float | None = None,
) -> PerformanceProfile:
    """Latency, throughput, bottleneck, MFU, energy and fit of one batch on one device.

    For a decoder one sample is one generated token at the full ``context_length`` (the
    catalog's FLOPs per token include attention over it): the batch is one decode step of
    ``batch_size`` sequences, which reads the weights and each sequence's KV cache, and memory
    required counts both. For an encoder (BERT) one sample is one sequence of
    ``context_length`` tokens, with no KV cache. Every argument takes one value (a list raises
    ``ValueError``; grids go through ``Engine.sweep``); ``precision`` is case-insensitive.
    """
    batch = require_count(batch_size, "batch_size")
    precision = precision_name(precision)
    m = model_numbers(model)
    hw = hardware_numbers(hardware)
    peak = hw.peak(precision)
    eff = efficiency_for(hw, efficiency)
    flops = m.flops_per_sample * batch
    bpp = precision_bytes(precision)
    kv = context_kv_bytes(m, bpp) * batch
    moved = weight_bytes.raw(m.params, bpp) + kv
    bw = hw.memory_bandwidth
    latency, bound = roofline_step(flops, moved, peak, bw, eff.compute, eff.memory, eff.overhead_s)
    return PerformanceProfile(
        model=m.name,
        hardware=hw.name,
        precision=precision,
        batch_size=batch,
        bottleneck=bound,
        fits=moved <= hw.memory_capacity,
        latency_s=latency,
        compute_efficiency=eff.compute,
        memory_efficiency=eff.memory,
        overhead_s=eff.overhead_s,
        flop_count=flops,
        bytes_moved_b=moved,
        peak_flops_per_s=peak,
        memory_bandwidth_b_per_s=bw,
        memory_required_b=moved,
        memory_capacity_b=hw.memory_capacity,
        energy_j=None
        if hw.busy_power is None
        else energy_formula.raw(hw.busy_power, latency) / batch,
        mfu=model_flops_utilization.raw(flops, latency, peak, 1),
        kv_cache_b=kv,
        context_tokens=context_tokens(m),
    )
