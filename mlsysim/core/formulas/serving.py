"""LLM serving arithmetic: prefill and decode FLOPs, tensor-parallel all-reduce, batch capacity.

Composes ``transformer_forward_flops_per_token`` (Kaplan et al. 2020) and
``ring_allreduce_time`` (Patarasuk & Yuan 2009); the phase split (compute-heavy prefill,
bandwidth-bound decode) follows Pope et al. 2022, "Efficiently Scaling Transformer Inference".
"""

from __future__ import annotations

import numpy as np

from mlsysim.core.formulas._formula import formula
from mlsysim.core.formulas.communication import ring_allreduce_time
from mlsysim.core.formulas.transformer import transformer_forward_flops_per_token

_ARCH_COUNTS = ("n_layers", "d_model", "batch_size")


@formula(
    "flop",
    positive=("params",),
    counts=(*_ARCH_COUNTS, "prompt_tokens"),
    params="param",
)
def prefill_flops(params, n_layers, d_model, prompt_tokens, batch_size):
    """Prefill FLOPs C = B * P * (2N + 2 * L * d * (P + 1) / 2) [flop].

    Token i of a causal prompt attends to i tokens, so the mean context is (P + 1) / 2.
    Kaplan et al. 2020, Table 1; Pope et al. 2022.
    """
    per_token = transformer_forward_flops_per_token.raw(
        params, n_layers, d_model, (prompt_tokens + 1.0) / 2.0
    )
    return batch_size * prompt_tokens * per_token


@formula(
    "flop",
    positive=("params",),
    non_negative=("context_tokens",),
    counts=_ARCH_COUNTS,
    params="param",
    context_tokens="",
)
def decode_step_flops(params, n_layers, d_model, context_tokens, batch_size):
    """FLOPs of one decode step C = B * (2N + 2 * L * n_ctx * d) [flop], one new token per sequence.

    Kaplan et al. 2020, Table 1; Pope et al. 2022.
    """
    return batch_size * transformer_forward_flops_per_token.raw(
        params, n_layers, d_model, context_tokens
    )


@formula(
    "s",
    positive=("bytes_per_element", "bandwidth"),
    non_negative=("tokens", "latency"),
    counts=("n_layers", "d_model", "tensor_parallel"),
    tokens="",
    bytes_per_element="",
    bandwidth="byte/s",
    latency="s",
)
def tensor_parallel_allreduce_time(
    n_layers, tokens, d_model, bytes_per_element, tensor_parallel, bandwidth, latency=0.0
):
    """Megatron tensor-parallel communication t = 2 * L * ring(T * d * b, p) [s] per forward.

    Two all-reduces of the activations (after attention and after the MLP) per layer; each is a
    ring all-reduce of T tokens x d_model x b bytes over p devices at ``bandwidth`` per direction
    (0 s when p = 1, since the ring's 2(p - 1)/p factor vanishes).
    Shoeybi et al. 2019, "Megatron-LM", Section 3; ring: Patarasuk & Yuan 2009.
    """
    message = tokens * d_model * bytes_per_element
    return 2.0 * n_layers * ring_allreduce_time.raw(message, tensor_parallel, bandwidth, latency)


@formula(
    "",
    positive=("memory_capacity", "kv_bytes_per_sequence"),
    non_negative=("weight_bytes",),
    memory_capacity="byte",
    weight_bytes="byte",
    kv_bytes_per_sequence="byte",
)
def max_batch_size(memory_capacity, weight_bytes, kv_bytes_per_sequence):
    """Largest batch whose KV cache fits: B_max = floor((M - W) / KV_seq), at least 0 [sequences].

    Kwon et al. 2023, "Efficient Memory Management for LLM Serving with PagedAttention" (vLLM):
    KV-cache space after the weights bounds the concurrent sequences.
    """
    return np.maximum(np.floor((memory_capacity - weight_bytes) / kv_bytes_per_sequence), 0.0)
