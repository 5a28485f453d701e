"""Name -> spec resolution and per-spec SI magnitudes, cached on first use.

The hot path of ``Engine.solve`` and of sweeps works on plain floats in SI units (flop, byte,
second, watt). Converting a pint Quantity costs microseconds, so each model, hardware part and
(hardware, precision) peak is converted once and kept here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlsysim.core.formulas._formula import require_count as require_whole_count
from mlsysim.core.precision import bytes_per_param

LINK_DIRECTIONS = 2.0
"""Catalog interconnect figures are bidirectional aggregates; one direction is half."""


@dataclass(frozen=True, slots=True)
class ModelNumbers:
    """A model's magnitudes: params [param] and forward FLOPs of one engine sample [flop]: one
    input for a CNN, one generated token for a decoder, one whole sequence of
    ``context_length`` tokens for an encoder (the catalog's per-token FLOPs x context)."""

    spec: Any
    name: str
    params: float
    flops_per_sample: float
    n_layers: float | None = None
    d_model: float | None = None
    n_heads: float | None = None
    n_kv_heads: float | None = None
    head_dim: float | None = None
    encoder: bool = False

    @property
    def is_transformer(self) -> bool:
        return self.n_layers is not None

    @property
    def is_decoder(self) -> bool:
        """A transformer that generates tokens, one decode step per token (not an encoder)."""
        return self.is_transformer and not self.encoder


@dataclass(slots=True)
class HardwareNumbers:
    """A part's SI magnitudes: bandwidth [byte/s], capacity [byte], power [W], peak [flop/s]."""

    spec: Any
    name: str
    category: str
    memory_bandwidth: float
    memory_capacity: float
    tdp: float | None
    idle_power: float | None
    interconnect_bandwidth: float | None
    peaks: dict[str, float]
    interconnect_latency: float | None = None  # [s] alpha: one ring hop over the interconnect
    compute_efficiency: float | None = None  # the part's own measured fraction of peak
    compute_efficiency_source: str | None = None
    busy_power: float | None = None  # [W] HardwareSpec.busy_power: what inference energy charges
    calibration: Any = None  # calibration.default_efficiency(self), computed once

    @property
    def link_bandwidth(self) -> float | None:
        """Per-direction interconnect bandwidth [byte/s]: the alpha-beta model's beta.

        Vendors quote aggregate bidirectional figures (H100 NVLink 4: 900 GB/s = 450 GB/s each
        way); a ring all-reduce sends and receives at once, so beta is half of it. NCCL's
        all-reduce bus bandwidth on 8x H100 tops out near that 450 GB/s.
        """
        if self.interconnect_bandwidth is None:
            return None
        return self.interconnect_bandwidth / LINK_DIRECTIONS

    def peak(self, precision: str) -> float:
        """Dense peak FLOP/s at canonical ``precision``; unknown -> ``UnknownNameError``."""
        try:
            return self.peaks[precision]
        except KeyError:
            value = self.spec.peak_flops[precision].m_as("flop/s")  # raises UnknownNameError
            self.peaks[precision] = value
            return value


_MODELS: dict[int, ModelNumbers] = {}
_HARDWARE: dict[int, HardwareNumbers] = {}
_BY_NAME: dict[tuple[str, str], Any] = {}


def resolve_model(model: Any) -> Any:
    """A ``ModelSpec`` from a spec or a catalog name (unknown name -> ``UnknownNameError``)."""
    return _resolve("Models", model)


def resolve_hardware(hardware: Any) -> Any:
    """A ``HardwareSpec`` from a spec or a catalog name (unknown name -> ``UnknownNameError``)."""
    return _resolve("Hardware", hardware)


def _resolve(catalog: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    spec = _BY_NAME.get((catalog, value))
    if spec is None:
        from mlsysim.core import catalogs

        spec = _BY_NAME[(catalog, value)] = getattr(catalogs, catalog)[value]
    return spec


def model_numbers(model: Any) -> ModelNumbers:
    """Cached SI magnitudes of a model given by name or spec."""
    return _cached(_MODELS, resolve_model(model), _model_numbers)


def hardware_numbers(hardware: Any) -> HardwareNumbers:
    """Cached SI magnitudes of a hardware part given by name or spec."""
    return _cached(_HARDWARE, resolve_hardware(hardware), _hardware_numbers)


def _cached(cache: dict[int, Any], spec: Any, convert: Any) -> Any:
    """``convert(spec)`` once per spec object (a what-if copy is a new spec, so it converts)."""
    cached = cache.get(id(spec))
    if cached is None or cached.spec is not spec:
        cached = cache[id(spec)] = convert(spec)
    return cached


def _model_numbers(spec: Any) -> ModelNumbers:
    arch = getattr(spec, "arch", None)
    encoder = bool(getattr(arch, "encoder", False))
    flops = float(spec.flops_per_sample.m_as("flop"))  # per token for a transformer
    return ModelNumbers(
        spec=spec,
        name=spec.name,
        params=float(spec.params.m_as("param")),
        flops_per_sample=flops * arch.context_length if encoder else flops,
        encoder=encoder,
        n_layers=None if arch is None else float(arch.n_layers),
        d_model=None if arch is None else float(arch.d_model),
        n_heads=None if arch is None else float(arch.n_heads),
        n_kv_heads=None if arch is None else float(arch.n_kv_heads),
        head_dim=None if arch is None else float(arch.head_dim),
    )


def _hardware_numbers(spec: Any) -> HardwareNumbers:
    return HardwareNumbers(
        spec=spec,
        name=spec.name,
        category=spec.category,
        memory_bandwidth=float(spec.memory_bandwidth.m_as("byte/s")),
        memory_capacity=float(spec.memory_capacity.m_as("byte")),
        tdp=_optional(spec.tdp, "W"),
        idle_power=_optional(getattr(spec, "idle_power", None), "W"),
        interconnect_bandwidth=_optional(getattr(spec, "interconnect_bandwidth", None), "byte/s"),
        peaks={},
        interconnect_latency=_optional(getattr(spec, "interconnect_latency", None), "s"),
        compute_efficiency=_measured_fraction(spec),
        compute_efficiency_source=_efficiency_source(spec),
        busy_power=_optional(getattr(spec, "busy_power", spec.tdp), "W"),
    )


_BYTES: dict[str, float] = {}


def precision_bytes(precision: str) -> float:
    """Bytes per parameter at ``precision`` (cached ``bytes_per_param``)."""
    value = _BYTES.get(precision)
    if value is None:
        value = _BYTES[precision] = bytes_per_param(precision)
    return value


SOLVE_GRID = "Engine.sweep(models, hardware, batch_sizes=[...], precisions=[...])"
SERVE_GRID = (
    "Engine.sweep_serve(models, hardware, batch_sizes=[...], prompt_tokens=[...], "
    "output_tokens=[...], precisions=[...], tensor_parallel=[...])"
)


def is_many(value: Any) -> bool:
    """True for a list, tuple, range or array of values (not one number)."""
    return isinstance(value, (list, tuple, range)) or getattr(value, "ndim", 0) > 0


def require_scalar(value: Any, name: str, grid: str = SOLVE_GRID) -> None:
    """Reject a list/array where one number belongs: name the argument, point at the sweep
    (``grid``) that takes a list of them."""
    if is_many(value):
        raise ValueError(
            f"argument '{name}' takes one number, got {value!r}; for a grid use "
            f"{grid} or call once per value"
        )


def require_count(value: Any, name: str, grid: str = SOLVE_GRID) -> int:
    """One required count, as an int; the library's one rule and wording
    (``formulas._formula.require_count``)."""
    require_scalar(value, name, grid)
    require_whole_count(value, name, required=True)
    return int(value)


def _optional(value: Any, unit: str) -> float | None:
    return None if value is None else float(value.m_as(unit))


def _measured_fraction(spec: Any) -> float | None:
    """``spec.compute_efficiency`` as a float in (0, 1]; a Quantity, a float or None."""
    value = getattr(spec, "compute_efficiency", None)
    if value is None:
        return None
    fraction = float(value.m_as("dimensionless") if hasattr(value, "m_as") else value)
    if not 0.0 < fraction <= 1.0:
        raise ValueError(
            f"hardware {spec.name!r}: compute_efficiency must be a fraction of peak in (0, 1], "
            f"got {fraction:g}"
        )
    return fraction


def _efficiency_source(spec: Any) -> str | None:
    """Where ``spec.compute_efficiency`` comes from. A what-if copy of a catalog part keeps the
    part's provenance, so a changed value is labelled user-set instead of citing the catalog."""
    if getattr(spec, "compute_efficiency", None) is None:
        return None
    from mlsysim.core.catalogs import Hardware

    source = getattr(spec, "provenance", {}).get("compute_efficiency")
    if spec.name in Hardware and Hardware[spec.name] is not spec:
        original = Hardware[spec.name]
        if original.compute_efficiency != spec.compute_efficiency:
            return f"user-set on a what-if copy of {spec.name}"
        source = original.provenance.get("compute_efficiency")
    return "user-set" if source is None else str(source)
