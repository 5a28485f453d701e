"""Numbers for prose: ``fmt`` and its helpers, with guards against misleading roundings.

Every function returns a ``Formatted`` (a ``str``) in one of three styles: ``"text"`` (plain
Unicode: ``989 TFLOP/s``), ``"latex"`` (TeX math-mode content for ``$...$``:
``989\\,\\mathrm{TFLOP/s}``) or ``"markdown"`` (Pandoc markdown, special characters escaped).
Rounding and its guard rule (a nonzero value never prints as 0; no rounding hides more than the
stated ``sig``) live in ``mlsysim.viz.rounding``; unit text in ``mlsysim.viz.unit_text``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from mlsysim.errors import FormatError
from mlsysim.viz.rounding import Digits, auto_notation, require_finite, round_digits
from mlsysim.viz.unit_text import (
    LATEX_SPECIAL,
    count_factors,
    display_unit,
    escape_markdown,
    latex_text,
    parse_unit,
    registry,
    require_ascii_latex,
    unit_label,
    unit_name,
)

STYLES = ("text", "latex", "markdown")

# Scale words for counts and money (not SI units): 7.0e9 params -> "7.00 B params".
_SCALE_WORDS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))
_SI_PREFIXES = ("", "k", "M", "G", "T", "P", "E")
_BINARY_PREFIXES = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
# fmt_time's ladder, largest first: (pint unit, seconds per unit, singular, plural).
_TIME_UNITS = (
    ("year", 365.25 * 86400, "year", "years"),
    ("day", 86400.0, "day", "days"),
    ("hour", 3600.0, "h", "h"),
    ("minute", 60.0, "min", "min"),
    ("second", 1.0, "s", "s"),
    ("millisecond", 1e-3, "ms", "ms"),
    ("microsecond", 1e-6, "µs", "µs"),
    ("nanosecond", 1e-9, "ns", "ns"),
)


class Formatted(str):
    """A formatted number: a ``str`` that also knows its value and its other renderings.

    ``_repr_markdown_`` makes Quarto/Jupyter insert it verbatim (latex style is meant to sit
    inside ``$...$``); ``_invariants_value_`` gives the verifier the published magnitude/unit.
    The LaTeX rendering is ASCII: asking for it (``style="latex"`` or ``.latex``) when a
    character has no TeX form (``ü`` in a noun, ``€``) is a FormatError naming the character.
    """

    magnitude: float
    unit: str | None
    style: str
    text: str
    markdown: str

    def __new__(cls, renderings: dict[str, str], style: str, magnitude: float, unit: str | None):
        if style == "latex":
            require_ascii_latex(renderings["latex"])
        self = super().__new__(cls, renderings[style])
        self.style = style
        self.magnitude = magnitude
        self.unit = unit
        self.text = renderings["text"]
        self._latex = renderings["latex"]
        self.markdown = renderings["markdown"]
        return self

    @property
    def latex(self) -> str:
        """The LaTeX rendering (math content for ``$...$``, ASCII only)."""
        return require_ascii_latex(self._latex)

    def renderings(self) -> dict[str, str]:
        """All three renderings by style (the LaTeX one unchecked, as built)."""
        return {"text": self.text, "latex": self._latex, "markdown": self.markdown}

    def __getnewargs__(self) -> tuple:  # pickle and copy rebuild all renderings
        return (self.renderings(), self.style, self.magnitude, self.unit)

    def _repr_markdown_(self) -> str:
        if self.style == "text":
            return escape_markdown(str(self))
        return str(self)  # markdown is already escaped; latex is math content, verbatim

    def _invariants_value_(self) -> dict[str, Any]:
        return {"magnitude": self.magnitude, "unit": self.unit}

    def __repr__(self) -> str:
        return f"Formatted({str(self)!r})"


# ------------------------------------------------------------------------------ value coercion


def _is_quantity(value: Any) -> bool:
    return hasattr(value, "magnitude") and hasattr(value, "units") and hasattr(value, "m_as")


def _real(value: Any, what: str = "value") -> float:
    """A plain float from an int/float/numpy scalar; anything else is a FormatError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if hasattr(value, "shape") and getattr(value, "shape", ()) == ():
            return _real(value.item(), what)
        raise FormatError(
            f"{what} must be one real number (int, float, numpy scalar or Quantity), "
            f"got {type(value).__name__}: {value!r}"
        )
    number = float(value)
    require_finite(number)
    return number


def _magnitude_in(value: Any, unit: str | None) -> tuple[float, Any]:
    """(magnitude, pint Unit or None): ``value`` converted to ``unit`` when both are known.

    A plain number with a ``unit`` is taken to be in that unit already (a label).
    """
    from pint import DimensionalityError

    if _is_quantity(value):
        if unit is None:
            return _real(value.magnitude), value.units
        target = parse_unit(unit)
        try:
            return _real(value.m_as(target)), target
        except DimensionalityError as err:
            raise FormatError(
                f"cannot print {value:~P} in {unit!r}: {unit_label(value.units)} "
                f"({err.dim1}) does not convert to {unit} ({err.dim2})"
            ) from None
    number = _real(value)
    return number, (parse_unit(unit) if unit is not None else None)


def _compose(digits: Digits, unit_text: str, *, tight: bool = False, prefix: str = "") -> dict:
    """The three renderings of ``prefix + number + unit`` (``tight``: no space, as 12%/3.2×)."""
    renderings = {}
    sign = "-" if digits.mantissa.startswith("-") else ""
    unsigned = Digits(digits.mantissa.lstrip("-"), digits.exponent, abs(digits.value))
    for style in STYLES:
        number = unsigned.render(style)
        if not unit_text:
            unit = ""
        elif style == "latex":
            unit = _latex_unit(unit_text, tight)
        elif style == "markdown":
            unit = ("" if tight else " ") + escape_markdown(unit_text)
        else:
            unit = ("" if tight else " ") + unit_text
        lead = {"latex": _latex_prefix(prefix), "markdown": escape_markdown(prefix)}.get(
            style, prefix
        )
        renderings[style] = f"{sign}{lead}{number}{unit}"
    return renderings


def _latex_prefix(prefix: str) -> str:
    # a bare \$ right after the opening $ of $...$ makes pandoc end the math early: brace it
    return "".join("{" + LATEX_SPECIAL[c] + "}" if c in LATEX_SPECIAL else c for c in prefix)


def _latex_unit(unit_text: str, tight: bool) -> str:
    if unit_text == "%":
        return r"\%"
    if unit_text == "×":
        return r"\times"
    return ("" if tight else r"\,") + latex_text(unit_text)


def _check_style(style: str) -> None:
    if style not in STYLES:
        raise FormatError(f"style must be one of {', '.join(STYLES)}; got {style!r}")


# ------------------------------------------------------------------------------- public API


def fmt(
    value: Any,
    unit: str | None = None,
    sig: int = 3,
    style: str = "text",
    *,
    decimals: int | None = None,
    notation: str = "auto",
) -> Formatted:
    """Format one number (float, int, numpy scalar or pint Quantity) for prose.

    A Quantity is converted to ``unit`` (FormatError naming both units if it cannot be); a plain
    number is taken to be in ``unit`` already. ``fmt(Q_(989.4e12, "flop/s"), "TFLOP/s")`` ->
    ``989 TFLOP/s``. Python ints below 1e6 print exactly (``fmt(8)`` -> ``8``).
    """
    _check_style(style)
    magnitude, pint_unit = _magnitude_in(value, unit)
    exact_int = (
        isinstance(value, numbers.Integral)
        and abs(magnitude) < 1e6
        and decimals is None
        and notation == "auto"
    )
    digits = (
        Digits(str(int(magnitude)), 0, magnitude)
        if exact_int
        else round_digits(magnitude, sig, decimals, notation)
    )
    unit_text = display_unit(pint_unit, one=_is_one(digits))
    tight = unit_text in ("%", "×")
    renderings = _compose(digits, unit_text, tight=tight)
    return Formatted(renderings, style, magnitude, unit_name(pint_unit))


def _is_one(digits: Digits) -> bool:
    """The number prints as exactly ``1`` (or ``-1``): its count unit reads singular."""
    return digits.mantissa.lstrip("-") == "1" and digits.exponent == 0


def fmt_percent(
    fraction: Any, sig: int = 3, style: str = "text", *, decimals: int | None = None
) -> Formatted:
    """A fraction as a percentage: ``fmt_percent(0.4567)`` -> ``45.7%`` (LaTeX ``45.7\\%``)."""
    _check_style(style)
    value = _dimensionless(fraction, "fraction") * 100.0
    digits = round_digits(value, sig, decimals)
    return Formatted(_compose(digits, "%", tight=True), style, value, "percent")


def fmt_multiple(
    ratio: Any, sig: int = 3, style: str = "text", *, decimals: int | None = None
) -> Formatted:
    """A ratio or speedup: ``fmt_multiple(3.24)`` -> ``3.24×`` (LaTeX ``3.24\\times``)."""
    _check_style(style)
    value = _dimensionless(ratio, "ratio")
    digits = round_digits(value, sig, decimals)
    return Formatted(_compose(digits, "×", tight=True), style, value, None)


def fmt_range(
    low: Any,
    high: Any,
    unit: str | None = None,
    sig: int = 3,
    style: str = "text",
    *,
    decimals: int | None = None,
) -> Formatted:
    """A range with an en dash and one shared unit: ``fmt_range(150, 160, "×")`` -> ``150–160×``.

    ``unit="×"`` formats multiples, ``"%"`` takes plain numbers as percent values, any other
    unit is a pint unit (Quantities are converted). ``low`` must not exceed ``high``, and the
    two ends must not print the same, equal ends included (a collapsed range misleads). Both
    ends share one notation: positional, or scientific when either end needs it.
    """
    _check_style(style)
    marker = unit in ("×", "x")
    if marker:
        lo, hi, pint_unit = _dimensionless(low, "low"), _dimensionless(high, "high"), None
    else:
        if unit is None:
            unit = next((format(v.units, "D") for v in (low, high) if _is_quantity(v)), None)
        (lo, pint_unit), (hi, _) = _magnitude_in(low, unit), _magnitude_in(high, unit)
    if lo > hi:
        raise FormatError(f"range low end {lo!r} exceeds high end {hi!r}")
    if lo == hi:
        raise FormatError(f"range low and high ends are both {lo!r}; print one value with fmt")
    # one notation for both ends: positional unless either end needs scientific notation
    both = {auto_notation(end, sig) for end in (lo, hi)}
    notation = "sci" if "sci" in both else "positional"
    lo_digits = round_digits(lo, sig, decimals, notation)
    hi_digits = round_digits(hi, sig, decimals, notation)
    if (lo_digits.mantissa, lo_digits.exponent) == (hi_digits.mantissa, hi_digits.exponent):
        raise FormatError(
            f"range {lo!r}–{hi!r} prints as a single number {lo_digits.render('text')!r} at "
            f"sig={sig}; raise sig= or print one value"
        )
    unit_text = "×" if marker else display_unit(pint_unit)
    tight = unit_text in ("%", "×")
    low_r = _compose(lo_digits, "")
    high_r = _compose(hi_digits, unit_text, tight=tight)
    dash = {"text": "–", "markdown": "–", "latex": r"\text{--}"}
    renderings = {s: f"{low_r[s]}{dash[s]}{high_r[s]}" for s in STYLES}
    return Formatted(renderings, style, (lo + hi) / 2, unit_name(pint_unit))


def fmt_sci(value: Any, unit: str | None = None, sig: int = 3, style: str = "text") -> Formatted:
    """Scientific notation: ``fmt_sci(3.14e23, "FLOP")`` -> ``3.14 × 10²³ FLOP``."""
    return fmt(value, unit, sig, style, notation="sci")


def fmt_eng(value: Any, unit: str | None = None, sig: int = 3, style: str = "text") -> Formatted:
    """Engineering notation (exponent a multiple of 3): ``fmt_eng(31400)`` -> ``31.4 × 10³``."""
    return fmt(value, unit, sig, style, notation="eng")


def _scaled(value: float, sig: int) -> tuple[Digits, str]:
    """Round with a K/M/B/T scale word; beyond 1e15 fall back to scientific notation."""
    for scale, word in _SCALE_WORDS:
        digits = round_digits(value / scale, sig, None, "positional")
        if abs(digits.value) >= 1 and abs(value) < 1e15:
            return digits, word
    if abs(value) >= 1e15:
        return round_digits(value, sig, None, "sci"), ""
    return round_digits(value, sig), ""  # below 1: positional down to 1e-3, then scientific


def fmt_count(value: Any, noun: str | None = None, sig: int = 3, style: str = "text") -> Formatted:
    """A count with a scale word K/M/B/T (thousand, million, billion, trillion).

    ``fmt_count(Q_(7e9, "param"))`` -> ``7.00 B params``; ``fmt_count(512, "tokens")`` ->
    ``512 tokens`` (integers below 1000 print exactly). ``noun`` defaults to the Quantity's unit.
    Publishes the unscaled count (scale words are not units).
    """
    _check_style(style)
    published = None
    units = None
    if _is_quantity(value):
        published, units = unit_name(value.units), value.units
        value = _dimensionless(value, "count")
    number = _real(value, "count")
    if number.is_integer() and abs(number) < 1000:
        digits, word = Digits(str(int(number)), 0, number), ""
    else:
        digits, word = _scaled(number, sig)
    if noun is None and units is not None:
        noun = display_unit(units, one=_is_one(digits) and not word) or None
    label = " ".join(part for part in (word, noun or "") if part)
    return Formatted(_compose(digits, label), style, number, published)


def fmt_currency(value: Any, sig: int = 3, style: str = "text", *, symbol: str = "$") -> Formatted:
    """Money in US dollars with a scale word: ``fmt_currency(1.2e6)`` -> ``$1.20 M``.

    Accepts a Quantity in ``USD`` (or a plain number of dollars). Publishes unscaled dollars.
    """
    _check_style(style)
    number, _ = _magnitude_in(value, "USD") if _is_quantity(value) else (_real(value), None)
    digits, word = _scaled(number, sig)
    return Formatted(_compose(digits, word, prefix=symbol), style, number, "USD")


def fmt_time(value: Any, sig: int = 3, style: str = "text") -> Formatted:
    """A duration in the largest human unit that keeps it >= 1: ns, µs, ms, s, min, h, days,
    years (365.25 days). A plain number is seconds. ``fmt_time(0.0042)`` -> ``4.20 ms``."""
    _check_style(style)
    seconds = _real(_magnitude_in(value, "second")[0] if _is_quantity(value) else value)
    ladder = _TIME_UNITS if seconds else _TIME_UNITS[4:5]  # zero prints as "0 s"
    for entry in ladder:
        digits = round_digits(seconds / entry[1], sig, None, "positional")
        if abs(digits.value) >= 1:
            break
    pint_unit, size, singular, plural = entry
    if abs(digits.value) >= 1e6 or (seconds and abs(digits.value) < 1e-3):
        digits = round_digits(seconds / size, sig, None, "sci")
    label = singular if digits.mantissa.lstrip("-") == "1" else plural
    return Formatted(_compose(digits, label), style, seconds / size, pint_unit)


def _prefixed(
    value: Any, base: str, sig: int, style: str, binary: bool, per_second: bool
) -> Formatted:
    prefixes = _BINARY_PREFIXES if binary else _SI_PREFIXES
    step = 1024.0 if binary else 1000.0
    rate = "/s" if per_second else ""
    chosen = 0
    for index in range(len(prefixes) - 1, -1, -1):
        digits = round_digits(value / step**index, sig, None, "positional")
        if abs(digits.value) >= 1:
            chosen = index
            break
    if chosen == len(prefixes) - 1 and abs(value / step**chosen) >= 1000:
        chosen = 0  # beyond the largest prefix: 3.14 × 10²³ FLOP, not 314,000 EFLOP
        digits = round_digits(value, sig, None, "sci")
    elif value and abs(value) < 1e-3:
        digits = round_digits(value, sig, None, "sci")
    else:
        digits = round_digits(value / step**chosen, sig, None, "positional")
    symbol = f"{prefixes[chosen]}{base}"
    pint_unit = registry().Unit(f"{symbol if base != 'FLOP' else prefixes[chosen] + 'flop'}{rate}")
    magnitude = value / step**chosen
    return Formatted(_compose(digits, symbol + rate), style, magnitude, unit_name(pint_unit))


def fmt_bytes(value: Any, sig: int = 3, style: str = "text", *, binary: bool = False) -> Formatted:
    """A data size or bandwidth with a stated prefix system: SI (``80.0 GB``, 1 GB = 1e9 B) or
    ``binary=True`` (``74.5 GiB``, 1 GiB = 2**30 B). ``byte/s`` Quantities print as ``GB/s``.
    A plain number is bytes. Quantities must be in byte or bit units (not params or tokens)."""
    _check_style(style)
    number, per_second = _data_amount(value, "byte", "bytes (B, GB, GiB, bit...)")
    return _prefixed(number, "B", sig, style, binary, per_second)


def fmt_flops(
    value: Any, sig: int = 3, style: str = "text", *, rate: bool | None = None
) -> Formatted:
    """Floating-point operations with SI prefixes up to exa: ``1.23 PFLOP`` or, for a
    ``flop/s`` Quantity (or ``rate=True``), ``989 TFLOP/s``. Beyond E, scientific notation."""
    _check_style(style)
    if _is_quantity(value):
        number, per_second = _data_amount(value, "flop", "flop or flop/s")
    else:
        number, per_second = _real(value), bool(rate)
    return _prefixed(number, "FLOP", sig, style, False, per_second)


def _data_amount(value: Any, base: str, expected: str) -> tuple[float, bool]:
    if not _is_quantity(value):
        return _real(value), False
    for unit, per_second in ((base, False), (f"{base}/second", True)):
        name = format(value.units, "D")
        if base == "byte" and "byte" not in name and "bit" not in name:
            break
        if value.dimensionality == registry().Unit(unit).dimensionality:
            return _real(value.m_as(unit)), per_second
    raise FormatError(
        f"expected {expected}, got {value:~P} ({unit_label(value.units)} does not convert)"
    )


def _dimensionless(value: Any, what: str) -> float:
    if _is_quantity(value):
        if not value.dimensionless:
            raise FormatError(
                f"{what} must be dimensionless, got {value:~P} ({unit_label(value.units)} does "
                "not convert to dimensionless)"
            )
        return _real(value.m_as(""), what)
    return _real(value, what)


# ------------------------------------------------------------------------- table fields

# Units a field is re-prefixed within, smallest first: 0.00697 W -> 6.97 mW, 610,366 kWh ->
# 610 MWh. Keyed by (dimensionality name, whether the stored unit is an hour-based energy).
_LADDERS = {
    "power": ("nW", "µW", "mW", "W", "kW", "MW", "GW"),
    "watt_hour": ("mWh", "Wh", "kWh", "MWh", "GWh", "TWh"),
    "joule": ("nJ", "µJ", "mJ", "J", "kJ", "MJ", "GJ"),
    "carbon": ("gCO2e", "kgCO2e", "tCO2e"),
}
_RATE_WORDS = {"year": "yr", "day": "day", "hour": "h", "minute": "min", "second": "s"}


def fmt_field(
    value: Any,
    style: str = "text",
    *,
    fraction: bool = False,
    sig: int = 3,
    allow_nan: bool = False,
) -> Formatted | str:
    """One value of a table (a Ledger export, a scorecard cell), readable at a glance.

    Durations in human units (``fmt_time``: ``2.63 min``); power, energy and carbon re-prefixed
    (``7.55 mW``, ``661 MWh``, ``15.2 t CO₂e``); money with ``fmt_currency``; FLOPs and bytes
    with their prefixes; per-time rates as ``200,000/yr``; ``fraction=True`` dimensionless
    values as percent (MFU ``1.80%``); other numbers positional up to 1e15 (``10,000,000``).
    A value per token, param or sample is the rest of it, so printed, then ``/token``
    (``500 mJ/token``, ``$0.00200/token``); a count of them reads ``7.00 B params``.
    Text passes through, booleans read yes/no, None ``n/a``. NaN and ±inf are a FormatError
    naming the value; ``allow_nan=True`` (a table showing what it holds) prints ``nan``/``inf``.
    Numbers return a ``Formatted`` (latex style: math content for ``$...$``).
    """
    _check_style(style)
    if value is None:
        return "n/a"
    if type(value).__name__ in ("bool", "bool_"):  # Python and numpy booleans
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    quantity = _is_quantity(value)
    try:
        number = float(value.magnitude if quantity else value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(number):
        if allow_nan:
            return str(number)
        require_finite(number, display_unit(value.units) if quantity else "")
    if not quantity:
        return _plain_number(value, style, fraction, sig)
    return _field_quantity(value, style, fraction, sig)


def _plain_number(value: Any, style: str, fraction: bool, sig: int) -> Formatted:
    if fraction:
        return fmt_percent(value, sig, style)
    number = _real(value)
    if number.is_integer() and abs(number) < 1e15:
        digits = Digits(str(int(number)), 0, number)
        return Formatted(_compose(digits, ""), style, number, None)
    notation = "positional" if 1e-3 <= abs(number) < 1e15 else "auto"
    return fmt(number, None, sig, style, notation=notation)


def _field_quantity(value: Any, style: str, fraction: bool, sig: int) -> Formatted:
    counts = count_factors(value.units)
    if counts:
        return _field_count(value, counts, style, sig)
    dimensionality = value.dimensionality
    if value.dimensionless:
        return _plain_number(_dimensionless(value, "value"), style, fraction, sig)
    ladder = _ladder_of(value)
    if ladder is not None:
        return _reprefixed(value, ladder, sig, style)
    if dimensionality == {"[time]": 1}:
        return fmt_time(value, sig, style)
    if dimensionality == {"[time]": -1} and _rate_word(value) is not None:
        return _rate(value, sig, style)
    if dimensionality == {"[currency]": 1}:
        return fmt_currency(value, sig, style)
    if dimensionality in ({"[compute]": 1}, {"[compute]": 1, "[time]": -1}):
        return fmt_flops(value, sig, style)
    if dimensionality in ({"[information]": 1}, {"[information]": 1, "[time]": -1}):
        return fmt_bytes(value, sig, style)
    return fmt(value, None, sig, style)


def _field_count(value: Any, counts: dict[str, Any], style: str, sig: int) -> Formatted:
    """A field holding a count unit: per count, the rest as a field then ``/token``
    (``500 mJ/token``); a bare count with its scale word (``7.00 B params``); else ``fmt``."""
    name, exponent = next(iter(counts.items())) if len(counts) == 1 else (None, None)
    if exponent == 1 and value.dimensionless:
        return fmt_count(value, None, sig, style)
    if exponent != -1:
        return fmt(value, None, sig, style)
    count = registry().Unit(name)
    rest = value * count  # J/token x token = J, magnitude unchanged
    inner = (
        _plain_number(_real(rest.m_as("")), style, False, sig)
        if rest.dimensionless
        else _field_quantity(rest, style, False, sig)
    )
    per = "/" + display_unit(count, one=True)
    suffix = {"text": per, "latex": latex_text(per), "markdown": escape_markdown(per)}
    renderings = {s: text + suffix[s] for s, text in inner.renderings().items()}
    published = (parse_unit(inner.unit) if inner.unit else registry().Unit("")) / count
    return Formatted(renderings, style, inner.magnitude, unit_name(published))


def _ladder_of(value: Any) -> tuple[str, ...] | None:
    ureg = registry()
    if value.dimensionality == ureg.watt.dimensionality:
        return _LADDERS["power"]
    if value.dimensionality == ureg.joule.dimensionality:
        hourly = "hour" in format(value.units, "D")
        return _LADDERS["watt_hour" if hourly else "joule"]
    if value.dimensionality == ureg.gCO2e.dimensionality:
        return _LADDERS["carbon"]
    return None


def _reprefixed(value: Any, ladder: tuple[str, ...], sig: int, style: str) -> Formatted:
    """``value`` in the largest unit of ``ladder`` that keeps it >= 1 (the smallest below)."""
    chosen = ladder[0]
    for unit in ladder:
        digits = round_digits(value.m_as(unit), sig, None, "positional")
        if abs(digits.value) >= 1:
            chosen = unit
    number = _real(value.m_as(chosen))
    notation = "positional" if 1e-3 <= abs(number) < 1e6 or number == 0 else "sci"
    return fmt(number, chosen, sig, style, notation=notation)


def _rate_word(value: Any) -> str | None:
    name = format(value.units, "D")
    if not name.startswith("1 / "):
        return None
    return _RATE_WORDS.get(name[4:])


def _rate(value: Any, sig: int, style: str) -> Formatted:
    """A per-time rate in its own time unit: ``200,000/yr``, ``5,000/day``."""
    number = _real(value.magnitude)
    notation = "positional" if 1e-3 <= abs(number) < 1e15 else "auto"
    digits = round_digits(number, sig, None, notation)
    word = "/" + _rate_word(value)
    return Formatted(_compose(digits, word, tight=True), style, number, unit_name(value.units))
