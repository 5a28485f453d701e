"""mlsysim's sourced catalogs: ``Hardware``, ``Models``, ``Grids`` and ``Datacenters``.

Each is a lazily loaded ``Catalog`` over ``mlsysim/core/data/<name>.yaml`` (see
``catalog_loader``): ``Hardware.H100.peak_flops["bf16"]`` -> 989.4 TFLOP/s. Every numeric field
has a ``Source`` in ``entry.provenance`` (keys like "peak_flops.bf16"), and ``entry.si`` holds the
same numbers as plain floats in the canonical units of ``*_UNITS`` for the engine's hot loops.
Convention: one multiply-accumulate (MAC) = 2 FLOPs; GB = 1e9 byte, GiB = 2**30 byte.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

from mlsysim.core.catalog_loader import (
    DATA_DIR,
    Catalog,
    CatalogFile,
    Derived,
    PrecisionTable,
    RawValue,
    Source,
    scale_to,
    to_quantity,
)

__all__ = [
    "Catalog",
    "DatacenterSpec",
    "Datacenters",
    "GridRegion",
    "Grids",
    "Hardware",
    "HardwareSpec",
    "ModelSpec",
    "Models",
    "PrecisionTable",
    "Source",
    "TransformerArch",
]

PRECISIONS = ("fp32", "tf32", "fp16", "bf16", "fp8", "int8")
HARDWARE_CATEGORIES = ("cloud", "edge", "mobile", "tiny", "cpu")
MODEL_KINDS = ("cnn", "transformer")
CARBON_BASES = ("lifecycle", "direct")
PARAM_TOLERANCE = 0.03  # typed params must match the arch-derived count within 3 %

# field -> (canonical unit of ``entry.si``, required?)
HARDWARE_UNITS = {
    "memory_bandwidth": ("byte/s", True),
    "memory_capacity": ("byte", True),
    "tdp": ("W", True),
    "idle_power": ("W", False),
    "interconnect_bandwidth": ("byte/s", False),
    "interconnect_latency": ("s", False),
    "unit_cost": ("USD", False),
    "sleep_power": ("W", False),
    "mttf": ("hour", False),
    "embodied_carbon": ("kgCO2e", False),
    "lifetime": ("year", False),
    "compute_efficiency": ("dimensionless", False),
    "active_power": ("W", False),
}
PEAK_FLOPS_UNIT = "flop/s"
MODEL_UNITS = {"params": ("param", True), "flops_per_sample": ("flop", True)}
GRID_UNITS = {
    "carbon_intensity": ("gCO2e/kWh", True),
    "electricity_price": ("USD/kWh", False),
    "water_intensity": ("L/kWh", False),
}
DATACENTER_UNITS = {"pue": ("dimensionless", True)}
ARCH_FIELDS = ("n_layers", "d_model", "n_heads", "n_kv_heads", "d_ff", "vocab_size")
ARCH_FLAGS = ("gated_ffn", "tied_embeddings", "encoder")


# ---------------------------------------------------------------------------- entry types
# Entries are dataclasses (``dataclasses.replace(Hardware.H100, tdp=Q_(500, "W"))`` makes a
# what-if copy) made read-only by ``_ReadOnly`` rather than ``frozen=True``: frozen dataclasses
# cost ~4 ms each to define, a visible slice of the 0.5 s time-to-first-answer budget.
_ENTRY = {"eq": False, "repr": False}  # identity equality; the short repr below


class _ReadOnly:
    """Fields are set once, in ``__init__``; reassigning or deleting raises AttributeError."""

    __dataclass_fields__: dict[str, Any]

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__dict__ or name not in self.__dataclass_fields__:
            kind = type(self).__name__
            raise AttributeError(f"{kind} is read-only; use dataclasses.replace() for a copy")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __repr__(self) -> str:
        label = getattr(self, "display_name", None) or ""
        return f"<{type(self).__name__} {getattr(self, 'name', '')}: {label}>"

    _SI_UNITS: Mapping[str, tuple[str, bool]] = {}  # no annotation in subclasses: not a field

    @functools.cached_property
    def si(self) -> dict[str, float]:
        """Every numeric field as a float in its canonical unit (``*_UNITS``), for hot loops.

        Keys as in ``provenance`` ("peak_flops.bf16", "memory_bandwidth"). Computed from the
        Quantities on first use, so a ``dataclasses.replace`` copy gets its own numbers.
        """
        numbers = {}
        for key, (unit, _) in self._SI_UNITS.items():
            value = getattr(self, key)
            if value is not None:
                numbers[key] = float(value.m_as(unit))
        for precision, value in getattr(self, "peak_flops", {}).items():
            numbers[f"peak_flops.{precision}"] = float(value.m_as(PEAK_FLOPS_UNIT))
        return numbers


@dataclass(**_ENTRY)
class HardwareSpec(_ReadOnly):
    """One accelerator, SoC, MCU or CPU: dense peak FLOP/s per precision and its memory/power."""

    _SI_UNITS = HARDWARE_UNITS

    name: str
    display_name: str
    category: str
    peak_flops: PrecisionTable
    memory_bandwidth: Any
    memory_capacity: Any
    tdp: Any
    idle_power: Any = None
    interconnect_bandwidth: Any = None
    interconnect_latency: Any = None  # [s] per ring hop (alpha); see docs/catalogs.md
    unit_cost: Any = None
    sleep_power: Any = None
    mttf: Any = None
    embodied_carbon: Any = None
    lifetime: Any = None
    compute_efficiency: Any = None
    active_power: Any = None
    provenance: Mapping[str, Source] = field(default_factory=dict, repr=False)

    @property
    def busy_power(self) -> Any:
        """Power while running inference: ``active_power`` when the catalog has one (a runtime
        that uses part of the chip, e.g. one of two cores), else ``tdp``. Energy and duty-cycle
        estimates charge it; ``tdp`` stays the flat-out draw at ``peak_flops``."""
        return self.tdp if self.active_power is None else self.active_power


class TransformerArch(NamedTuple):
    """Transformer shape (immutable); FLOPs per token and KV-cache size are derived from it."""

    n_layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    d_ff: int
    vocab_size: int
    context_length: int
    gated_ffn: bool = False
    tied_embeddings: bool = True
    encoder: bool = False  # bidirectional (BERT): reads whole sequences, generates no tokens

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    def param_estimate(self) -> float:
        """Parameter count implied by this shape (``formulas.transformer.transformer_params``)."""
        from mlsysim.core.formulas.transformer import transformer_params

        return float(
            transformer_params.raw(
                self.n_layers,
                self.d_model,
                self.d_ff,
                self.vocab_size,
                self.n_heads,
                self.n_kv_heads,
                gated_ffn=self.gated_ffn,
                tied_embeddings=self.tied_embeddings,
            )
        )


@dataclass(**_ENTRY)
class ModelSpec(_ReadOnly):
    """A workload: parameter count and dense forward FLOPs per sample (per token for LLMs)."""

    _SI_UNITS = MODEL_UNITS

    name: str
    display_name: str
    kind: str
    params: Any
    flops_per_sample: Any
    arch: TransformerArch | None = None
    provenance: Mapping[str, Source] = field(default_factory=dict, repr=False)


@dataclass(**_ENTRY)
class GridRegion(_ReadOnly):
    """An electricity grid: yearly-average carbon intensity, and price/water where sourced.

    ``basis`` says how the intensity was counted: "lifecycle" (generation plus fuel supply and
    plant construction, Ember's method) or "direct" (combustion at the plant only). Compare
    intensities only when their bases agree.
    """

    _SI_UNITS = GRID_UNITS

    name: str
    display_name: str
    basis: str
    carbon_intensity: Any
    electricity_price: Any = None
    water_intensity: Any = None
    provenance: Mapping[str, Source] = field(default_factory=dict, repr=False)


@dataclass(**_ENTRY)
class DatacenterSpec(_ReadOnly):
    """A datacenter class with its power usage effectiveness (PUE = facility / IT energy)."""

    _SI_UNITS = DATACENTER_UNITS

    name: str
    display_name: str
    pue: Any
    provenance: Mapping[str, Source] = field(default_factory=dict, repr=False)


# ---------------------------------------------------------------------------- validation
def _text(file: CatalogFile, name: str, fields_: Mapping, key: str, choices=None) -> str:
    value = fields_.get(key)
    if not isinstance(value, str) or not value:
        raise file.error(name, key, "missing required text field")
    if choices and value not in choices:
        raise file.error(name, key, f"{value!r} is not one of {', '.join(choices)}")
    return value


def _check_known(file: CatalogFile, name: str, fields_: Mapping, known: set[str]) -> None:
    for key in fields_:
        if key not in known:
            raise file.error(name, key, f"unknown field; valid: {', '.join(sorted(known))}")


def _quantities(file: CatalogFile, name: str, fields_: Mapping, units: Mapping) -> dict:
    raw = {}
    for key, (unit, required) in units.items():
        if key not in fields_:
            if required:
                raise file.error(name, key, "missing required field")
            continue
        raw[key] = file.quantity(name, key, fields_[key], unit)
        if isinstance(raw[key], Derived):
            raise file.error(name, key, "only a transformer's flops_per_sample may be derived")
    return raw


def validate_hardware(file: CatalogFile, name: str) -> dict:
    entry = file.entries[name]
    _check_known(file, name, entry, {"display_name", "category", "peak_flops", *HARDWARE_UNITS})
    raw = {
        "display_name": _text(file, name, entry, "display_name"),
        "category": _text(file, name, entry, "category", HARDWARE_CATEGORIES),
    }
    table = entry.get("peak_flops")
    if not isinstance(table, Mapping) or not table:
        raise file.error(name, "peak_flops", "missing: a mapping precision -> {value, source}")
    peak = {}
    for precision, spec in table.items():
        if precision not in PRECISIONS:
            raise file.error(name, f"peak_flops.{precision}", f"precision not in {PRECISIONS}")
        peak[precision] = file.quantity(name, f"peak_flops.{precision}", spec, PEAK_FLOPS_UNIT)
    raw["peak_flops"] = peak
    raw.update(_quantities(file, name, entry, HARDWARE_UNITS))
    if "compute_efficiency" in raw:
        value = raw["compute_efficiency"]
        fraction = value.magnitude * scale_to(value.unit, "dimensionless")
        if not 0.0 < fraction <= 1.0:
            raise file.error(
                name, "compute_efficiency", f"a fraction of peak in (0, 1]; got {fraction:g}"
            )
    if "interconnect_latency" in raw and "interconnect_bandwidth" not in raw:
        raise file.error(
            name, "interconnect_latency", "a per-hop latency needs an interconnect_bandwidth"
        )
    if "active_power" in raw:
        active, tdp = (
            raw[key].magnitude * scale_to(raw[key].unit, "W") for key in ("active_power", "tdp")
        )
        if active > tdp:
            raise file.error(name, "active_power", f"{active:g} W is above the tdp of {tdp:g} W")
    return raw


def _arch(file: CatalogFile, name: str, spec: Any) -> tuple[TransformerArch, Source]:
    if not isinstance(spec, Mapping):
        raise file.error(name, "arch", "expected a mapping with a 'source'")
    _check_known(file, name, spec, {*ARCH_FIELDS, "context_length", *ARCH_FLAGS, "source", "note"})
    source = file.source(name, "arch", spec)
    values = {}
    for key in (*ARCH_FIELDS, "context_length"):
        value = spec.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise file.error(name, f"arch.{key}", f"expected a positive integer, got {value!r}")
        values[key] = value
    for flag in ARCH_FLAGS:
        if flag in spec and not isinstance(spec[flag], bool):
            raise file.error(name, f"arch.{flag}", "expected true or false")
        if flag in spec:
            values[flag] = spec[flag]
    arch = TransformerArch(**values)
    if arch.d_model % arch.n_heads or arch.n_heads % arch.n_kv_heads:
        raise file.error(name, "arch.n_heads", "heads must divide d_model and kv heads")
    return arch, source


def forward_flops_per_token(params: float, arch: TransformerArch) -> float:
    """Dense forward FLOPs per token = 2N + 2·n_layers·context·d_model [flop] (Kaplan 2020),
    with N all parameters, embedding tables included (``transformer_forward_flops_per_token``)."""
    from mlsysim.core.formulas.transformer import transformer_forward_flops_per_token as flops

    return float(flops.raw(params, arch.n_layers, arch.d_model, arch.context_length))


def validate_model(file: CatalogFile, name: str) -> dict:
    entry = file.entries[name]
    _check_known(file, name, entry, {"display_name", "kind", "arch", *MODEL_UNITS})
    raw = {
        "display_name": _text(file, name, entry, "display_name"),
        "kind": _text(file, name, entry, "kind", MODEL_KINDS),
    }
    for key in MODEL_UNITS:
        if key not in entry:
            raise file.error(name, key, "missing required field")
    raw["params"] = file.quantity(name, "params", entry["params"], "param")
    if isinstance(raw["params"], Derived):
        raise file.error(name, "params", "type the published count: {value, source}")
    flops = file.quantity(name, "flops_per_sample", entry["flops_per_sample"], "flop")
    if raw["kind"] == "transformer":
        if "arch" not in entry:
            raise file.error(name, "arch", "a transformer needs its arch")
        if not isinstance(flops, Derived) or flops.rule != "transformer_forward":
            raise file.error(
                name, "flops_per_sample", "derive it: {derived: transformer_forward, source: ...}"
            )
        arch, arch_source = _arch(file, name, entry["arch"])
        params = raw["params"].magnitude * scale_to(raw["params"].unit, "param")
        estimate = arch.param_estimate()
        if abs(estimate - params) > PARAM_TOLERANCE * params:
            raise file.error(
                name, "params", f"{params:.4g} disagrees with the arch ({estimate:.4g}) by >3 %"
            )
        raw["arch"], raw["arch_source"] = arch, arch_source
        flops = RawValue(forward_flops_per_token(params, arch), "flop", flops.source)
    elif isinstance(flops, Derived) or "arch" in entry:
        raise file.error(name, "flops_per_sample", "only transformers have a derived arch")
    raw["flops_per_sample"] = flops
    return raw


def validate_grid(file: CatalogFile, name: str) -> dict:
    entry = file.entries[name]
    _check_known(file, name, entry, {"display_name", "basis", *GRID_UNITS})
    raw = {
        "display_name": _text(file, name, entry, "display_name"),
        "basis": _text(file, name, entry, "basis", CARBON_BASES),
    }
    raw.update(_quantities(file, name, entry, GRID_UNITS))
    return raw


def validate_datacenter(file: CatalogFile, name: str) -> dict:
    entry = file.entries[name]
    _check_known(file, name, entry, {"display_name", *DATACENTER_UNITS})
    raw = {"display_name": _text(file, name, entry, "display_name")}
    raw.update(_quantities(file, name, entry, DATACENTER_UNITS))
    pue = raw["pue"].magnitude
    if pue < 1.0:
        raise file.error(name, "pue", f"PUE is facility/IT energy, so >= 1; got {pue}")
    return raw


# ---------------------------------------------------------------------------- construction
def _build(cls: type, name: str, raw: Mapping, units: Mapping, **extra: Any) -> Any:
    """Turn validated raw values into Quantities and their provenance."""
    values: dict[str, Any] = {}
    provenance: dict[str, Source] = dict(extra.pop("provenance", {}))
    for key in units:
        value = raw.get(key)
        if isinstance(value, RawValue):
            values[key] = to_quantity(value)
            provenance[key] = value.source
    names = {f.name for f in fields(cls)}
    text = {k: v for k, v in raw.items() if k in names and isinstance(v, str)}
    return cls(name=name, **text, **values, **extra, provenance=provenance)


def construct_hardware(name: str, raw: Mapping) -> HardwareSpec:
    peak, provenance = {}, {}
    for precision, value in raw["peak_flops"].items():
        peak[precision] = to_quantity(value)
        provenance[f"peak_flops.{precision}"] = value.source
    return _build(
        HardwareSpec,
        name,
        raw,
        HARDWARE_UNITS,
        peak_flops=PrecisionTable(name, peak),
        provenance=provenance,
    )


def construct_model(name: str, raw: Mapping) -> ModelSpec:
    arch = raw.get("arch")
    provenance = {}
    if arch is not None:
        provenance = {f"arch.{key}": raw["arch_source"] for key in (*ARCH_FIELDS, "context_length")}
    return _build(ModelSpec, name, raw, MODEL_UNITS, arch=arch, provenance=provenance)


def construct_grid(name: str, raw: Mapping) -> GridRegion:
    return _build(GridRegion, name, raw, GRID_UNITS)


def construct_datacenter(name: str, raw: Mapping) -> DatacenterSpec:
    return _build(DatacenterSpec, name, raw, DATACENTER_UNITS)


# ---------------------------------------------------------------------------- loaders
def load_hardware(path) -> Catalog[HardwareSpec]:
    """A hardware catalog from any YAML path (tests feed broken files through these)."""
    return Catalog("hardware", path, validate_hardware, construct_hardware)


def load_models(path) -> Catalog[ModelSpec]:
    return Catalog("model", path, validate_model, construct_model)


def load_grids(path) -> Catalog[GridRegion]:
    return Catalog("grid region", path, validate_grid, construct_grid)


def load_datacenters(path) -> Catalog[DatacenterSpec]:
    return Catalog("datacenter", path, validate_datacenter, construct_datacenter)


Hardware = load_hardware(DATA_DIR / "hardware.yaml")
Models = load_models(DATA_DIR / "models.yaml")
Grids = load_grids(DATA_DIR / "grids.yaml")
Datacenters = load_datacenters(DATA_DIR / "datacenters.yaml")
