"""Transformer FLOPs, parameter count, KV cache and weight bytes against published numbers."""

from __future__ import annotations

import numpy as np
import pytest
from pint import DimensionalityError

from mlsysim.core.formulas import transformer as tf
from mlsysim.core.units import Q_

# Llama-2-7B (Touvron et al. 2023): 32 layers, d_model 4096, 32 heads (MHA), d_ff 11008, vocab 32000
LLAMA2_7B = {
    "n_layers": 32,
    "d_model": 4096,
    "d_ff": 11008,
    "vocab_size": 32000,
    "n_heads": 32,
    "n_kv_heads": 32,
}


def test_forward_flops_per_token_scalar():
    # 2 * 6.74e9 + 2 * 32 * 4096 * 4096 = 1.348e10 + 1.0737e9 = 1.45537e10 FLOP
    result = tf.transformer_forward_flops_per_token(Q_(6.74e9, "param"), 32, 4096, 4096)
    assert result.m_as("flop") == pytest.approx(1.348e10 + 1_073_741_824)


def test_forward_flops_per_token_array_over_context():
    # context 0, 2048, 8192: 2N + 2*32*ctx*4096
    ctx = np.array([0, 2048, 8192])
    result = tf.transformer_forward_flops_per_token(Q_(6.74e9, "param"), 32, 4096, ctx)
    np.testing.assert_allclose(result.m_as("flop"), 1.348e10 + 2 * 32 * ctx * 4096)


def test_forward_flops_per_token_errors():
    with pytest.raises(DimensionalityError, match="'params' of transformer_forward_flops"):
        tf.transformer_forward_flops_per_token(Q_(1, "s"), 32, 4096, 4096)
    with pytest.raises(ValueError, match=r"'n_layers' of transformer_forward_flops_per_token\(\)"):
        tf.transformer_forward_flops_per_token(Q_(1e9, "param"), 0, 4096, 4096)


def test_transformer_params_llama2_7b_matches_published():
    # embed 32000*4096*2 = 262,144,000; per layer 4*4096^2 + 3*4096*11008 + 2*4096
    # = 67,108,864 + 135,266,304 + 8,192 = 202,383,360; *32 = 6,476,267,520; + final norm 4096
    # = 6,738,415,616 (Hugging Face count); paper: 6.74e9
    result = tf.transformer_params(**LLAMA2_7B)
    assert result.m_as("param") == 6_738_415_616
    assert result.m_as("param") == pytest.approx(6.74e9, rel=0.01)


def test_transformer_params_gqa_llama2_70b():
    # Llama-2-70B: 80 layers, d 8192, 64 heads, 8 kv heads, d_ff 28672, vocab 32000
    # attn 2*8192^2 + 2*8192*8*128 = 134,217,728 + 16,777,216 = 150,994,944
    # ffn 3*8192*28672 = 704,643,072; norms 16,384 -> layer 855,654,400; *80 = 68,452,352,000
    # + embeddings 2*32000*8192 = 524,288,000 + 8192 = 68,976,648,192 (published 68.98e9)
    result = tf.transformer_params(80, 8192, 28672, 32000, 64, 8)
    assert result.m_as("param") == 68_976_648_192


def test_transformer_params_ungated_and_tied():
    # GPT-2 style, 1 layer, d 4, d_ff 16, vocab 10, 2 heads, tied:
    # embed 40 + final norm 4 + attn 4*16 = 64 + ffn 2*4*16 = 128 + norms 8 = 244
    result = tf.transformer_params(1, 4, 16, 10, 2, 2, gated_ffn=False, tied_embeddings=True)
    assert result.m_as("param") == 244


def test_transformer_params_array_over_layers():
    # Llama-2-7B shape with 16, 32, 64 layers: 262,148,096 + L * 202,383,360
    layers = np.array([16, 32, 64])
    result = tf.transformer_params(layers, 4096, 11008, 32000, 32, 32)
    np.testing.assert_allclose(result.m_as("param"), 262_148_096 + layers * 202_383_360)


def test_transformer_params_errors():
    with pytest.raises(DimensionalityError, match="'d_model' of transformer_params"):
        tf.transformer_params(32, Q_(4096, "byte/s"), 11008, 32000, 32, 32)
    with pytest.raises(
        ValueError, match=r"'n_kv_heads' of transformer_params\(\) must be a whole number >= 1"
    ):
        tf.transformer_params(32, 4096, 11008, 32000, 32, 0)


def test_kv_cache_llama2_7b_4096_tokens_fp16():
    # 2 * 32 * 32 * 128 * 4096 * 1 * 2 = 2,147,483,648 byte = 2 GiB = 2.147 GB
    result = tf.kv_cache_bytes(32, 32, 128, 4096, 1, 2)
    assert result.m_as("byte") == 2_147_483_648
    assert result.m_as("GiB") == pytest.approx(2.0)
    assert result.m_as("GB") == pytest.approx(2.147483648)


def test_kv_cache_gqa_and_batch_array():
    # Llama-3-8B: 32 layers, 8 kv heads, head 128, 8192 tokens, bf16:
    # 2*32*8*128*8192*2 = 1,073,741,824 byte per sequence; batch 1, 4, 16
    result = tf.kv_cache_bytes(32, 8, 128, 8192, np.array([1, 4, 16]), 2)
    np.testing.assert_allclose(result.m_as("GiB"), [1.0, 4.0, 16.0])


def test_kv_cache_errors():
    with pytest.raises(DimensionalityError, match="'seq_len' of kv_cache_bytes"):
        tf.kv_cache_bytes(32, 32, 128, Q_(1, "s"), 1, 2)
    with pytest.raises(
        ValueError, match=r"'batch_size' of kv_cache_bytes\(\) must be a whole number >= 1"
    ):
        tf.kv_cache_bytes(32, 32, 128, 4096, 0, 2)


def test_weight_bytes_scalar_and_array():
    # 6.74e9 params * 2 byte = 13.48 GB; int8 6.74 GB; int4 3.37 GB
    assert tf.weight_bytes(Q_(6.74e9, "param"), 2).m_as("GB") == pytest.approx(13.48)
    result = tf.weight_bytes(Q_(6.74e9, "param"), np.array([2, 1, 0.5]))
    np.testing.assert_allclose(result.m_as("GB"), [13.48, 6.74, 3.37])


def test_weight_bytes_errors():
    with pytest.raises(DimensionalityError, match="'params' of weight_bytes"):
        tf.weight_bytes(Q_(1, "flop"), 2)
    with pytest.raises(ValueError, match=r"'bytes_per_param' of weight_bytes\(\) must be > 0"):
        tf.weight_bytes(Q_(1e9, "param"), 0)


def test_raw_path():
    assert tf.kv_cache_bytes.raw(32, 32, 128, 4096, 1, 2) == 2_147_483_648
    assert tf.transformer_params.raw(**LLAMA2_7B) == 6_738_415_616


def test_transformer_params_agrees_with_catalog_counts():
    # Every catalog transformer's published count vs. the formula on its architecture:
    # bias-free Llama models within 0.1 %; BERT/GPT (biases, positional tables) within 2.5 %.
    from mlsysim.core.catalogs import Models

    checked = 0
    for model in Models:
        arch = model.arch
        if arch is None:
            continue
        counted = tf.transformer_params(
            arch.n_layers,
            arch.d_model,
            arch.d_ff,
            arch.vocab_size,
            arch.n_heads,
            arch.n_kv_heads,
            gated_ffn=arch.gated_ffn,
            tied_embeddings=arch.tied_embeddings,
        ).m_as("param")
        rel = 1e-3 if model.name.startswith("Llama") else 0.025
        assert counted == pytest.approx(model.params.m_as("param"), rel=rel), model.name
        checked += 1
    assert checked >= 10
