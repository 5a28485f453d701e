"""Figures for the book: the roofline, a ledger scorecard, and a sweep, in the house style.

Each function returns a ``matplotlib.figure.Figure`` on an Agg canvas (no pyplot, no global
state), and every axis label names its unit. Artists carry ``gid``s (``"roof"``, ``"ridge"``,
``"workload:<label>"``, ``"series:<hue>"``) so tests and authors can find them.
"""

from __future__ import annotations

import math
import numbers
import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

from mlsysim.errors import FormatError, UnknownNameError
from mlsysim.viz.formatting import fmt, fmt_field
from mlsysim.viz.style import house_style, new_figure
from mlsysim.viz.unit_text import display_unit, parse_unit

_RATE_PREFIXES = ("", "k", "M", "G", "T", "P", "E")
_SUFFIX_UNITS = (  # sweep column suffix -> pint unit of its SI floats (longest first)
    ("_flop_per_s", "flop/s"),
    ("_b_per_s", "byte/s"),
    ("_per_s", "1/s"),
    ("_kgco2e", "kgCO2e"),
    ("_usd", "USD"),
    ("_flop", "flop"),
    ("_ms", "ms"),
    ("_s", "s"),
    ("_j", "J"),
    ("_w", "W"),
    ("_b", "byte"),
)

# Every numeric column of ``Engine.sweep`` and ``Engine.sweep_serve`` (their COLUMNS and
# SERVE_COLUMNS): axis name and the pint unit of its SI floats ("dimensionless" for a fraction;
# None for a pure count)
_SWEEP_COLUMNS = {
    "batch_size": ("Batch size", None),
    "latency_s": ("Latency", "s"),
    "throughput_per_s": ("Throughput", "1/s"),
    "arithmetic_intensity": ("Arithmetic intensity", "flop/byte"),
    "mfu": ("MFU", "dimensionless"),
    "energy_j": ("Energy", "J"),  # "Energy per sample/token" from the rows' unit column
    "memory_required_b": ("Memory required", "byte"),
    "tensor_parallel": ("Tensor-parallel devices", None),
    "prompt_tokens": ("Prompt tokens", None),
    "output_tokens": ("Output tokens", None),
    "ttft_s": ("Time to first token", "s"),
    "tpot_s": ("Time per output token", "s"),
    "e2e_latency_s": ("End-to-end latency", "s"),
    "tokens_per_s": ("Throughput", "token/s"),
    "memory_floor_s": ("Decode memory floor", "s"),
    "kv_cache_b": ("KV cache", "byte"),
    "max_batch_size": ("Largest batch that fits", None),
}
# Columns that count the sweep's per-row ``unit`` ("sample" or "token", as
# PerformanceProfile.unit): their label names it, e.g. "Throughput [tokens/s]"
_PER_UNIT_COLUMNS = ("throughput_per_s", "energy_j")


def _is_quantity(value: Any) -> bool:
    return hasattr(value, "magnitude") and hasattr(value, "units") and hasattr(value, "m_as")


# ---------------------------------------------------------------------------------- roofline


def plot_roofline(
    hardware: Any,
    workloads: Iterable[Any] | Mapping[str, Any] = (),
    precision: str = "fp16",
    efficiency: Any = None,
    *,
    batch_size: int = 1,
) -> Any:
    """Roofline of one part: attainable FLOP/s = min(P·η_c, B·η_m·I) against intensity I.

    The ridge sits at ``ridge_point(P·η_c, B·η_m)``, which is exactly where ``Engine.solve``
    switches from "memory" to "compute" for the same ``efficiency`` (None = the engine's
    calibrated default for the part's category; 1.0 = the pure peak roofline, ridge
    ``ridge_point(P, B)``). When η < 1 the peak roof is drawn dashed above it.

    ``workloads``: model names/specs (solved with ``Engine.solve`` at ``batch_size``),
    ``(model, batch_size)`` pairs, ``PerformanceProfile``s, or intensities (Quantities in
    flop/byte, placed on the roof); a Mapping gives them labels. A workload is drawn at its
    achieved throughput (FLOPs / latency, fixed overhead included) with its bottleneck.
    Williams, Waterman & Patterson 2009, "Roofline", CACM 52(4).
    """
    from mlsysim.core.engine.calibration import efficiency_for
    from mlsysim.core.engine.resolve import hardware_numbers
    from mlsysim.core.formulas.performance import ridge_point, roofline_throughput
    from mlsysim.core.units import Q_

    hw = hardware_numbers(hardware)
    peak, bandwidth = hw.peak(precision), hw.memory_bandwidth
    eff = efficiency_for(hw, efficiency)
    peak_eff, bandwidth_eff = peak * eff.compute, bandwidth * eff.memory
    ridge = ridge_point(Q_(peak_eff, "flop/s"), Q_(bandwidth_eff, "byte/s")).m_as("flop/byte")
    points = [
        _workload_point(label, item, hw, precision, eff, batch_size, peak_eff, bandwidth_eff)
        for label, item in _labelled(workloads)
    ]
    exponent = min(max(math.floor(math.log10(peak) / 3), 0), len(_RATE_PREFIXES) - 1)
    scale, prefix = 1000.0**exponent, _RATE_PREFIXES[exponent]
    xs = [ridge, *(p["x"] for p in points)]
    x_low = 10.0 ** (math.floor(math.log10(min(xs))) - 1)
    x_high = 10.0 ** (math.ceil(math.log10(max(xs))) + 1)
    roof_x = [x_low, ridge, x_high]

    with house_style():
        figure, axes = new_figure()
        pure = eff.compute == 1.0 and eff.memory == 1.0
        if not pure:
            peak_x = [x_low, ridge_point.raw(peak, bandwidth), x_high]
            peak_y = roofline_throughput.raw(peak, bandwidth, _array(peak_x))
            axes.plot(peak_x, peak_y / scale, "--", color="0.6", label="peak roof", gid="roof-peak")
        roof_y = roofline_throughput.raw(peak_eff, bandwidth_eff, _array(roof_x))
        roof_label = "roofline" if pure else f"attainable (η_c={eff.compute:g}, η_m={eff.memory:g})"
        axes.plot(roof_x, roof_y / scale, color="black", label=roof_label, gid="roof")
        axes.axvline(
            ridge,
            color="0.4",
            linestyle=":",
            linewidth=1.2,
            label=f"ridge point {fmt(ridge, 'flop/byte')}",
            gid="ridge",
        )
        for index, point in enumerate(points):
            axes.plot(
                [point["x"]],
                [point["y"] / scale],
                linestyle="none",
                marker="o" if point["bottleneck"] == "compute" else "s",
                color=f"C{index % 8}",
                label=f"{point['label']} ({point['bottleneck']}-bound)",
                gid=f"workload:{point['label']}",
            )
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlim(x_low, x_high)
        axes.set_xlabel("Arithmetic intensity [FLOP/byte]")
        axes.set_ylabel(f"Throughput [{prefix}FLOP/s]")
        name = getattr(hw.spec, "display_name", hw.name)
        axes.set_title(f"Roofline: {name}, {precision}")
        axes.legend(loc="lower right", fontsize=8)
    return figure


def _array(values: list[float]) -> Any:
    import numpy as np

    return np.asarray(values, dtype=float)


def _labelled(workloads: Any) -> list[tuple[str | None, Any]]:
    if workloads is None:
        return []
    if isinstance(workloads, Mapping):
        return [(str(label), item) for label, item in workloads.items()]
    single_pair = isinstance(workloads, tuple) and len(workloads) == 2 and _is_int(workloads[1])
    if isinstance(workloads, str) or _is_quantity(workloads) or single_pair:
        workloads = [workloads]
    return [(None, item) for item in workloads]


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _workload_point(label, item, hw, precision, eff, batch_size, peak_eff, bandwidth_eff) -> dict:
    """x = intensity [flop/byte], y = achieved FLOP/s, and the bottleneck, for one workload."""
    from mlsysim.core.formulas.performance import ridge_point, roofline_throughput

    if _is_quantity(item):
        intensity = float(item.m_as("flop/byte"))
        if not intensity > 0:
            raise ValueError(f"workload intensity must be > 0 flop/byte, got {item}")
        bound = "compute" if intensity >= ridge_point.raw(peak_eff, bandwidth_eff) else "memory"
        y = float(roofline_throughput.raw(peak_eff, bandwidth_eff, intensity))
        return {"label": label or fmt(item), "x": intensity, "y": y, "bottleneck": bound}
    profile = item
    if not hasattr(item, "flop_count"):
        from mlsysim.core.engine import Engine

        model, batch = item if isinstance(item, tuple) else (item, batch_size)
        profile = Engine.solve(model, hw.spec, batch, precision, eff)
        label = label or (profile.model if batch == 1 else f"{profile.model} (batch {batch})")
    return {
        "label": label or profile.model,
        "x": profile.flop_count / profile.bytes_moved_b,
        "y": profile.flop_count / profile.latency_s,
        "bottleneck": profile.bottleneck,
    }


# ------------------------------------------------------------------------------------ ledger


def plot_ledger(ledger: Any, title: str | None = None) -> Any:
    """A scorecard table of a ``Ledger`` (anything with ``to_dict()`` -> section -> field ->
    value, or such a Mapping). Each value prints exactly as ``Ledger.to_markdown`` prints it
    (``ledger_cell``: ``fmt_field``); long text wraps inside its cell, and the figure is as
    tall as its rows."""
    data = ledger.to_dict() if hasattr(ledger, "to_dict") else ledger
    if not isinstance(data, Mapping):
        raise TypeError(
            f"plot_ledger needs an object with to_dict() or a Mapping, got {type(ledger).__name__}"
        )
    rows: list[list[str]] = []
    for section, fields in data.items():
        items = fields.items() if isinstance(fields, Mapping) else [("", fields)]
        for index, (name, value) in enumerate(items):
            cell = textwrap.fill(ledger_cell(value, str(name)), _WRAP) or " "
            rows.append([str(section) if index == 0 else "", str(name), cell])
    rows = rows or [["", "", ""]]
    heights = [max(text.count("\n") + 1 for text in row) for row in rows]
    widths = [
        max(len(line) for row in rows for line in row[c].splitlines() or [""]) for c in (0, 1, 2)
    ]
    widths = [max(w, len(label)) + 2 for w, label in zip(widths, _HEADER, strict=True)]
    with house_style():
        figure, axes = new_figure()
        figure.set_size_inches(0.08 * sum(widths), 0.5 + _LINE_INCHES * (1 + sum(heights)))
        axes.axis("off")
        table = axes.table(
            cellText=rows,
            colLabels=list(_HEADER),
            colWidths=[w / sum(widths) for w in widths],
            cellLoc="left",
            colLoc="left",
            bbox=(0.0, 0.0, 1.0, 1.0),  # the table fills the axes: no blank band below it
        )
        table.set_gid("scorecard")
        table.auto_set_font_size(False)
        table.set_fontsize(9)
        lines = 1 + sum(heights)
        for (row, _col), cell in table.get_celld().items():
            cell.set_edgecolor("0.85")
            cell.set_height((1 if row == 0 else heights[row - 1]) / lines)
            if row == 0:
                cell.get_text().set_fontweight("bold")
        own_title = getattr(ledger, "title", None)
        axes.set_title(title or (own_title if isinstance(own_title, str) else "Scorecard"))
    return figure


_HEADER = ("Section", "Metric", "Value")
_WRAP = 40  # characters per line of a long text cell
_LINE_INCHES = 0.24  # height of one text line of a scorecard row at font size 9


def ledger_cell(value: Any, name: str = "") -> str:
    """One scorecard cell, as ``Ledger`` exports print it: ``fmt_field`` (``7.55 mW``,
    ``2.63 min``, ``200,000/yr``; the ledger's fraction fields such as ``mfu`` as percent),
    yes/no, ``n/a`` for None. A scorecard shows what the ledger holds, so a non-finite
    number prints ``nan``/``inf`` here (``fmt_field`` alone raises on it)."""
    from mlsysim.sim.ledger import FRACTIONS

    return str(fmt_field(value, fraction=name in FRACTIONS, allow_nan=True))


# ------------------------------------------------------------------------------------- sweep


def plot_sweep(
    table: Any,
    x: str,
    y: str,
    hue: str | None = None,
    *,
    x_unit: str | None = None,
    y_unit: str | None = None,
    logx: bool = False,
    logy: bool = False,
    title: str | None = None,
) -> Any:
    """One line per ``hue`` value of ``y`` against ``x`` over a table of records.

    ``table``: a list of dicts, a ``SweepTable`` (``records()``), a pandas DataFrame, or
    anything with ``to_records()``. Columns holding Quantities use their units; the columns of
    ``Engine.sweep`` have fixed labels (``Arithmetic intensity [FLOP/byte]``, ``MFU``), and its
    throughput and energy name what the rows' ``unit`` column counts (``Throughput [tokens/s]``,
    ``Energy per token [J]``; ``Throughput [samples/s or tokens/s]`` when rows mix a CNN and a
    transformer; ``[1/s]`` without a ``unit`` column); other SI float columns are read by
    their suffix (``latency_s`` -> s, ``energy_j`` -> J, ``_b`` -> byte, ``_b_per_s`` ->
    byte/s, ``_per_s`` -> 1/s). ``x_unit``/``y_unit`` convert for display (``y_unit="%"``
    for MFU).
    """
    records = table_records(table)
    columns = list(records[0]) if records else []
    for column in (x, y) + ((hue,) if hue else ()):
        if column not in columns:
            raise UnknownNameError("column", column, columns)
    xs, x_label, x_name = _column(records, x, x_unit)
    ys, y_label, y_name = _column(records, y, y_unit)
    groups: dict[Any, list[int]] = {}
    for index, record in enumerate(records):
        groups.setdefault(record[hue] if hue else None, []).append(index)
    with house_style():
        figure, axes = new_figure()
        for key, indices in groups.items():
            ordered = sorted(indices, key=lambda i: xs[i])
            axes.plot(
                [xs[i] for i in ordered],
                [ys[i] for i in ordered],
                marker="o",
                label=None if hue is None else str(key),
                gid=f"series:{key}",
            )
        if logx:
            axes.set_xscale("log")
        if logy:
            axes.set_yscale("log")
        axes.set_xlabel(x_label)
        axes.set_ylabel(y_label)
        if hue:
            axes.legend(title=_pretty(hue), fontsize=8)
        axes.set_title(title or f"{y_name} vs {x_name}")
    return figure


def table_records(table: Any) -> list[dict[str, Any]]:
    """Rows of ``table`` as dicts (list of dicts, ``records()``, DataFrame, ``to_records()``)."""
    if callable(getattr(table, "records", None)):
        rows = table.records()
    elif hasattr(table, "columns") and callable(getattr(table, "to_dict", None)):
        rows = table.to_dict("records")
    elif callable(getattr(table, "to_records", None)):
        array = table.to_records()
        rows = [dict(zip(array.dtype.names, row, strict=True)) for row in array]
    else:
        rows = list(table)
    if not all(isinstance(row, Mapping) for row in rows):
        raise TypeError("plot_sweep needs a table of records: dicts with one key per column")
    return [dict(row) for row in rows]


def _column(records: list[dict[str, Any]], name: str, unit: str | None) -> tuple[list, str, str]:
    """(float values, axis label with unit, readable name without the unit suffix)."""
    from mlsysim.core.units import Q_, get_registry

    values = [record[name] for record in records]
    base, si_unit = _pretty(name), None
    if values and _is_quantity(values[0]):
        target = values[0].units if unit is None else parse_unit(unit)
        numbers_ = [_in(v, target, name) for v in values]
        return numbers_, _label(base, display_unit(target)), base
    if name in _SWEEP_COLUMNS:
        base, si_unit = _SWEEP_COLUMNS[name]
        base, si_unit = _per_unit(name, base, si_unit, records)
    else:
        for suffix, suffix_unit in _SUFFIX_UNITS:
            if name.endswith(suffix):
                base, si_unit = _pretty(name[: -len(suffix)]), suffix_unit
                break
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, numbers.Real)]
    if bad:
        raise TypeError(f"column {name!r} must be numeric to plot, found {bad[0]!r}")
    numbers_ = [float(v) for v in values]
    if unit is not None:
        if si_unit is None:
            raise FormatError(f"column {name!r} has no known unit to convert to {unit!r}")
        _require_same_count(name, unit, si_unit)
        first = si_unit.split(" or ")[0]  # sample/s and token/s are both 1/s to pint
        converted = _in(Q_(_array(numbers_), first), parse_unit(unit), name)
        numbers_, si_unit = [float(v) for v in converted], unit
    units = si_unit.split(" or ") if si_unit else []  # "sample/s or token/s": rows mix them
    shown = " or ".join(display_unit(get_registry().Unit(u)) for u in units)
    return numbers_, _label(base, shown), base


def _per_unit(name: str, base: str, si_unit: str, records: list[dict[str, Any]]) -> tuple:
    """Name and unit of a sweep column by what its rows count (the ``unit`` column):
    ``("Throughput", "token/s")``, ``("Energy per token", "J")``; both when rows mix them
    (``"sample/s or token/s"``, ``"Energy per sample or token"``). Unchanged without it."""
    counted = sorted({str(r["unit"]) for r in records if "unit" in r})
    if name not in _PER_UNIT_COLUMNS or not counted:
        return base, si_unit
    if name == "energy_j":
        return f"Energy per {' or '.join(counted)}", si_unit
    return base, " or ".join(f"{count}/s" for count in counted)


def _require_same_count(column: str, unit: str, si_unit: str) -> None:
    """A display unit may not rename what the rows count: pint takes sample and token (both
    dimensionless) for one another, so "ktoken/s" would relabel a CNN's samples/s."""
    for count in ("token", "sample"):
        if count in unit and count not in si_unit:
            raise FormatError(
                f"column {column!r} counts {si_unit}, not {count}s: y_unit {unit!r} would "
                "relabel it"
            )


def _in(value: Any, unit: Any, column: str) -> Any:
    """``value`` in ``unit``; a FormatError naming the column and both units if it cannot be."""
    from pint import DimensionalityError

    try:
        converted = value.m_as(unit)
    except DimensionalityError:
        raise FormatError(
            f"column {column!r} is in {value.units:~P}, which does not convert to {unit:~P}"
        ) from None
    return converted if hasattr(converted, "__len__") else float(converted)


def _label(base: str, unit_text: str) -> str:
    return f"{base} [{unit_text}]" if unit_text else base


def _pretty(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]
