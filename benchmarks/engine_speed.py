"""Engine speed: medians of one ``Engine.solve``, a 10,000-point ``Engine.sweep`` and a
10,000-point ``Engine.sweep_serve``.

Targets (issue 3): one solve <= 0.1 ms, a 10,000-point sweep (batch sizes x precisions x
hardware) <= 50 ms; the serving sweep is held to the same 50 ms. The reference implementation
takes ~2.5 ms per solve and 20-40 s per sweep.
Run: ``python benchmarks/engine_speed.py``. Caches are warm (first use converts the specs).
"""

from __future__ import annotations

import statistics
import time

import numpy as np

SOLVE_TARGET_S = 0.1e-3
SWEEP_TARGET_S = 50e-3


def median_seconds(fn, number: int, repeat: int) -> float:
    """Median over ``repeat`` runs of the mean time of ``number`` calls."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number)
    return statistics.median(runs)


def main() -> None:
    from mlsysim.core.catalogs import Hardware
    from mlsysim.core.engine import Engine

    Engine.solve("ResNet50", "H100", batch_size=8, precision="fp16")  # warm the caches
    solve = median_seconds(lambda: Engine.solve("ResNet50", "H100", 8, "fp16"), 2000, 9)

    hardware = list(Hardware)  # every catalog part
    precisions = ["fp32", "tf32", "fp16", "bf16", "fp8", "int8"]
    supported = sum(p in hw.peak_flops for hw in hardware for p in precisions)
    batches = np.arange(1, int(np.ceil(10_000 / supported)) + 1)
    table = Engine.sweep("ResNet50", hardware, batches, precisions)
    sweep = median_seconds(lambda: Engine.sweep("ResNet50", hardware, batches, precisions), 5, 9)
    records = median_seconds(table.records, 1, 5)

    llms = ["Llama2_7B", "Llama3_8B", "Llama3_70B"]
    gpus = ["H100", "H200", "A100", "MI300X"]
    serve_grid = {
        "batch_sizes": np.arange(1, 209),
        "prompt_tokens": [512, 2048],
        "tensor_parallel": [1, 2],
    }
    served = Engine.sweep_serve(llms, gpus, **serve_grid)
    serving = median_seconds(lambda: Engine.sweep_serve(llms, gpus, **serve_grid), 5, 9)

    print(
        f"Engine.solve                : median {solve * 1e3:.4f} ms "
        f"(target {SOLVE_TARGET_S * 1e3:.1f} ms, ratio {solve / SOLVE_TARGET_S:.2f})"
    )
    print(
        f"Engine.sweep {len(table):>6,} points : median {sweep * 1e3:.2f} ms "
        f"(target {SWEEP_TARGET_S * 1e3:.0f} ms, ratio {sweep / SWEEP_TARGET_S:.2f}); "
        f"{len(hardware)} parts x {len(precisions)} precisions (supported: {supported}) "
        f"x {len(batches)} batch sizes"
    )
    print(f"  materialising all records : median {records * 1e3:.2f} ms (lazy; not in the sweep)")
    print(
        f"Engine.sweep_serve {len(served):>6,} points : median {serving * 1e3:.2f} ms "
        f"(target {SWEEP_TARGET_S * 1e3:.0f} ms, ratio {serving / SWEEP_TARGET_S:.2f}); "
        f"{len(llms)} LLMs x {len(gpus)} GPUs x 2 prompts x 2 TP x "
        f"{len(serve_grid['batch_sizes'])} batch sizes (fp16)"
    )


if __name__ == "__main__":
    main()
