"""Design-space sweeps: models x hardware x precisions x batch sizes in one numpy expression.

Per (model, hardware, precision) combination the SI magnitudes come from the cache; the batch
axis and all combinations are then evaluated together through the formulas' ``raw`` fast paths
(the same ones ``Engine.solve`` uses), so there is no Python loop per grid point. As in
``solve``, a decoder's sample is one generated token at the full context: the bytes moved
and the memory required are the weights plus batch x the KV cache of one sequence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from mlsysim.core.engine.calibration import Efficiency, efficiency_for
from mlsysim.core.engine.profiles import sample_unit
from mlsysim.core.engine.resolve import (
    SOLVE_GRID,
    hardware_numbers,
    is_many,
    model_numbers,
    precision_bytes,
    require_count,
)
from mlsysim.core.engine.roofline import roofline_step
from mlsysim.core.engine.solve import context_kv_bytes, context_tokens
from mlsysim.core.formulas.performance import arithmetic_intensity, model_flops_utilization
from mlsysim.core.formulas.sustainability import energy as energy_formula
from mlsysim.core.formulas.transformer import weight_bytes
from mlsysim.core.precision import precision_name
from mlsysim.errors import UnknownNameError

COLUMNS = (
    "model",
    "hardware",
    "precision",
    "batch_size",
    "latency_s",
    "throughput_per_s",
    "bottleneck",
    "arithmetic_intensity",
    "mfu",
    "energy_j",
    "memory_required_b",
    "fits",
    "unit",
)
"""Columns of a solve sweep; SI floats with the unit in the name. ``unit`` says what a row's
``throughput_per_s`` and ``energy_j`` count, as ``PerformanceProfile.unit``: ``"token"`` for a
decoder (one decode step generates a token per sequence: tokens/s, energy per token),
``"sample"`` otherwise (samples/s, energy per sample)."""


class SweepTable(Sequence):
    """A table of sweep results: a sequence of dict records, stored as numpy columns.

    Records are built on access (``table[0]``, iteration, ``records()``), so a 10,000-point sweep
    costs no per-point Python objects until you ask. ``skipped`` lists (model, hardware,
    precision) combinations the part does not support.
    """

    def __init__(self, columns: dict[str, np.ndarray], skipped: list[tuple[str, str, str]]):
        self.columns = columns
        self.skipped = skipped
        self._length = len(next(iter(columns.values()))) if columns else 0

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):  # type: ignore[override]
        """``table[3]``: row 3 as a dict; ``table[1:4]``: rows; ``table["latency_s"]``: a column."""
        if isinstance(index, str):
            return self.column(index)
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(f"sweep row {index} out of range (0..{self._length - 1})")
        return {name: _python(column[index]) for name, column in self.columns.items()}

    def column(self, name: str) -> np.ndarray:
        """One column as a numpy array (SI floats, the unit in the name: ``"latency_s"``)."""
        try:
            return self.columns[name]
        except KeyError:
            raise UnknownNameError("sweep column", name, list(self.columns)) from None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records())

    def records(self) -> list[dict[str, Any]]:
        """All rows as a list of dicts of plain Python values (one ``tolist`` per column)."""
        names = list(self.columns)
        values = [column.tolist() for column in self.columns.values()]
        return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]

    def to_pandas(self):
        """A ``pandas.DataFrame`` with one column per field (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as err:
            raise ImportError(
                "SweepTable.to_pandas() needs pandas: pip install pandas "
                "(or use table.records() / table.columns)"
            ) from err
        return pd.DataFrame(self.columns)

    def __repr__(self) -> str:
        return f"SweepTable({self._length} rows, columns={list(self.columns)})"


def sweep(
    models: Any,
    hardware: Any,
    batch_sizes: Any = (1,),
    precisions: Any = ("fp16",),
    efficiency: Efficiency | float | None = None,
    skip_unsupported: bool = True,
) -> SweepTable:
    """``Engine.solve`` over every model x hardware x precision x batch size, vectorised.

    A precision the part lacks is skipped (listed in ``table.skipped``) unless
    ``skip_unsupported=False``, which raises the part's ``UnknownNameError``; a name that is no
    precision at all (``"fp7"``) always raises ``UnknownNameError`` listing the close ones.
    """
    batches = np.asarray(checked_counts(batch_sizes, "batch_sizes"), dtype=float)
    models = checked_names(models, "models", "model")
    hardware = checked_names(hardware, "hardware", "hardware part")
    precisions = checked_names(precisions, "precisions", "precision")
    combos, skipped = _combinations(models, hardware, precisions, efficiency, skip_unsupported)
    if not combos:
        return SweepTable({}, skipped)
    (
        names_m,
        names_h,
        names_p,
        f_sample,
        weights,
        kv,
        peak,
        bw,
        cap,
        eff_c,
        eff_m,
        overhead,
        tdp,
        units,
    ) = (np.asarray(part) for part in zip(*combos, strict=True))
    col = (slice(None), None)  # combinations down, batch sizes across
    flops = f_sample[col] * batches[None, :]
    moved2 = weights[col] + kv[col] * batches[None, :]  # weights + batch x KV per sequence
    latency, bound = roofline_step(
        flops, moved2, peak[col], bw[col], eff_c[col], eff_m[col], overhead[col]
    )
    grid = latency.shape
    energy = energy_formula.raw(tdp[col], latency) / batches  # NaN where no sourced TDP
    columns = {
        "model": repeat_names(names_m, grid),
        "hardware": repeat_names(names_h, grid),
        "precision": repeat_names(names_p, grid),
        "batch_size": np.broadcast_to(batches.astype(int), grid).ravel(),
        "latency_s": latency.ravel(),
        "throughput_per_s": (batches[None, :] / latency).ravel(),
        "bottleneck": bound.ravel(),
        "arithmetic_intensity": arithmetic_intensity.raw(flops, moved2).ravel(),
        "mfu": model_flops_utilization.raw(flops, latency, peak[col], 1).ravel(),
        "energy_j": energy.ravel(),
        "memory_required_b": moved2.ravel(),
        "fits": (moved2 <= cap[col]).ravel(),
        "unit": repeat_names(units, grid),
    }
    return SweepTable(columns, skipped)


def _combinations(models, hardware, precisions, efficiency, skip_unsupported):
    combos, skipped = [], []
    names = list(map(precision_name, precisions))  # lists, from checked_names
    widths = [precision_bytes(name) for name in names]  # not a precision at all: raises here
    for model in models:
        m = model_numbers(model)
        unit = sample_unit(context_tokens(m))
        kv = [context_kv_bytes(m, width) for width in widths]
        for part in hardware:
            hw = hardware_numbers(part)
            eff = efficiency_for(hw, efficiency)
            for precision, width, kv_seq in zip(names, widths, kv, strict=True):
                try:
                    peak = hw.peak(precision)
                except UnknownNameError:
                    if not skip_unsupported:
                        raise
                    skipped.append((m.name, hw.name, precision))
                    continue
                combos.append(
                    (
                        m.name,
                        hw.name,
                        precision,
                        m.flops_per_sample,
                        weight_bytes.raw(m.params, width),
                        kv_seq,
                        peak,
                        hw.memory_bandwidth,
                        hw.memory_capacity,
                        eff.compute,
                        eff.memory,
                        eff.overhead_s,
                        np.nan if hw.busy_power is None else hw.busy_power,
                        unit,
                    )
                )
    return combos, skipped


_LARGEST_EXACT_COUNT = 2**53


def checked_counts(value: Any, argument: str, grid: str = SOLVE_GRID) -> list[int]:
    """One count or a flat list of them, each checked as ``Engine.solve`` checks its one (same
    rule, same message); an empty list or a nested one is refused, naming ``argument``."""
    counts = as_list(value)
    if not counts:
        raise ValueError(f"argument {argument!r} needs at least one value, got {value!r}")
    for count in counts:
        if is_many(count) or isinstance(count, set):
            raise ValueError(
                f"argument {argument!r} takes one count or a flat list of counts, got {value!r}"
            )
    checked = [require_count(count, argument, grid) for count in counts]
    too_big = [count for count in checked if count > _LARGEST_EXACT_COUNT]
    if too_big:  # the grid computes in float64, whose whole numbers stop being exact here
        raise ValueError(
            f"argument {argument!r} must be at most 2**53 = {_LARGEST_EXACT_COUNT:,} per value "
            f"(exact in float64), got {too_big[0]!r}"
        )
    return checked


def checked_names(value: Any, argument: str, what: str) -> list:
    """One name (or spec) or a list of them; None or an empty list is refused, naming
    ``argument`` (``what`` says what belongs there: "model", "hardware part", "precision")."""
    names = [] if value is None else as_list(value)
    if not names:
        raise ValueError(f"argument {argument!r} needs at least one {what}, got {value!r}")
    return names


def as_list(value: Any) -> list:
    """One name or spec as a one-item list; a list, tuple, set or array as a list (a set in
    sorted order, so rows never depend on hashing)."""
    if isinstance(value, set):
        try:
            return sorted(value)
        except TypeError:  # specs, or names mixed with specs
            return sorted(value, key=str)
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        return [value]
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return [value.item()]
    return list(value)


def repeat_names(names: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Each combination's value once per batch size: the flattened grid's column."""
    return np.repeat(names.astype(object), grid[1])


def _python(value: Any) -> Any:
    """A numpy scalar as the plain Python value (``np.float64`` -> ``float``)."""
    return value.item() if isinstance(value, np.generic) else value
