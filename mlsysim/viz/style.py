"""The one house style of mlsysim figures, and byte-for-byte reproducible saving.

Figures are built on ``matplotlib.figure.Figure`` with an Agg canvas (never pyplot's global
state), inside ``house_style()``, so the same inputs give the same figure on any machine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HOUSE_RC: dict[str, Any] = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.grid": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "lines.markersize": 6,
    "svg.hashsalt": "mlsysim",
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
}
"""Fixed rcParams: fonts, sizes, grid; ``house_style()`` adds the ``PALETTE`` colour cycle."""

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
"""Okabe & Ito 2008, "Color Universal Design": distinguishable under common colour blindness."""

# No timestamps or version strings in saved files: same figure, same bytes.
_METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}


@contextlib.contextmanager
def house_style() -> Iterator[None]:
    """Apply ``HOUSE_RC`` for the duration of a figure's construction."""
    import matplotlib
    from cycler import cycler

    params = dict(HOUSE_RC, **{"axes.prop_cycle": cycler(color=list(PALETTE))})
    with matplotlib.rc_context(params):
        yield


def new_figure(**subplot_kw: Any) -> tuple[Any, Any]:
    """A (Figure, Axes) pair on an Agg canvas, outside pyplot (no global figure registry).

    The constrained layout engine keeps titles and axis labels inside the canvas, so a plain
    ``figure.savefig(path)`` (no ``bbox_inches``) at any dpi shows them whole.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(
        figsize=HOUSE_RC["figure.figsize"], dpi=HOUSE_RC["figure.dpi"], layout="constrained"
    )
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(**subplot_kw)
    return figure, axes


def save_figure(figure: Any, path: str | Path) -> Path:
    """Save ``figure`` (format from the suffix: png, svg, pdf) without timestamps."""
    path = Path(path)
    kind = path.suffix.lstrip(".").lower()
    with house_style():
        figure.savefig(path, metadata=_METADATA.get(kind), bbox_inches="tight")
    return path
