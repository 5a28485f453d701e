"""LLM serving: prefill sets the time to first token, decode the time per output token.

Prefill runs ``prefill_flops`` on the roofline (compute-bound for long prompts). Each decode step
reads every weight and the KV cache once, so ``tpot = max(step time, (W + KV) / BW)``: never below
the memory floor. Tensor parallelism splits weights, KV and FLOPs over ``p`` devices and adds two
ring all-reduces per layer over the interconnect, each ``2(p-1) * alpha + 2(p-1)/p * n / beta``
with alpha the part's ``interconnect_latency`` (catalog, sourced; NVLink: NCCL's 0.6 us ring step)
and beta half its bidirectional ``interconnect_bandwidth``. Pope et al. 2022; Shoeybi et al. 2019.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from mlsysim.core.engine.calibration import Efficiency, efficiency_for
from mlsysim.core.engine.profiles import ServingProfile
from mlsysim.core.engine.resolve import (
    SERVE_GRID,
    hardware_numbers,
    model_numbers,
    precision_bytes,
    require_count,
)
from mlsysim.core.engine.roofline import roofline_step
from mlsysim.core.formulas.performance import memory_time
from mlsysim.core.formulas.serving import (
    decode_step_flops,
    max_batch_size,
    prefill_flops,
    tensor_parallel_allreduce_time,
)
from mlsysim.core.formulas.transformer import kv_cache_bytes, weight_bytes
from mlsysim.core.precision import precision_name


def serve(
    model: Any,
    hardware: Any,
    batch_size: int = 1,
    prompt_tokens: int = 512,
    output_tokens: int = 128,
    precision: str = "fp16",
    tensor_parallel: int = 1,
    efficiency: Efficiency | float | None = None,
) -> ServingProfile:
    """TTFT, TPOT, end-to-end latency, KV cache and batch capacity of an LLM on ``hardware``.

    ``tensor_parallel`` must divide both the attention and the KV head counts (Megatron splits
    heads across devices); ``precision`` is case-insensitive.
    """
    batch = require_count(batch_size, "batch_size", SERVE_GRID)
    prompt = require_count(prompt_tokens, "prompt_tokens", SERVE_GRID)
    output = require_count(output_tokens, "output_tokens", SERVE_GRID)
    tp = require_count(tensor_parallel, "tensor_parallel", SERVE_GRID)
    precision = precision_name(precision)
    m = model_numbers(model)
    require_decoder(m)
    require_context(m, prompt, output)
    require_head_split(m, tp)
    hw = hardware_numbers(hardware)
    if tp > 1:
        require_link(hw, tp)
    bpp = precision_bytes(precision)
    eff = efficiency_for(hw, efficiency)
    part = hardware_arrays(hw, precision, eff)
    times = serving_times(
        **llm_arrays(m, bpp),
        **part,
        prompt=prompt,
        output=output,
        batch=batch,
        tp=tp,
    )
    return ServingProfile(
        model=m.name,
        hardware=hw.name,
        precision=precision,
        batch_size=batch,
        prompt_tokens=prompt,
        output_tokens=output,
        tensor_parallel=tp,
        prefill_bottleneck=times.prefill_bottleneck,
        decode_bottleneck=times.decode_bottleneck,
        fits=bool(times.fits),
        ttft_s=float(times.ttft_s),
        tpot_s=float(times.tpot_s),
        memory_floor_s=float(times.memory_floor_s),
        prefill_comm_s=float(times.prefill_comm_s),
        decode_comm_s=float(times.decode_comm_s),
        weights_b=float(times.weights_b),
        kv_cache_b=float(times.kv_cache_b),
        memory_capacity_b=hw.memory_capacity,
        memory_bandwidth_b_per_s=hw.memory_bandwidth,
        max_batch_size=int(times.max_batch_size),
        prefill_flop=float(times.prefill_flop),
        peak_flops_per_s=part["peak"],
        compute_efficiency=eff.compute,
        memory_efficiency=eff.memory,
        overhead_s=eff.overhead_s,
    )


class ServingTimes(NamedTuple):
    """What :func:`serving_times` returns: scalars, or arrays of the arguments' broadcast shape
    (bottlenecks then are arrays of "compute"/"memory")."""

    ttft_s: Any
    tpot_s: Any
    memory_floor_s: Any
    prefill_comm_s: Any
    decode_comm_s: Any
    prefill_bottleneck: Any
    decode_bottleneck: Any
    prefill_flop: Any  # per device
    weights_b: Any  # all devices
    kv_cache_b: Any  # the whole batch at prompt + output tokens, all devices
    fits: Any
    max_batch_size: Any


def serving_times(
    *,
    params,
    n_layers,
    d_model,
    n_kv_heads,
    head_dim,
    bytes_per_param,
    peak,
    bandwidth,
    capacity,
    eff_compute,
    eff_memory,
    overhead,
    link,
    alpha,
    prompt,
    output,
    batch,
    tp,
) -> ServingTimes:
    """Prefill and decode of ``batch`` sequences on ``tp`` devices, on SI magnitudes.

    Every argument is a scalar or a numpy array; arrays broadcast (``Engine.sweep_serve``
    passes combinations down and batch sizes across), so one call evaluates a whole grid.
    ``link`` is the per-direction interconnect bandwidth and ``alpha`` its per-hop latency
    (both unused when ``tp`` is 1: the ring time is 0).
    """

    def kv(tokens, sequences):
        return kv_cache_bytes.raw(
            n_layers, n_kv_heads, head_dim, tokens, sequences, bytes_per_param
        )

    weights = weight_bytes.raw(params, bytes_per_param)
    weights_dev = weights / tp
    roofs = (peak, bandwidth, eff_compute, eff_memory, overhead)

    # Prefill: all prompt tokens in one pass, writing the prompt's KV cache.
    p_flops = prefill_flops.raw(params, n_layers, d_model, prompt, batch) / tp
    p_bytes = weights_dev + kv(prompt, batch) / tp
    p_comm = tensor_parallel_allreduce_time.raw(
        n_layers, batch * prompt, d_model, bytes_per_param, tp, link, alpha
    )
    prefill_time, prefill_bound = roofline_step(p_flops, p_bytes, *roofs)

    # Decode: one token per sequence per step, at the mean context over the output.
    context = prompt + output / 2.0
    d_flops = decode_step_flops.raw(params, n_layers, d_model, context, batch) / tp
    d_bytes = weights_dev + kv(context, batch) / tp
    d_comm = tensor_parallel_allreduce_time.raw(
        n_layers, batch, d_model, bytes_per_param, tp, link, alpha
    )
    step, decode_bound = roofline_step(d_flops, d_bytes, *roofs)
    floor = memory_time.raw(d_bytes, bandwidth)  # every weight and KV byte, at full bandwidth

    kv_total = kv(prompt + output, batch)
    group_capacity = capacity * tp
    return ServingTimes(
        ttft_s=prefill_time + p_comm,
        tpot_s=np.maximum(step + d_comm, floor),  # the memory floor: no decode step is faster
        memory_floor_s=floor,
        prefill_comm_s=p_comm,
        decode_comm_s=d_comm,
        prefill_bottleneck=prefill_bound,
        decode_bottleneck=decode_bound,
        prefill_flop=p_flops,
        weights_b=weights,
        kv_cache_b=kv_total,
        fits=weights + kv_total <= group_capacity,
        max_batch_size=max_batch_size.raw(group_capacity, weights, kv(prompt + output, 1)),
    )


def llm_arrays(m: Any, bytes_per_param: float) -> dict[str, float]:
    """The model's keyword arguments of :func:`serving_times`."""
    return {
        "params": m.params,
        "n_layers": m.n_layers,
        "d_model": m.d_model,
        "n_kv_heads": m.n_kv_heads,
        "head_dim": m.head_dim,
        "bytes_per_param": bytes_per_param,
    }


def hardware_arrays(hw: Any, precision: str, eff: Efficiency) -> dict[str, float]:
    """The part's keyword arguments of :func:`serving_times` at ``precision``."""
    return {
        "peak": hw.peak(precision),
        "bandwidth": hw.memory_bandwidth,
        "capacity": hw.memory_capacity,
        "eff_compute": eff.compute,
        "eff_memory": eff.memory,
        "overhead": eff.overhead_s,
        "link": hw.link_bandwidth or 1.0,  # per direction
        "alpha": hw.interconnect_latency or 0.0,  # [s] per ring hop
    }


def require_decoder(m: Any) -> None:
    """``ValueError`` unless ``m`` is a transformer that generates tokens (not an encoder)."""
    if not m.is_transformer:
        raise ValueError(
            f"serve() needs a transformer with an architecture; model {m.name!r} has none "
            f"(use Engine.solve for {m.spec.kind} models)"
        )
    if m.encoder:
        raise ValueError(
            f"serve() generates tokens; model {m.name!r} is an encoder, which generates none "
            "(use Engine.solve: one sample is one sequence of its context_length tokens)"
        )


def require_link(hw: Any, tp: int) -> None:
    """``ValueError`` naming ``tensor_parallel`` when the part lacks a sourced link: bandwidth
    (beta) or per-hop latency (alpha). A missing alpha is not taken as 0: that would silently
    drop the 2(p-1) hops that dominate a small decode all-reduce."""
    missing = [
        name
        for name, value in (
            ("interconnect_bandwidth", hw.interconnect_bandwidth),
            ("interconnect_latency", hw.interconnect_latency),
        )
        if value is None
    ]
    if missing:
        raise ValueError(
            f"argument 'tensor_parallel'={tp} needs an interconnect, but {hw.name} has no "
            f"sourced {' or '.join(missing)}; use tensor_parallel=1 or give a what-if copy "
            f"both, e.g. dataclasses.replace(spec, interconnect_bandwidth=Q_(900, 'GB/s'), "
            f"interconnect_latency=Q_(0.6, 'us'))"
        )


def require_context(m: Any, prompt: int, output: int) -> None:
    """``ValueError`` naming both arguments when the sequence outgrows the model's context."""
    context = int(m.spec.arch.context_length)
    if prompt + output > context:
        raise ValueError(
            f"arguments 'prompt_tokens'={prompt} + 'output_tokens'={output} = {prompt + output} "
            f"exceed {m.name}'s context_length of {context:,} tokens; need prompt_tokens >= 1, "
            f"output_tokens >= 1 and prompt_tokens + output_tokens <= {context}"
        )


def require_head_split(m: Any, tp: int) -> None:
    """``ValueError`` naming ``tensor_parallel`` when ``tp`` does not divide both head counts."""
    heads, kv_heads = int(m.n_heads), int(m.n_kv_heads)
    if heads % tp or kv_heads % tp:
        common = math.gcd(heads, kv_heads)
        valid = [d for d in range(1, common + 1) if common % d == 0]
        raise ValueError(
            f"argument 'tensor_parallel'={tp} must divide {m.name}'s {heads} attention heads "
            f"and {kv_heads} KV heads; valid: {', '.join(map(str, valid))}"
        )
