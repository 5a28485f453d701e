"""Time to first answer: a fresh interpreter imports mlsysim and reads one catalog number.

    python benchmarks/time_to_first_answer.py [--runs 15]

Runs ``import mlsysim; mlsysim.Hardware.H100.peak_flops['bf16']`` in fresh subprocesses (one
warm-up run first, which also fills pint's disk cache) and prints the median and minimum wall time
in seconds. Budget: median <= 0.5 s (issue 2).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

SNIPPET = "import mlsysim; mlsysim.Hardware.H100.peak_flops['bf16']"
BUDGET_S = 0.5


def time_once(python: str = sys.executable) -> float:
    """Wall-clock seconds of one fresh ``python -c SNIPPET`` (fails loudly if it errors)."""
    start = time.perf_counter()
    subprocess.run([python, "-c", SNIPPET], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs after one warm-up")
    runs = parser.parse_args().runs
    time_once()  # warm-up: OS file cache, pint's registry cache
    times = [time_once() for _ in range(runs)]
    median = statistics.median(times)
    verdict = "within" if median <= BUDGET_S else "OVER"
    print(f"time to first answer ({runs} runs): median {median:.3f} s, min {min(times):.3f} s")
    print(f"{verdict} the {BUDGET_S} s budget")


if __name__ == "__main__":
    main()
