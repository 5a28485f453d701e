"""Parallel speedup laws: Amdahl (fixed problem size) and Gustafson (scaled problem size).

Amdahl 1967, "Validity of the single processor approach to achieving large scale computing
capabilities", AFIPS; Gustafson 1988, "Reevaluating Amdahl's law", CACM 31(5).
"""

from __future__ import annotations

from mlsysim.core.formulas._formula import formula, require_range


@formula("", counts=("n",), parallel_fraction="")
def amdahl_speedup(parallel_fraction, n):
    """Strong-scaling speedup S = 1 / ((1 - p) + p / n) [dimensionless], p in [0, 1], n >= 1.

    Bounded by 1 / (1 - p) however many workers. Amdahl 1967.
    """
    require_range(parallel_fraction, "parallel_fraction", "amdahl_speedup", low=0.0, high=1.0)
    return 1.0 / ((1.0 - parallel_fraction) + parallel_fraction / n)


@formula("", counts=("n",), parallel_fraction="")
def gustafson_speedup(parallel_fraction, n):
    """Weak-scaling (scaled) speedup S = (1 - p) + p * n [dimensionless], p in [0, 1].

    p is the parallel fraction of the run on n workers; the problem grows with n. Gustafson 1988.
    """
    require_range(parallel_fraction, "parallel_fraction", "gustafson_speedup", low=0.0, high=1.0)
    return (1.0 - parallel_fraction) + parallel_fraction * n


@formula("", positive=("speedup",), counts=("n",), speedup="")
def parallel_efficiency(speedup, n):
    """Parallel efficiency E = S / n [dimensionless]: the fraction of ideal linear speedup.

    Eager, Zahorjan & Lazowska 1989, "Speedup versus efficiency in parallel systems", IEEE TC.
    """
    return speedup / n
