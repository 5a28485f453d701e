"""LLM serving sweeps: ``Engine.serve`` over models x hardware x precisions x tensor parallel x
prompt and output lengths x batch sizes, in one numpy expression.

Each combination's SI magnitudes come from the resolve cache; the combinations (down) and the
batch sizes (across) then go through :func:`~mlsysim.core.engine.serve.serving_times`, the very
function ``Engine.serve`` calls, so a row equals ``Engine.serve`` at that point and the memory
floor holds for every one of them. There is no Python loop per grid point.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlsysim.core.engine.calibration import Efficiency, efficiency_for
from mlsysim.core.engine.resolve import (
    SERVE_GRID,
    hardware_numbers,
    model_numbers,
    precision_bytes,
)
from mlsysim.core.engine.serve import (
    hardware_arrays,
    llm_arrays,
    require_context,
    require_decoder,
    require_head_split,
    require_link,
    serving_times,
)
from mlsysim.core.engine.sweep import (
    SweepTable,
    checked_counts,
    checked_names,
    repeat_names,
)
from mlsysim.core.precision import precision_name
from mlsysim.errors import UnknownNameError

SERVE_COLUMNS = (
    "model",
    "hardware",
    "precision",
    "tensor_parallel",
    "prompt_tokens",
    "output_tokens",
    "batch_size",
    "ttft_s",
    "tpot_s",
    "e2e_latency_s",
    "tokens_per_s",
    "memory_floor_s",
    "prefill_bottleneck",
    "decode_bottleneck",
    "kv_cache_b",
    "memory_required_b",
    "fits",
    "max_batch_size",
)
"""Columns of a serving sweep, as ``ServingProfile``: SI floats with the unit in the name.
``tokens_per_s`` is generated tokens per second across the batch (batch x output / e2e),
``kv_cache_b`` and ``memory_required_b`` (weights + KV) cover the whole tensor-parallel group."""

_NAMES = ("model", "hardware", "precision")
_COUNTS = ("tensor_parallel", "prompt_tokens", "output_tokens")


def sweep_serve(
    models: Any,
    hardware: Any,
    batch_sizes: Any = (1,),
    precisions: Any = ("fp16",),
    prompt_tokens: Any = (512,),
    output_tokens: Any = (128,),
    tensor_parallel: Any = (1,),
    efficiency: Efficiency | float | None = None,
    skip_unsupported: bool = True,
) -> SweepTable:
    """``Engine.serve`` at every combination of its arguments, vectorised; each argument takes
    one value or a list. Rows run model, hardware, precision, tensor parallel, prompt, output,
    then batch size fastest.

    A precision the part lacks is skipped (listed in ``table.skipped``) unless
    ``skip_unsupported=False``; every other bad value raises as ``Engine.serve`` would, naming
    the argument, before anything is computed: a name that is no precision, a model that is not
    a decoder, a prompt + output beyond a model's context, a tensor parallelism that does not
    divide its heads or a part with no sourced interconnect for it.
    """
    batches = np.asarray(checked_counts(batch_sizes, "batch_sizes", SERVE_GRID), dtype=float)
    counts = {
        name: checked_counts(value, name, SERVE_GRID)
        for name, value in (
            ("tensor_parallel", tensor_parallel),
            ("prompt_tokens", prompt_tokens),
            ("output_tokens", output_tokens),
        )
    }
    models = checked_names(models, "models", "model")
    hardware = checked_names(hardware, "hardware", "hardware part")
    precisions = checked_names(precisions, "precisions", "precision")
    combos, skipped = _combinations(
        models, hardware, precisions, counts, efficiency, skip_unsupported
    )
    if not combos:
        return SweepTable({}, skipped)
    labels = {name: np.asarray([c[0][name] for c in combos], dtype=object) for name in _NAMES}
    arrays = {key: np.asarray([c[1][key] for c in combos])[:, None] for key in combos[0][1]}
    batch = batches[None, :]
    times = serving_times(**arrays, batch=batch)
    grid = np.broadcast_shapes(times.ttft_s.shape, times.tpot_s.shape)
    output = arrays["output"]
    e2e = times.ttft_s + (output - 1) * times.tpot_s
    columns = {name: repeat_names(labels[name], grid) for name in _NAMES}
    for name, key in zip(_COUNTS, ("tp", "prompt", "output"), strict=True):
        columns[name] = repeat_names(arrays[key][:, 0].astype(int), grid).astype(int)
    columns |= {
        "batch_size": np.broadcast_to(batches.astype(int), grid).ravel(),
        "ttft_s": _flat(times.ttft_s, grid),
        "tpot_s": _flat(times.tpot_s, grid),
        "e2e_latency_s": _flat(e2e, grid),
        "tokens_per_s": _flat(batch * output / e2e, grid),
        "memory_floor_s": _flat(times.memory_floor_s, grid),
        "prefill_bottleneck": _flat(times.prefill_bottleneck, grid),
        "decode_bottleneck": _flat(times.decode_bottleneck, grid),
        "kv_cache_b": _flat(times.kv_cache_b, grid),
        "memory_required_b": _flat(times.weights_b + times.kv_cache_b, grid),
        "fits": _flat(times.fits, grid),
        "max_batch_size": _flat(times.max_batch_size, grid).astype(int),
    }
    return SweepTable(columns, skipped)


def _combinations(models, hardware, precisions, counts, efficiency, skip_unsupported):
    """``[(labels, serving_times keyword arguments)]`` per combination, and the skipped ones.
    Every value is checked (and every model and part resolved) before the first one is built."""
    names = list(map(precision_name, precisions))  # lists, from checked_names
    widths = [precision_bytes(name) for name in names]  # not a precision at all: raises here
    llms = [model_numbers(model) for model in models]
    parts = [hardware_numbers(part) for part in hardware]
    for m in llms:
        require_decoder(m)
        for prompt in counts["prompt_tokens"]:
            for output in counts["output_tokens"]:
                require_context(m, prompt, output)
        for tp in counts["tensor_parallel"]:
            require_head_split(m, tp)
    for hw in parts:
        for tp in counts["tensor_parallel"]:
            if tp > 1:
                require_link(hw, tp)
    combos, skipped = [], []
    for m in llms:
        for hw in parts:
            eff = efficiency_for(hw, efficiency)
            for precision, width in zip(names, widths, strict=True):
                try:
                    part = hardware_arrays(hw, precision, eff)
                except UnknownNameError:
                    if not skip_unsupported:
                        raise
                    skipped.append((m.name, hw.name, precision))
                    continue
                labels = {"model": m.name, "hardware": hw.name, "precision": precision}
                for tp in counts["tensor_parallel"]:
                    for prompt in counts["prompt_tokens"]:
                        for output in counts["output_tokens"]:
                            lengths = {"tp": tp, "prompt": prompt, "output": output}
                            combos.append((labels, {**llm_arrays(m, width), **part, **lengths}))
    return combos, skipped


def _flat(values: Any, grid: tuple[int, ...]) -> np.ndarray:
    """``values`` broadcast to the grid (a column constant along batch is repeated), flattened."""
    return np.broadcast_to(values, grid).ravel()
