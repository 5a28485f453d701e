"""Rounding numbers for print, and the guard rule that keeps a rounding honest.

Rounding is round-half-up on the shortest decimal repr of the float (0.125 -> 0.13).

Guard rule (``FormatError``): with ``sig`` significant digits, the printed number must lie within
half a unit of the ``sig``-th significant digit of the true value,
``|printed - value| <= 0.5 * 10**(floor(log10|value|) - sig + 1)``, and a nonzero value must never
print as 0. Rounding to ``sig`` digits always satisfies it; a fixed ``decimals=`` that drops
digits the author asked for (10.7 at ``decimals=0`` with ``sig=3`` prints ``11``) violates it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from mlsysim.errors import FormatError

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class Digits:
    """A rounded number: ``mantissa`` (decimal string, no grouping) times ``10**exponent``."""

    mantissa: str
    exponent: int = 0
    value: float = 0.0  # the rounded number as a float (mantissa * 10**exponent)

    def render(self, style: str) -> str:
        mantissa = _group(self.mantissa, style)
        if self.exponent == 0:
            return mantissa
        if style == "latex":
            return f"{mantissa} \\times 10^{{{self.exponent}}}"
        if style == "markdown":
            return f"{mantissa} × 10^{self.exponent}^"
        return f"{mantissa} × 10{str(self.exponent).translate(_SUPERSCRIPT)}"


def _group(number: str, style: str) -> str:
    """Thousands separators for integer parts of 5+ digits: 12,288 (``12{,}288`` in LaTeX)."""
    sign, body = ("-", number[1:]) if number.startswith("-") else ("", number)
    whole, dot, frac = body.partition(".")
    if len(whole) >= 5:
        separator = "{,}" if style == "latex" else ","
        groups = []
        while whole:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        whole = separator.join(groups)
    return f"{sign}{whole}{dot}{frac}"


def _quantize(value: float, decimals: int) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)


def _leading_exponent(value: float) -> int:
    """Power of ten of the leading digit (exact, via Decimal: 1000 -> 3, 0.000999 -> -4)."""
    return Decimal(repr(float(value))).adjusted() if value else 0


def _as_text(number: Decimal) -> str:
    return format(abs(number) if number == 0 else number, "f")  # never print "-0"


def round_digits(
    value: float, sig: int = 3, decimals: int | None = None, notation: str = "auto"
) -> Digits:
    """Round ``value`` for print and apply the guard rule (see the module docstring).

    ``notation``: ``"auto"`` (positional for 1e-3 <= |x| < 1e6, else scientific),
    ``"positional"``, ``"sci"`` (one leading digit) or ``"eng"`` (exponent a multiple of 3).
    """
    require_finite(value)
    if not isinstance(sig, int) or sig < 1:
        raise FormatError(f"sig must be a positive integer, got {sig!r}")
    if decimals is not None and (not isinstance(decimals, int) or decimals < 0):
        raise FormatError(f"decimals must be a non-negative integer, got {decimals!r}")
    if value == 0:
        return Digits("0" if decimals is None else _as_text(_quantize(0.0, decimals)), 0, 0.0)
    if decimals is not None:
        rounded = _quantize(value, decimals)
        _guard(value, float(rounded), sig, f"{decimals} decimals")
        return Digits(_as_text(rounded), 0, float(rounded))
    exponent = _leading_exponent(float(_quantize_sig(value, sig)))
    if notation == "auto":
        notation = auto_notation(value, sig)
    if notation == "positional":
        rounded = _quantize_sig(value, sig)
        return Digits(_as_text(rounded), 0, float(rounded))
    if notation not in ("sci", "eng"):
        raise FormatError(
            f"notation must be 'auto', 'positional', 'sci' or 'eng', not {notation!r}"
        )
    shift = exponent if notation == "sci" else 3 * math.floor(exponent / 3)
    scaled = _quantize_sig(float(Decimal(repr(float(value))).scaleb(-shift)), sig)
    return Digits(_as_text(scaled), shift, float(scaled.scaleb(shift)))


def auto_notation(value: float, sig: int = 3) -> str:
    """``"positional"`` for 0 and 1e-3 <= |x| < 1e6 (rounded to ``sig`` digits), else ``"sci"``."""
    if value == 0:
        return "positional"
    exponent = _leading_exponent(float(_quantize_sig(value, sig)))
    return "positional" if -3 <= exponent < 6 else "sci"


def _quantize_sig(value: float, sig: int) -> Decimal:
    rounded = _quantize(value, sig - 1 - _leading_exponent(value))
    # 999.7 at 3 sig rounds up to 1000: re-round at the new exponent to keep exactly sig digits
    return _quantize(value, sig - 1 - _leading_exponent(float(rounded)))


def _guard(value: float, printed: float, sig: int, how: str) -> None:
    if printed == 0:
        raise FormatError(
            f"{value!r} would print as 0 at {how}; a nonzero value must not vanish "
            "(use more decimals or sig= instead)"
        )
    tolerance = 0.5 * 10.0 ** (_leading_exponent(value) - sig + 1)
    if abs(printed - value) > tolerance * (1 + 1e-9):
        raise FormatError(
            f"{value!r} at {how} prints {printed!r}, hiding precision: the error "
            f"{abs(printed - value):.3g} exceeds half a unit in significant digit {sig} "
            f"({tolerance:.3g}); pass a smaller sig= to state the coarser precision"
        )


def require_finite(value: float, unit: str = "") -> None:
    """FormatError for NaN and ±inf, naming the value and its ``unit`` text (``inf W``)."""
    shown = f" {unit}" if unit else ""
    if math.isnan(value):
        raise FormatError(f"cannot format NaN{shown}: the computation upstream produced no number")
    if math.isinf(value):
        raise FormatError(
            f"cannot format {value!r}{shown}: an infinite value has no printable size"
        )
