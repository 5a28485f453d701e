"""Training compute, memory and time; Chinchilla compute-optimal sizing.

6ND: Kaplan et al. 2020 (2N forward + 4N backward per token); 8ND with full activation
recomputation: Narayanan et al. 2021 (Megatron-LM) / Korthikanti et al. 2022. 16 bytes/param for
mixed-precision Adam: Rajbhandari et al. 2020 (ZeRO). D ~= 20N: Hoffmann et al. 2022 (Chinchilla).
"""

from __future__ import annotations

import numpy as np

from mlsysim.core.formulas._formula import formula, require_range

CHINCHILLA_TOKENS_PER_PARAM = 20.0
"""Hoffmann et al. 2022 ("Chinchilla"): compute-optimal training uses D ~= 20 tokens per param."""


@formula("flop", positive=("params", "tokens"), params="param", tokens="token")
def training_flops(params, tokens, recompute=False):
    """Training compute C = 6ND [FLOP] (2ND forward + 4ND backward); 8ND with full recompute.

    Recompute re-runs the forward pass in the backward pass (hardware FLOPs; MFU still uses 6ND).
    Kaplan et al. 2020; Narayanan et al. 2021; Korthikanti et al. 2022.
    """
    factor = np.where(recompute, 8.0, 6.0) if np.ndim(recompute) else (8.0 if recompute else 6.0)
    return factor * params * tokens


@formula(
    "byte",
    positive=("params",),
    non_negative=("bytes_per_weight", "bytes_per_grad", "optimizer_bytes_per_param"),
    params="param",
    bytes_per_weight="",
    bytes_per_grad="",
    optimizer_bytes_per_param="",
)
def training_memory_bytes(
    params, bytes_per_weight=2.0, bytes_per_grad=2.0, optimizer_bytes_per_param=12.0
):
    """Model-state memory M = N * (b_w + b_g + b_opt) [byte], activations excluded.

    Default mixed-precision Adam: 2 (fp16 weights) + 2 (fp16 grads) + 12 (fp32 master weights,
    momentum, variance) = 16 B/param. Rajbhandari et al. 2020, "ZeRO", Section 3.1.
    """
    return params * (bytes_per_weight + bytes_per_grad + optimizer_bytes_per_param)


@formula(
    "s",
    positive=("peak_flops", "mfu"),
    non_negative=("total_flops",),
    counts=("num_devices",),
    total_flops="flop",
    peak_flops="flop/s",
    mfu="",
)
def time_to_train(total_flops, peak_flops, num_devices, mfu):
    """Wall-clock time T = C / (P_peak * n * MFU) [s], MFU in (0, 1].

    Narayanan et al. 2021 (Megatron-LM), Eq. 4 form; MFU as in Chowdhery et al. 2022 (PaLM).
    """
    require_range(mfu, "mfu", "time_to_train", low=0.0, high=1.0, low_open=True)
    return total_flops / (peak_flops * num_devices * mfu)


@formula("token", positive=("params",), params="param")
def chinchilla_optimal_tokens(params):
    """Compute-optimal training tokens D = 20N [token]. Hoffmann et al. 2022 ("Chinchilla")."""
    return CHINCHILLA_TOKENS_PER_PARAM * params


@formula(("param", "token"), positive=("compute",), compute="flop")
def chinchilla_optimal(compute):
    """Compute-optimal (N, D) for a budget C = 6ND with D = 20N: N = sqrt(C / 120), D = 20N.

    Returns ``(params, tokens)``. Hoffmann et al. 2022 ("Chinchilla"), approach-1 rule of thumb.
    """
    params = np.sqrt(compute / (6.0 * CHINCHILLA_TOKENS_PER_PARAM))
    return params, CHINCHILLA_TOKENS_PER_PARAM * params
