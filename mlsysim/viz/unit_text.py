"""Unit text for prose: pint names parsed and published, readable units, LaTeX and Markdown.

``display_unit`` turns pint's short form into what a reader expects (``TFLOP/s``, ``kg CO₂e``);
``latex_text`` makes upright TeX valid inside ``$...$``; ``escape_markdown`` protects Pandoc's
special characters.
"""

from __future__ import annotations

import re
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


def _display_token(match: re.Match[str]) -> str:
    token = match.group(0)
    if token.endswith("FLOPs"):
        return token[:-1] + "/s"
    if token.endswith("CO2eq") or token.endswith("CO2e"):
        return token[: token.index("CO2")] + " CO₂e"
    return {"dollar": "USD", "a": "yr"}.get(token, token)


def display_unit(unit: Any) -> str:
    """Readable unit text: ``TFLOP/s``, ``GB/s``, ``ms``, ``kg CO₂e``, ``FLOP/byte``."""
    if unit is None:
        return ""
    short = format(unit, "~P")
    if short in ("", "dimensionless"):
        return ""
    text = _TOKEN.sub(_display_token, short).replace(" / ", "/")
    return "FLOP/byte" if text == "FLOP/B" else text


_SUPERSCRIPT_RUN = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+")
_LATEX_CHARS = {" ": r"\,", "µ": r"\mu ", "·": r"\cdot ", "₂": "_{2}", "-": r"\text{-}"}


def latex_text(text: str) -> str:
    """Upright TeX for unit or noun text, valid inside ``$...$``: ``\\mathrm{kg\\,CO_{2}e}``."""
    out = "".join(LATEX_SPECIAL.get(char) or _LATEX_CHARS.get(char, char) for char in text)
    plain = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
    out = _SUPERSCRIPT_RUN.sub(lambda run: "^{" + run.group(0).translate(plain) + "}", out)
    return r"\mathrm{" + out + "}"


def escape_markdown(text: str) -> str:
    """Backslash-escape Pandoc markdown's special characters (``$``, ``*``, ``_``, ...)."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)
