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
from typing import Any

from mlsysim.core.engine.calibration import Efficiency, efficiency_for
from mlsysim.core.engine.profiles import ServingProfile
from mlsysim.core.engine.resolve import (
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
    batch = require_count(batch_size, "batch_size")
    prompt = require_count(prompt_tokens, "prompt_tokens")
    output = require_count(output_tokens, "output_tokens")
    tp = require_count(tensor_parallel, "tensor_parallel")
    precision = precision_name(precision)
    m = model_numbers(model)
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
    _require_context(m, prompt, output)
    _require_head_split(m, tp)
    hw = hardware_numbers(hardware)
    if tp > 1:
        _require_link(hw, tp)
    peak = hw.peak(precision)
    bpp = precision_bytes(precision)
    eff = efficiency_for(hw, efficiency)
    bw = hw.memory_bandwidth
    link = hw.link_bandwidth or 1.0  # per direction; unused when tp == 1 (ring time is 0)
    alpha = hw.interconnect_latency or 0.0  # [s] per ring hop; unused when tp == 1
    layers, d_model = m.n_layers, m.d_model

    def kv(tokens: float, sequences: float) -> float:
        return kv_cache_bytes.raw(layers, m.n_kv_heads, m.head_dim, tokens, sequences, bpp)

    weights = weight_bytes.raw(m.params, bpp)
    weights_dev = weights / tp

    # Prefill: all prompt tokens in one pass, writing the prompt's KV cache.
    p_flops = prefill_flops.raw(m.params, layers, d_model, prompt, batch) / tp
    p_bytes = weights_dev + kv(prompt, batch) / tp
    p_comm = tensor_parallel_allreduce_time.raw(
        layers, batch * prompt, d_model, bpp, tp, link, alpha
    )
    roofs = (peak, bw, eff.compute, eff.memory, eff.overhead_s)
    prefill_time, prefill_bound = roofline_step(p_flops, p_bytes, *roofs)
    ttft = prefill_time + p_comm

    # Decode: one token per sequence per step, at the mean context over the output.
    context = prompt + output / 2.0
    d_flops = decode_step_flops.raw(m.params, layers, d_model, context, batch) / tp
    d_bytes = weights_dev + kv(context, batch) / tp
    d_comm = tensor_parallel_allreduce_time.raw(layers, batch, d_model, bpp, tp, link, alpha)
    step, decode_bound = roofline_step(d_flops, d_bytes, *roofs)
    floor = memory_time.raw(d_bytes, bw)  # every weight and KV byte, at full bandwidth
    tpot = max(step + d_comm, floor)  # the memory floor: no decode step is faster

    kv_total = kv(prompt + output, batch)
    capacity = hw.memory_capacity * tp
    return ServingProfile(
        model=m.name,
        hardware=hw.name,
        precision=precision,
        batch_size=batch,
        prompt_tokens=prompt,
        output_tokens=output,
        tensor_parallel=tp,
        prefill_bottleneck=prefill_bound,
        decode_bottleneck=decode_bound,
        fits=weights + kv_total <= capacity,
        ttft_s=ttft,
        tpot_s=tpot,
        memory_floor_s=floor,
        prefill_comm_s=p_comm,
        decode_comm_s=d_comm,
        weights_b=weights,
        kv_cache_b=kv_total,
        memory_capacity_b=hw.memory_capacity,
        memory_bandwidth_b_per_s=bw,
        max_batch_size=int(max_batch_size.raw(capacity, weights, kv(prompt + output, 1))),
        prefill_flop=p_flops,
        peak_flops_per_s=peak,
        compute_efficiency=eff.compute,
        memory_efficiency=eff.memory,
        overhead_s=eff.overhead_s,
    )


def _require_link(hw: Any, tp: int) -> None:
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


def _require_context(m: Any, prompt: int, output: int) -> None:
    """``ValueError`` naming both arguments when the sequence outgrows the model's context."""
    context = int(m.spec.arch.context_length)
    if prompt + output > context:
        raise ValueError(
            f"arguments 'prompt_tokens'={prompt} + 'output_tokens'={output} = {prompt + output} "
            f"exceed {m.name}'s context_length of {context:,} tokens; need prompt_tokens >= 1, "
            f"output_tokens >= 1 and prompt_tokens + output_tokens <= {context}"
        )


def _require_head_split(m: Any, tp: int) -> None:
    """``ValueError`` naming ``tensor_parallel`` when ``tp`` does not divide both head counts."""
    heads, kv_heads = int(m.n_heads), int(m.n_kv_heads)
    if heads % tp or kv_heads % tp:
        common = math.gcd(heads, kv_heads)
        valid = [d for d in range(1, common + 1) if common % d == 0]
        raise ValueError(
            f"argument 'tensor_parallel'={tp} must divide {m.name}'s {heads} attention heads "
            f"and {kv_heads} KV heads; valid: {', '.join(map(str, valid))}"
        )
