"""The check/golden wire protocol: the one contract between a book's library and the verifier.

A guard running inside a kernel in *collect mode* (``MLSYSIM_CHECK_MODE=collect`` in the kernel's
environment, set by the runner) does not raise. It publishes one record per call through IPython's
display system under the MIME type ``application/vnd.mlsysim.check+json``::

    IPython.display.display({MIME_CHECK: record.to_json()}, raw=True)

Record (JSON, schema ``CHECK_SCHEMA`` below, ``protocol`` = 1)::

    {"protocol": 1, "kind": "check" | "golden",
     "name": str | null,          # check.golden name, or an optional check name
     "message": str,              # the author's sentence, e.g. "H100 decode is memory-bound"
     "passed": bool,              # always true for kind == "golden" (the store judges it)
     "values": {"<label>": {"magnitude": number | [number...] | null,
                            "unit": str | null, "text": str}},
     "golden": null | {"magnitude": number, "unit": str | null, "text": str,
                       "rtol": number | null, "atol": number | null},
     "file": str, "line": int,    # the caller's file and line (a kernel cell's own line)
     "cell_file": str | null,     # optional: when file is not a kernel cell (a helper module
     "cell_line": int | null}     # the chapter imported), the innermost cell frame that led there

``cell_file``/``cell_line`` are optional and null when ``file`` is itself a cell or no cell is on
the stack; a payload without them (an older library) reads as null. They let the verifier place
a check written in a module at the ``.qmd`` line of the chapter code that called it.

Any library can speak it: nothing here imports a physics package. Values that know their own
published form expose ``_invariants_value_() -> {"magnitude", "unit"}``; pint Quantities are
read through ``.magnitude`` and ``.units``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field
from typing import Any

PROTOCOL_VERSION = 1
MIME_CHECK = "application/vnd.mlsysim.check+json"
ENV_MODE = "MLSYSIM_CHECK_MODE"
MODE_COLLECT = "collect"
MODE_RAISE = "raise"

_VALUE_SCHEMA = {
    "type": "object",
    "required": ["magnitude", "unit", "text"],
    "properties": {
        "magnitude": {"type": ["number", "array", "null"], "items": {"type": "number"}},
        "unit": {"type": ["string", "null"]},
        "text": {"type": "string"},
    },
}

CHECK_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": MIME_CHECK,
    "type": "object",
    "required": ["protocol", "kind", "name", "message", "passed", "values", "file", "line"],
    "properties": {
        "protocol": {"const": PROTOCOL_VERSION},
        "kind": {"enum": ["check", "golden"]},
        "name": {"type": ["string", "null"]},
        "message": {"type": "string"},
        "passed": {"type": "boolean"},
        "values": {"type": "object", "additionalProperties": _VALUE_SCHEMA},
        "golden": {
            "type": ["object", "null"],
            "required": ["magnitude", "unit", "text"],
            "properties": {
                "magnitude": {"type": "number"},
                "unit": {"type": ["string", "null"]},
                "text": {"type": "string"},
                "rtol": {"type": ["number", "null"]},
                "atol": {"type": ["number", "null"]},
            },
        },
        "file": {"type": "string"},
        "line": {"type": "integer", "minimum": 0},
        "cell_file": {"type": ["string", "null"]},
        "cell_line": {"type": ["integer", "null"], "minimum": 0},
    },
}


class ProtocolError(ValueError):
    """A payload that does not follow ``CHECK_SCHEMA``."""


@dataclass(frozen=True)
class PublishedValue:
    """A number as published: magnitude (or list of them), unit string, and its printed text."""

    magnitude: float | list[float] | None
    unit: str | None
    text: str


@dataclass(frozen=True)
class CheckRecord:
    """One ``check()`` or ``check.golden()`` call, as carried by the wire protocol."""

    kind: str
    message: str
    passed: bool
    file: str
    line: int
    name: str | None = None
    values: dict[str, PublishedValue] = field(default_factory=dict)
    golden: dict[str, Any] | None = None
    protocol: int = PROTOCOL_VERSION
    cell_file: str | None = None
    cell_line: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, payload: Any) -> CheckRecord:
        validate_payload(payload)
        values = {k: PublishedValue(**v) for k, v in payload["values"].items()}
        return cls(
            kind=payload["kind"],
            message=payload["message"],
            passed=payload["passed"],
            file=payload["file"],
            line=payload["line"],
            name=payload["name"],
            values=values,
            golden=payload.get("golden"),
            protocol=payload["protocol"],
            cell_file=payload.get("cell_file"),
            cell_line=payload.get("cell_line"),
        )


def validate_payload(payload: Any) -> None:
    """Check a payload against the essentials of ``CHECK_SCHEMA`` (no jsonschema dependency)."""
    if not isinstance(payload, dict):
        raise ProtocolError(f"check payload must be a JSON object, got {type(payload).__name__}")
    missing = [k for k in CHECK_SCHEMA["required"] if k not in payload]
    if missing:
        raise ProtocolError(f"check payload is missing {missing}")
    if payload["protocol"] != PROTOCOL_VERSION:
        raise ProtocolError(
            f"check payload speaks protocol {payload['protocol']!r}; this verifier reads "
            f"{PROTOCOL_VERSION}"
        )
    if payload["kind"] not in ("check", "golden"):
        raise ProtocolError(
            f"check payload kind must be 'check' or 'golden', got {payload['kind']!r}"
        )
    if not isinstance(payload["passed"], bool):
        raise ProtocolError("check payload 'passed' must be a boolean")
    if not isinstance(payload["line"], int) or payload["line"] < 0:
        raise ProtocolError("check payload 'line' must be a non-negative integer")
    cell_file, cell_line = payload.get("cell_file"), payload.get("cell_line")
    if (cell_file is None) != (cell_line is None):
        raise ProtocolError("check payload 'cell_file' and 'cell_line' go together (or are null)")
    if cell_file is not None and not isinstance(cell_file, str):
        raise ProtocolError("check payload 'cell_file' must be a string or null")
    if cell_line is not None and (not isinstance(cell_line, int) or cell_line < 0):
        raise ProtocolError("check payload 'cell_line' must be a non-negative integer or null")
    if not isinstance(payload["values"], dict):
        raise ProtocolError("check payload 'values' must be an object")
    for label, value in payload["values"].items():
        if not isinstance(value, dict) or set(value) != {"magnitude", "unit", "text"}:
            raise ProtocolError(f"check payload value {label!r} needs magnitude, unit and text")
    if payload["kind"] == "golden":
        golden = payload.get("golden")
        if not isinstance(golden, dict) or not {"magnitude", "unit", "text"} <= set(golden):
            raise ProtocolError("a golden payload needs golden.magnitude, .unit and .text")


def published_value(value: Any) -> PublishedValue:
    """Describe any value for the wire: ``_invariants_value_()``, a Quantity, a number or text."""
    hook = getattr(value, "_invariants_value_", None)
    if callable(hook):
        described = hook()
        return PublishedValue(
            magnitude=_plain_number(described.get("magnitude")),
            unit=described.get("unit"),
            text=str(value),
        )
    if hasattr(value, "magnitude") and hasattr(value, "units"):
        unit = _long_unit_name(value.units)
        return PublishedValue(
            magnitude=_plain_number(value.magnitude),
            unit=unit if unit != "dimensionless" else None,
            text=_readable_quantity(value),
        )
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return PublishedValue(magnitude=_plain_number(value), unit=None, text=_readable(value))
    return PublishedValue(magnitude=None, unit=None, text=str(value))


TEXT_DIGITS = 6
"""Significant digits of the display text of a bare number (the magnitude keeps full precision)."""


def _readable(number: numbers.Real) -> str:
    """``295.34328358208955`` → ``"295.343"``; integers stay whole."""
    if isinstance(number, numbers.Integral):
        return str(number)
    return f"{float(number):.{TEXT_DIGITS}g}"


def _readable_quantity(value: Any) -> str:
    """``295.343 FLOP/B`` for a scalar Quantity; arrays fall back to ``str``."""
    magnitude = value.magnitude
    if not isinstance(magnitude, numbers.Real) or isinstance(magnitude, bool):
        return str(value)
    try:
        return format(value, f".{TEXT_DIGITS}g~P")  # pint's pretty form: 3.15×10²³ FLOP
    except (TypeError, ValueError):
        return f"{_readable(magnitude)} {value.units}".strip()


def _long_unit_name(units: Any) -> str:
    """pint's long form ("teraflop / second"), whatever the registry's default display format."""
    try:
        return format(units, "D")
    except (TypeError, ValueError):  # a duck-typed unit without pint's format specs
        return str(units)


def _plain_number(value: Any) -> float | list[float] | None:
    """JSON-safe magnitude: a float, a list of floats (arrays), or None for NaN/inf/non-numbers."""
    if value is None:
        return None
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, list):
        items = [_plain_number(v) for v in value]
        return items if all(isinstance(v, float) for v in items) else None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
        return number if math.isfinite(number) else None
    return None
