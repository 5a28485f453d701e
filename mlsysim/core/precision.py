"""Numeric precisions and their storage cost in bytes per parameter (or per element).

``bytes_per_param("bf16") == 2.0``. Widths follow IEEE 754 (fp32, fp16), the bfloat16 and
TF32 formats (TF32 is stored as a 32-bit float; only the tensor-core math is 19-bit), and
Micikevicius et al. 2022 "FP8 Formats for Deep Learning" (fp8 = 1 byte); int4 packs two per byte.
"""

from __future__ import annotations

from types import MappingProxyType

from mlsysim.errors import UnknownNameError

PRECISIONS: MappingProxyType[str, float] = MappingProxyType(
    {
        "fp32": 4.0,
        "tf32": 4.0,
        "fp16": 2.0,
        "bf16": 2.0,
        "fp8": 1.0,
        "int8": 1.0,
        "int4": 0.5,
    }
)
"""Precision name -> bytes per stored value. Iterating yields the valid names."""


def precision_name(precision: object) -> str:
    """The canonical precision name: case and surrounding spaces ignored (``"FP16 "`` -> fp16)."""
    return str(precision).strip().lower()


def bytes_per_param(precision: str) -> float:
    """Bytes one parameter occupies at ``precision`` (case-insensitive), e.g. fp16 -> 2.0.

    An unknown name raises ``UnknownNameError`` listing the valid precisions.
    """
    try:
        return PRECISIONS[precision_name(precision)]
    except KeyError:
        raise UnknownNameError("precision", precision, PRECISIONS) from None
