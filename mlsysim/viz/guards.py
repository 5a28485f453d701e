"""``check()``: guards that keep a chapter's prose true to its math.

``check(condition, message, **values)`` and its methods ``between``, ``close`` and ``golden`` each
build one ``invariants.protocol.CheckRecord`` carrying the caller's file and line (and, when a
module's code called it from a kernel cell, that cell's file and line: the chapter's call site).
Raise mode (the default; ``MLSYSIM_CHECK_MODE`` unset or ``raise``) raises ``InvariantError`` on
a failure. Collect mode (``MLSYSIM_CHECK_MODE=collect``, read at every call) publishes each
record through ``IPython.display.display({MIME_CHECK: record.to_json()}, raw=True)`` and carries
on, so the verifier sees every broken sentence of a chapter in one run. ``with
check.collecting() as records:`` collects in-process instead (tests, notebooks).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
from collections.abc import Container, Iterator
from typing import Any, NamedTuple

import numpy as np

from invariants.protocol import (
    ENV_MODE,
    MIME_CHECK,
    MODE_COLLECT,
    MODE_RAISE,
    CheckRecord,
    published_value,
)
from mlsysim.errors import InvariantError

_GOLDEN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_collectors: list[list[CheckRecord]] = []


def _is_quantity(value: Any) -> bool:
    return hasattr(value, "magnitude") and hasattr(value, "units") and hasattr(value, "m_as")


class _Site(NamedTuple):
    """Where a check was called: ``file``/``line`` of the caller; ``cell_file``/``cell_line``
    the innermost kernel cell frame that led there when the caller is not a cell (a helper
    module's function called from a chapter), else None."""

    file: str
    line: int
    cell_file: str | None = None
    cell_line: int | None = None


def _caller(depth: int = 2) -> _Site:
    """The site of the code that called the public ``check`` method."""
    frame = sys._getframe(depth)
    site = _Site(frame.f_code.co_filename, frame.f_lineno)
    cells = _kernel_cell_files()
    if not cells or site.file in cells:
        return site
    outer = frame.f_back
    while outer is not None:
        if outer.f_code.co_filename in cells:
            return site._replace(cell_file=outer.f_code.co_filename, cell_line=outer.f_lineno)
        outer = outer.f_back
    return site


def _kernel_cell_files() -> Container[str]:
    """The file names IPython gave the cells it compiled (the runner maps them to execution
    counts, hence to ``.qmd`` cells); empty outside IPython. IPython is looked up, not imported."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if get_ipython else None
    return getattr(getattr(shell, "compile", None), "_filename_map", None) or {}


def current_mode() -> str:
    """``"collect"`` inside ``check.collecting()`` or with ``MLSYSIM_CHECK_MODE=collect``;
    otherwise ``"raise"``. Any other value of the variable is an error naming the valid ones."""
    if _collectors:
        return MODE_COLLECT
    mode = os.environ.get(ENV_MODE, MODE_RAISE).strip().lower() or MODE_RAISE
    if mode not in (MODE_RAISE, MODE_COLLECT):
        raise ValueError(
            f"{ENV_MODE}={os.environ[ENV_MODE]!r} is not a check mode; use "
            f"{MODE_RAISE!r} (default) or {MODE_COLLECT!r}"
        )
    return mode


def publish(record: CheckRecord) -> None:
    """Send one record to the verifier through IPython's display system (the wire protocol)."""
    from IPython.display import display

    display({MIME_CHECK: record.to_json()}, raw=True)


def _require_bool(condition: Any) -> bool:
    if isinstance(condition, (bool, np.bool_)):
        return bool(condition)
    hint = ""
    if isinstance(condition, np.ndarray) or _is_quantity(condition):
        hint = " (for arrays use np.all(...) or np.any(...) to say which you mean)"
    raise TypeError(
        f"check() needs a bool condition, got {type(condition).__name__}: {condition!r}{hint}"
    )


def _failure_text(record: CheckRecord) -> str:
    lines = [record.message]
    lines += [f"  {label} = {value.text}" for label, value in record.values.items()]
    lines.append(f"  at {record.file}:{record.line}")
    return "\n".join(lines)


def _convert(value: Any, unit: Any, label: str, where: str) -> Any:
    """Magnitude of ``value`` in ``unit`` (None = plain numbers); unit mismatches name both."""
    from pint import DimensionalityError

    if unit is None:
        if _is_quantity(value):
            if value.dimensionless:
                return value.m_as("")
            raise DimensionalityError(
                "dimensionless",
                value.units,
                extra_msg=f" in {where}: {label} has units but the first value is a plain number",
            )
        return np.asarray(value, dtype=float) if isinstance(value, (list, tuple)) else value
    if not _is_quantity(value):
        if unit.dimensionless:  # a plain number is a pure ratio: 0.3 against percent is 30 %
            return unit._REGISTRY.Quantity(value, "").m_as(unit)
        raise DimensionalityError(
            unit,
            "dimensionless",
            extra_msg=f" in {where}: {label} is a plain number; give it units like {unit:~P}",
        )
    try:
        return value.m_as(unit)
    except DimensionalityError as err:
        raise DimensionalityError(
            err.units1, err.units2, err.dim1, err.dim2, extra_msg=f" in {where} ({label})"
        ) from None


def _finite_number(value: Any, what: str) -> None:
    magnitude = value.magnitude if _is_quantity(value) else value
    hook = getattr(value, "_invariants_value_", None)
    if callable(hook):
        magnitude = hook().get("magnitude")
    if (
        isinstance(magnitude, bool)
        or not isinstance(magnitude, (int, float, np.integer, np.floating))
        or not math.isfinite(float(magnitude))
    ):
        raise TypeError(f"{what} must be one finite number or Quantity, got {value!r}")


class Check:
    """The ``check`` guard: call it, or use ``.between``, ``.close``, ``.golden``."""

    def __call__(self, condition: Any, message: str, /, **values: Any) -> bool:
        """Assert ``condition`` (a bool) with the author's ``message``; ``values`` are recorded."""
        passed = _require_bool(condition)
        return self._emit("check", message, passed, values, _caller())

    def between(
        self, x: Any, lo: Any, hi: Any, message: str | None = None, *, inclusive: bool = True
    ) -> bool:
        """``lo <= x <= hi`` (strict with ``inclusive=False``), unit-aware: ``lo``/``hi`` are
        converted to ``x``'s units. Arrays pass when every element is inside."""
        where = "check.between"
        unit = x.units if _is_quantity(x) else None
        lo_m, hi_m = _convert(lo, unit, "lo", where), _convert(hi, unit, "hi", where)
        x_m = _convert(x, unit, "x", where)
        if np.any(np.asarray(lo_m) > np.asarray(hi_m)):
            raise ValueError(f"{where}: lo ({lo!r}) is greater than hi ({hi!r})")
        if inclusive:
            inside = np.all((lo_m <= x_m) & (x_m <= hi_m))
        else:
            inside = np.all((lo_m < x_m) & (x_m < hi_m))
        message = message or f"{x} is between {lo} and {hi}"
        return self._emit("check", message, bool(inside), {"x": x, "lo": lo, "hi": hi}, _caller())

    def close(
        self,
        actual: Any,
        expected: Any,
        rtol: float = 1e-9,
        atol: Any = None,
        message: str | None = None,
    ) -> bool:
        """``|actual - expected| <= max(rtol * max(|actual|, |expected|), atol)`` (math.isclose),
        after converting ``expected`` (and a Quantity ``atol``) to ``actual``'s units:
        3.35 TB/s is close to 3350 GB/s; TB/s against TB raises ``DimensionalityError``."""
        where = "check.close"
        if rtol < 0:
            raise ValueError(f"{where}: rtol must be >= 0, got {rtol!r}")
        unit = actual.units if _is_quantity(actual) else None
        a = np.asarray(_convert(actual, unit, "actual", where), dtype=float)
        e = np.asarray(_convert(expected, unit, "expected", where), dtype=float)
        tol_abs = 0.0 if atol is None else float(_convert(atol, unit, "atol", where))
        if tol_abs < 0:
            raise ValueError(f"{where}: atol must be >= 0, got {atol!r}")
        limit = np.maximum(rtol * np.maximum(np.abs(a), np.abs(e)), tol_abs)
        passed = bool(np.all(np.abs(a - e) <= limit))
        message = message or f"{actual} is close to {expected} (rtol={rtol}, atol={atol})"
        values = {"actual": actual, "expected": expected}
        return self._emit("check", message, passed, values, _caller())

    def golden(
        self,
        name: str,
        value: Any,
        rtol: float | None = None,
        atol: float | None = None,
        message: str | None = None,
    ) -> Any:
        """Declare a named published number for the snapshot store (``golden/<chapter>.yml``).

        The verifier compares it with the stored snapshot within ``rtol``/``atol`` (in the
        value's unit). Raise mode only validates the name and value. Returns ``value``.
        """
        if not isinstance(name, str) or not _GOLDEN_NAME.match(name):
            raise ValueError(
                f"check.golden name must be an identifier-like string (letters, digits, _ . -), "
                f"got {name!r}"
            )
        _finite_number(value, f"check.golden({name!r}) value")
        for label, tol in (("rtol", rtol), ("atol", atol)):
            if tol is not None and (not isinstance(tol, (int, float)) or tol < 0):
                raise ValueError(f"check.golden({name!r}): {label} must be >= 0 or None")
        described = published_value(value)
        golden = {
            "magnitude": described.magnitude,
            "unit": described.unit,
            "text": described.text,
            "rtol": rtol,
            "atol": atol,
        }
        site = _caller()
        record = CheckRecord(
            kind="golden",
            message=message or name,
            passed=True,
            file=site.file,
            line=site.line,
            name=name,
            values={name: described},
            golden=golden,
            cell_file=site.cell_file,
            cell_line=site.cell_line,
        )
        self._dispatch(record)
        return value

    @contextlib.contextmanager
    def collecting(self) -> Iterator[list[CheckRecord]]:
        """Collect records in-process (no raising, no display): ``with check.collecting() as
        records: ...``. Nested blocks each see the records made inside them."""
        records: list[CheckRecord] = []
        _collectors.append(records)
        try:
            yield records
        finally:
            _collectors.remove(records)

    @staticmethod
    def mode() -> str:
        """The mode the next call will use: ``"raise"`` or ``"collect"``."""
        return current_mode()

    def _emit(
        self, kind: str, message: str, passed: bool, values: dict[str, Any], where: _Site
    ) -> bool:
        if not isinstance(message, str):
            raise TypeError(f"check message must be a str, got {type(message).__name__}")
        record = CheckRecord(
            kind=kind,
            message=message,
            passed=passed,
            file=where.file,
            line=where.line,
            values={label: published_value(value) for label, value in values.items()},
            cell_file=where.cell_file,
            cell_line=where.cell_line,
        )
        self._dispatch(record)
        return passed

    @staticmethod
    def _dispatch(record: CheckRecord) -> None:
        mode = current_mode()
        if _collectors:
            for records in _collectors:
                records.append(record)
        elif mode == MODE_COLLECT:
            publish(record)
        elif not record.passed:
            raise InvariantError(_failure_text(record))

    def __repr__(self) -> str:
        return f"<mlsysim check guard, mode={current_mode()!r}>"


check = Check()
