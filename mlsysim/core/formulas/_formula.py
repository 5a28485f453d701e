"""The ``@formula`` decorator: one unit-checked public face, one raw fast path.

A formula's body is plain arithmetic on magnitudes in the units it declares (floats or numpy
arrays). The public wrapper converts each Quantity argument to its declared unit, raising pint's
``DimensionalityError`` with the argument's name, rejects non-positive sizes and counts that are
not whole numbers >= 1, and returns a Quantity in the declared result unit. ``fn.raw`` is the
undecorated body without those checks: the engine and sweeps call it on pre-converted, already
validated magnitudes, so a 10,000-point grid is one numpy expression.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mlsysim.core.units import Q_, is_quantity

DIMENSIONLESS = ("", "dimensionless", "1")


def formula(
    returns: str | tuple[str, ...] | None,
    *,
    positive: Sequence[str] = (),
    non_negative: Sequence[str] = (),
    counts: Sequence[str] = (),
    **arg_units: str,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare argument units (``peak="flop/s"``), the result unit(s) and the sign rules.

    ``positive`` sizes must be > 0, ``non_negative`` ones >= 0; ``counts`` (devices, servers,
    layers, batch sizes) must be whole numbers >= 1, every element of an array, and are
    dimensionless unless ``arg_units`` says otherwise. ``returns=None`` passes the body's result
    through (for labels such as a bottleneck name). Arguments not named pass through untouched.
    """
    arg_units = {**dict.fromkeys(counts, ""), **arg_units}

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(fn)
        named = set(arg_units) | set(positive) | set(non_negative)
        unknown = named - set(signature.parameters)
        if unknown:
            raise TypeError(
                f"@formula on {fn.__name__}() names unknown arguments {sorted(unknown)}"
            )

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            given = set(bound.arguments)
            bound.apply_defaults()
            values = bound.arguments
            for name, unit in arg_units.items():
                # Defaults are the body's own magnitudes, already in the declared unit.
                if name in given:
                    values[name] = to_magnitude(values[name], unit, name, fn.__name__)
            for name in positive:
                require_sign(values[name], name, fn.__name__, strict=True)
            for name in non_negative:
                require_sign(values[name], name, fn.__name__, strict=False)
            for name in counts:
                require_count(values[name], name, fn.__name__)
            result = fn(*bound.args, **bound.kwargs)
            return wrap_result(result, returns)

        wrapper.raw = fn  # type: ignore[attr-defined]
        wrapper.units = dict(arg_units)  # type: ignore[attr-defined]
        wrapper.returns = returns  # type: ignore[attr-defined]
        return wrapper

    return decorate


def to_magnitude(value: Any, unit: str, name: str, where: str) -> Any:
    """Magnitude of ``value`` in ``unit``; a wrong dimension names the argument."""
    from pint import DimensionalityError

    if value is None:
        return None
    if is_quantity(value):
        try:
            return value.m_as(unit) if unit not in DIMENSIONLESS else value.m_as("")
        except DimensionalityError as err:
            raise DimensionalityError(
                err.units1,
                err.units2,
                err.dim1,
                err.dim2,
                extra_msg=f" for argument '{name}' of {where}()",
            ) from None
    if unit in DIMENSIONLESS:
        return np.asarray(value, dtype=float) if isinstance(value, (list, tuple)) else value
    raise DimensionalityError(
        "dimensionless",
        unit,
        extra_msg=(
            f" for argument '{name}' of {where}(): pass a Quantity in {unit}, "
            f"e.g. Q_({value!r}, {unit!r})"
        ),
    )


def require_sign(value: Any, name: str, where: str, *, strict: bool) -> None:
    """Raise ``ValueError`` naming the argument when a size or count is <= 0 (or < 0)."""
    if value is None:
        return
    array = np.asarray(value, dtype=float)
    bad = np.any(array <= 0) if strict else np.any(array < 0)
    if bad or np.any(np.isnan(array)):
        rule = "> 0" if strict else ">= 0"
        raise ValueError(f"argument '{name}' of {where}() must be {rule}, got {value!r}")


def require_count(
    value: Any, name: str, where: str | None = None, *, required: bool = False
) -> None:
    """Raise ``ValueError`` naming the argument (and ``where``, the function it belongs to)
    unless every element is a whole number >= 1; a bool is no count. The one count rule and
    wording of the library: formulas pass their name, the engine its argument alone. None means
    "not given" and passes, unless the count is ``required``."""
    if value is None and not required:
        return
    if value is None:
        bad = True
    elif isinstance(value, (bool, np.bool_, str, bytes)) or getattr(
        getattr(value, "dtype", None), "kind", ""
    ) in ("b", "U", "S", "O"):
        bad = True  # True is 1 and "8" is 8.0 to numpy, but neither is a count of anything
    elif isinstance(value, (int, np.integer)):
        bad = value < 1  # scalar fast path: an int is whole
    else:
        array = np.asarray(value, dtype=float)
        bad = not (np.all(np.isfinite(array)) and np.all(array >= 1) and np.all(array % 1 == 0))
    if bad:
        of = f" of {where}()" if where else ""
        raise ValueError(
            f"argument '{name}'{of} must be a whole number >= 1 (a count), got {value!r}"
        )


def require_range(
    value: Any,
    name: str,
    where: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Raise ``ValueError`` naming the argument when a value leaves ``[low, high]``.

    ``low_open``/``high_open`` exclude the end point (``(0, 1]`` is ``low_open=True``).
    Cheap on arrays (two vectorised comparisons), so formula bodies may call it on the raw path.
    """
    if isinstance(value, (int, float, np.number)):  # scalar fast path: no array machinery
        smallest = largest = float(value)
    else:
        array = np.asarray(value, dtype=float)
        if array.size == 0:
            return
        smallest, largest = float(array.min()), float(array.max())  # NaN propagates
    bad = smallest != smallest or largest != largest
    if low is not None:
        bad = bad or (smallest <= low if low_open else smallest < low)
    if high is not None:
        bad = bad or (largest >= high if high_open else largest > high)
    if bad:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(
            f"argument '{name}' of {where}() must be in {left}{lo}, {hi}{right}, got {value!r}"
        )


def wrap_result(result: Any, returns: str | tuple[str, ...] | None) -> Any:
    if returns is None:
        return result
    if isinstance(returns, tuple):
        return tuple(Q_(part, unit) for part, unit in zip(result, returns, strict=True))
    return Q_(result, returns)
