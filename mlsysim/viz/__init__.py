"""The author toolkit: ``fmt`` and helpers for numbers in prose, ``check`` guards, and plots.

Names resolve lazily (importing ``mlsysim.viz`` imports neither pint nor matplotlib)::

    fmt, fmt_percent, fmt_multiple, fmt_range, fmt_sci, fmt_eng, fmt_count, fmt_currency,
    fmt_time, fmt_bytes, fmt_flops, fmt_field, Formatted (mlsysim.viz.formatting)
    check                                               (mlsysim.viz.guards)
    plot_roofline, plot_ledger, plot_sweep              (mlsysim.viz.plots)
"""

from __future__ import annotations

from mlsysim._lazy import lazy_exports

_FORMATTING = (
    "fmt",
    "fmt_percent",
    "fmt_multiple",
    "fmt_range",
    "fmt_sci",
    "fmt_eng",
    "fmt_count",
    "fmt_currency",
    "fmt_time",
    "fmt_bytes",
    "fmt_flops",
    "fmt_field",
    "Formatted",
)
_EXPORTS = {name: "mlsysim.viz.formatting" for name in _FORMATTING}
_EXPORTS["check"] = "mlsysim.viz.guards"
_EXPORTS.update(
    {name: "mlsysim.viz.plots" for name in ("plot_roofline", "plot_ledger", "plot_sweep")}
)

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
