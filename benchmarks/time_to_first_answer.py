"""Time to first answer: a fresh interpreter imports mlsysim and reads one catalog number.

    python benchmarks/time_to_first_answer.py [--runs 15] [--no-bytecode-cache]

Runs ``import mlsysim; mlsysim.Hardware.H100.peak_flops['bf16']`` in fresh subprocesses (one
warm-up run first, which also fills pint's registry cache, mlsysim's parsed-catalog cache and the
bytecode cache) and prints the median and minimum wall time in seconds. Budget: median <= 0.5 s.
Bytecode is cached in a temporary PYTHONPYCACHEPREFIX, as an installed package would have it,
even when the calling shell sets PYTHONDONTWRITEBYTECODE (pass --no-bytecode-cache to keep that).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

SNIPPET = "import mlsysim; mlsysim.Hardware.H100.peak_flops['bf16']"
# the floor set by pint alone (import + cached registry + one Quantity), timed interleaved
BASELINE = "from mlsysim.core.units import Q_; Q_(989.4, 'TFLOP/s')"
BUDGET_S = 0.5


def time_once(env: dict[str, str], snippet: str = SNIPPET) -> float:
    """Wall-clock seconds of one fresh ``python -c snippet`` (fails loudly if it errors)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", snippet], check=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs after one warm-up")
    parser.add_argument("--no-bytecode-cache", action="store_true", help="compile every run")
    args = parser.parse_args()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="mlsysim-pycache-") as pycache:
        if not args.no_bytecode_cache:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = pycache
        time_once(env)  # warm-up: OS file cache, pint and catalog caches, bytecode
        times, floor = [], []
        for _ in range(args.runs):
            times.append(time_once(env))
            floor.append(time_once(env, BASELINE))
    median = statistics.median(times)
    verdict = "within" if median <= BUDGET_S else "OVER"
    cache = "without" if args.no_bytecode_cache else "with"
    print(
        f"time to first answer ({args.runs} runs, {cache} bytecode cache): "
        f"median {median:.3f} s, min {min(times):.3f} s"
    )
    print(f"pint-only floor ({BASELINE!r}): median {statistics.median(floor):.3f} s")
    print(f"{verdict} the {BUDGET_S} s budget")


if __name__ == "__main__":
    main()
