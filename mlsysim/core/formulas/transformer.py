"""Transformer arithmetic: forward FLOPs per token, parameter count, KV-cache and weight bytes.

FLOPs follow Kaplan et al. 2020, "Scaling Laws for Neural Language Models", Table 1 (1 MAC = 2
FLOPs). Grouped-query attention (GQA) is Ainslie et al. 2023; the gated (SwiGLU) FFN is Shazeer
2020, "GLU Variants Improve Transformer", as used by Touvron et al. 2023 (Llama 2).
"""

from __future__ import annotations

from mlsysim.core.formulas._formula import formula

_COUNTS = ("n_layers", "d_model", "d_ff", "vocab_size", "n_heads", "n_kv_heads")


@formula(
    "flop",
    positive=("params",),
    non_negative=("context_length",),
    counts=("n_layers", "d_model"),
    params="param",
    context_length="",
)
def transformer_forward_flops_per_token(params, n_layers, d_model, context_length):
    """Forward FLOPs per token C = 2N + 2 * n_layers * n_ctx * d_model [FLOP].

    2N for the weight matmuls, plus attention over n_ctx earlier tokens. Kaplan et al. 2020,
    "Scaling Laws for Neural Language Models", Table 1, where N excludes the embedding tables
    (lookups, no MACs). The catalog passes all parameters, as the training-compute papers'
    6ND does: that also counts the lookups, 26% high for BERT-Base, 2-7% for Llama 2 and 3.
    """
    return 2.0 * params + 2.0 * n_layers * context_length * d_model


@formula("param", counts=_COUNTS)
def transformer_params(
    n_layers,
    d_model,
    d_ff,
    vocab_size,
    n_heads,
    n_kv_heads,
    gated_ffn=True,
    tied_embeddings=False,
):
    """Decoder parameter count N [param] (bias-free, RMSNorm, as in Llama):

    N = V*d (embedding) + V*d (LM head unless tied) + d (final norm)
        + L * [2d^2 + 2*d*n_kv*d_head (q, o; k, v with GQA) + k*d*d_ff + 2d (norms)],
    d_head = d / n_heads, k = 3 for a gated (SwiGLU) FFN, else 2. Llama-2-7B -> 6.738e9
    (Touvron et al. 2023 report 6.74e9). GQA: Ainslie et al. 2023.
    """
    head_dim = d_model / n_heads
    attention = 2.0 * d_model * d_model + 2.0 * d_model * n_kv_heads * head_dim
    ffn = (3.0 if gated_ffn else 2.0) * d_model * d_ff
    norms = 2.0 * d_model
    embeddings = (1.0 if tied_embeddings else 2.0) * vocab_size * d_model
    return embeddings + d_model + n_layers * (attention + ffn + norms)


@formula(
    "byte",
    positive=("bytes_per_element",),
    non_negative=("seq_len",),
    counts=("n_layers", "n_kv_heads", "head_dim", "batch_size"),
    seq_len="",
    bytes_per_element="",
)
def kv_cache_bytes(n_layers, n_kv_heads, head_dim, seq_len, batch_size, bytes_per_element):
    """KV-cache size M = 2 * L * n_kv * d_head * seq * batch * bytes [byte] (K and V per layer).

    With GQA n_kv < n_heads shrinks it (Ainslie et al. 2023). ``bytes_per_element`` is a plain
    number (see ``mlsysim.core.precision.bytes_per_param``). Pope et al. 2022, "Efficiently
    Scaling Transformer Inference".
    """
    return 2.0 * n_layers * n_kv_heads * head_dim * seq_len * batch_size * bytes_per_element


@formula("byte", positive=("params", "bytes_per_param"), params="param", bytes_per_param="")
def weight_bytes(params, bytes_per_param):
    """Weight memory M = N * b [byte], b bytes per parameter (fp16 2, int8 1, int4 0.5).

    ``bytes_per_param`` is a plain number, e.g. ``mlsysim.core.precision.bytes_per_param("fp16")``.
    """
    return params * bytes_per_param
