"""Unit text for prose: pint names parsed and published, readable units, LaTeX and Markdown.

``display_unit`` turns pint's short form into what a reader expects (``TFLOP/s``, ``kg CO₂e``,
``J/token``); ``latex_text`` makes upright ASCII TeX valid inside ``$...$``;
``escape_markdown`` protects Pandoc's special characters.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

from mlsysim.errors import FormatError

MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#$^~|])")
LATEX_SPECIAL = {"%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "&": r"\&", "{": r"\{"}
LATEX_SPECIAL["}"] = r"\}"


def registry() -> Any:
    from mlsysim.core.units import get_registry

    return get_registry()


def unit_label(units: Any) -> str:
    """Short unit text for error messages; a bare number's unit reads ``dimensionless``."""
    return format(units, "~P") or "dimensionless"


def parse_unit(unit: str) -> Any:
    """A pint Unit from its name; an unknown name is a FormatError saying what to use."""
    try:
        return registry().Unit(unit)
    except Exception as err:  # pint raises assorted types (even AssertionError) for bad names
        raise FormatError(
            f"unknown unit {unit!r} ({err}); use a pint unit such as 'TFLOP/s', 'GB/s', 'ms', "
            "or fmt_multiple / fmt_percent for × and %"
        ) from None


def unit_name(unit: Any) -> str | None:
    """The published (pint-parsable, long-form) unit string: ``teraflop / second``."""
    if unit is None:
        return None
    name = format(unit, "D")
    return None if name in ("", "dimensionless") else name


_TOKEN = re.compile(r"[A-Za-zµ][A-Za-z0-9µ]*")
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻"


@functools.cache
def is_count_unit(name: str) -> bool:
    """A counting unit (``token``, ``param``, ``sample``): dimensionless, and its symbol is its
    plural (``token = [] = tokens`` in ``units_definitions.txt``). Prefixes aside."""
    ureg = registry()
    return ureg.get_symbol(name) == name + "s" and not ureg.get_dimensionality(name)


def _count_base(name: str) -> str | None:
    """The count unit under a unit name or symbol (``megatoken``/``Mtokens`` -> ``token``)."""
    for _, base, _ in registry().parse_unit_name(name):
        if is_count_unit(base):
            return base
    return None


def count_factors(unit: Any) -> dict[str, Any]:
    """The count units of ``unit`` (prefixed ones too) and their exponents: ``J/token`` ->
    ``{"token": -1}``, ``USD/Mtoken`` -> ``{"megatoken": -1}``, ``W`` -> ``{}``."""
    items = registry().Quantity(1, unit).unit_items()
    return {name: exponent for name, exponent in items if _count_base(name)}


def _singular(symbol: str) -> str:
    """``tokens`` -> ``token``, ``Mtokens`` -> ``Mtoken``; any other symbol unchanged."""
    base = _count_base(symbol) if symbol.endswith("s") else None
    return symbol[:-1] if base and symbol.endswith(base + "s") else symbol


def _display_token(token: str) -> str:
    if token.endswith("FLOPs"):
        return token[:-1] + "/s"
    if token.endswith("CO2eq") or token.endswith("CO2e"):
        return token[: token.index("CO2")] + " CO₂e"
    return {"dollar": "USD", "a": "yr"}.get(token, token)


def display_unit(unit: Any, *, one: bool = False) -> str:
    """Readable unit text: ``TFLOP/s``, ``GB/s``, ``ms``, ``kg CO₂e``, ``FLOP/byte``.

    A count unit reads plural only where English wants it, as a numerator to the first power
    (``tokens/s``, ``params``); per count or powered it is singular (``J/token``, ``B/param``,
    ``token²``), and ``one=True`` (the number printed is exactly 1) makes it singular throughout.
    """
    if unit is None:
        return ""
    short = format(unit, "~P")
    if short in ("", "dimensionless"):
        return ""
    slash = short.find("/")

    def readable(match: re.Match[str]) -> str:
        token = match.group(0)
        per_count = 0 <= slash < match.start()
        powered = short[match.end() : match.end() + 1] in tuple(_SUPERSCRIPTS)
        return _display_token(_singular(token) if one or per_count or powered else token)

    text = _TOKEN.sub(readable, short).replace(" / ", "/")
    return "FLOP/byte" if text == "FLOP/B" else text


_SUPERSCRIPT_RUN = re.compile(f"[{_SUPERSCRIPTS}]+")
_SUBSCRIPT_RUN = re.compile("[₀₁₂₃₄₅₆₇₈₉]+")
_LATEX_CHARS = {" ": r"\,", "µ": r"\mu ", "·": r"\cdot ", "-": r"\text{-}", "Å": r"\mathring{A}"}
# TeX has a command for every small Greek letter but omicron, and for these capitals only
# (the rest look Latin: Alpha is A)
_TEX_CAPITALS = {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi"}
_TEX_CAPITALS.add("Omega")
_DEGREE = "°"


def _latex_char(char: str) -> str:
    """One character of unit text as TeX: ``Ω`` -> ``\\Omega``, ``µ`` -> ``\\mu``; ASCII and
    characters TeX has no command for pass through (``Formatted`` then refuses them)."""
    if char in LATEX_SPECIAL:
        return LATEX_SPECIAL[char]
    if char in _LATEX_CHARS:
        return _LATEX_CHARS[char]
    name = unicodedata.name(char, "").split()
    if name[:2] == ["GREEK", "CAPITAL"] or name[:2] == ["GREEK", "SMALL"]:
        small = name[1] == "SMALL"
        letter = name[-1].lower() if small else name[-1].capitalize()
        if letter in _TEX_CAPITALS or (small and letter != "omicron"):
            return "\\" + letter + " "
    return char


def latex_text(text: str) -> str:
    """Upright TeX for unit or noun text, valid inside ``$...$``: ``\\mathrm{kg\\,CO_{2}e}``,
    ``^{\\circ}\\mathrm{C}`` (degrees), ``\\mathrm{k\\Omega }`` (Greek as TeX commands)."""
    parts = []
    for index, piece in enumerate(text.split(_DEGREE)):
        if index:
            parts.append(r"^{\circ}")
        if piece:
            out = "".join(_latex_char(char) for char in piece)
            out = _SUPERSCRIPT_RUN.sub(lambda run: "^{" + _plain_digits(run.group(0)) + "}", out)
            out = _SUBSCRIPT_RUN.sub(lambda run: "_{" + _plain_digits(run.group(0)) + "}", out)
            parts.append(r"\mathrm{" + out + "}")
    return "".join(parts)


def _plain_digits(run: str) -> str:
    return run.translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻₀₁₂₃₄₅₆₇₈₉", "0123456789-0123456789"))


def require_ascii_latex(latex: str) -> str:
    """``latex`` if it is ASCII (pdflatex-safe), else a FormatError naming the character."""
    for char in latex:
        if ord(char) > 127:
            name = unicodedata.name(char, f"U+{ord(char):04X}")
            raise FormatError(
                f"LaTeX output must be ASCII, but {char!r} ({name}) in {latex!r} has no TeX "
                "form; use style='text', or write the unit or noun in ASCII"
            )
    return latex


def escape_markdown(text: str) -> str:
    """Backslash-escape Pandoc markdown's special characters (``$``, ``*``, ``_``, ...)."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)
