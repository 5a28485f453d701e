"""Generic loading and validation of mlsysim's sourced YAML catalogs.

A catalog file has three top-level keys::

    reviewed: 2026-11-28            # date the file was last checked; dates its assumptions
    sources:                        # key -> {title, url or document, date, note?, kind?}
      nvidia-h100-datasheet: {title: ..., url: ..., date: 2023-09}
    entries:                        # catalog name -> fields
      H100:
        memory_bandwidth: {value: 3.35 TB/s, source: nvidia-h100-datasheet}

Every numeric value is ``{value: "<number> <unit>", source: <key>}`` plus optional ``note`` and
``assumption`` (text that turns the cited source into a labelled assumption, e.g. a derivation).
``source: assumption`` is reserved: an mlsysim assumption, which must carry a ``note``.
Every number must be finite and > 0 (sizes, rates, powers, counts, costs, intensities, PUE).
Validation happens at load and raises ``CatalogError`` naming file, entry and field; the
Quantities of an entry are built lazily, on first access to that entry (see ``Catalog``).
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import os
import tokenize
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

from mlsysim.core.precision import precision_name
from mlsysim.errors import CatalogError, UnknownNameError

DATA_DIR = Path(__file__).with_name("data")
ASSUMPTION = "assumption"
VALUE_KEYS = frozenset({"value", "source", "note", "assumption", "derived"})
SOURCE_KEYS = frozenset({"title", "url", "document", "date", "note", "kind"})
SOURCE_KINDS = frozenset({"reference", "assumption", "derived"})


@dataclass(frozen=True)
class Source:
    """Where a catalog number comes from: ``title``, ``url`` (or a document), ``date``, ``note``.

    ``kind`` is "reference" (published figure), "derived" (computed from referenced inputs by a
    stated equation) or "assumption" (an estimate or derivation mlsysim labels as one).
    """

    title: str
    url: str | None
    date: str
    note: str | None = None
    kind: str = "reference"
    key: str = ""

    @property
    def is_assumption(self) -> bool:
        return self.kind == ASSUMPTION

    def __str__(self) -> str:
        label = " [assumption]" if self.is_assumption else ""
        where = f", {self.url}" if self.url else ""
        return f"{self.title} ({self.date}{where}){label}"


class RawValue(NamedTuple):
    """A validated YAML value before it becomes a Quantity: magnitude, unit text and source."""

    magnitude: float
    unit: str
    source: Source


class Derived(NamedTuple):
    """A value the catalog derives from other fields (``{derived: <rule>, source: <key>}``)."""

    rule: str
    source: Source


class CatalogFile:
    """A loaded catalog YAML: its sources table and raw entries, with error helpers."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        document = read_yaml(self.path)
        if not isinstance(document, Mapping):
            raise self.error(
                "<file>", "<top level>", "expected a mapping with 'sources', 'entries'"
            )
        for key in ("reviewed", "sources", "entries"):
            if key not in document:
                raise self.error("<file>", key, "missing required top-level key")
        self.reviewed = str(document["reviewed"])
        self.sources = self._read_sources(document["sources"])
        entries = document["entries"]
        if not isinstance(entries, Mapping) or not entries:
            raise self.error("<file>", "entries", "expected a non-empty mapping of named entries")
        self.entries: dict[str, Mapping[str, Any]] = {}
        for name, fields in entries.items():
            if not str(name).isidentifier():
                raise self.error(name, "<name>", "entry names must be Python identifiers")
            if not isinstance(fields, Mapping):
                raise self.error(name, "<entry>", "expected a mapping of fields")
            self.entries[str(name)] = fields

    def error(self, entry: object, field: str, message: str) -> CatalogError:
        return CatalogError(f"{self.path}: entry {entry!r}, field {field!r}: {message}")

    def _read_sources(self, table: Any) -> dict[str, Source]:
        if not isinstance(table, Mapping):
            raise self.error("<sources>", "sources", "expected a mapping key -> source")
        sources = {}
        for key, spec in table.items():
            if not isinstance(spec, Mapping):
                raise self.error(f"sources.{key}", "<source>", "expected a mapping")
            unknown = set(spec) - SOURCE_KEYS
            if unknown:
                raise self.error(f"sources.{key}", sorted(unknown)[0], "unknown source field")
            for required in ("title", "date"):
                if not spec.get(required):
                    raise self.error(f"sources.{key}", required, "every source needs it")
            where = spec.get("url") or spec.get("document")
            if not where:
                raise self.error(f"sources.{key}", "url", "give a url or a document")
            kind = spec.get("kind", "reference")
            if kind not in SOURCE_KINDS:
                raise self.error(f"sources.{key}", "kind", f"must be one of {sorted(SOURCE_KINDS)}")
            sources[str(key)] = Source(
                title=str(spec["title"]),
                url=str(where),
                date=str(spec["date"]),
                note=spec.get("note"),
                kind=kind,
                key=str(key),
            )
        return sources

    def source(self, entry: str, field: str, spec: Mapping[str, Any]) -> Source:
        """Resolve a value's ``source`` key; ``assumption`` text turns it into an assumption."""
        key = spec.get("source")
        if key is None:
            raise self.error(entry, field, "no source: every value needs 'source: <key>'")
        if key == ASSUMPTION:
            if not spec.get("note"):
                raise self.error(entry, field, "'source: assumption' needs a 'note' saying why")
            return Source(
                title="mlsysim assumption",
                url=f"mlsysim/core/data/{self.path.name}",
                date=self.reviewed,
                note=str(spec["note"]),
                kind=ASSUMPTION,
                key=ASSUMPTION,
            )
        if key not in self.sources:
            close = difflib.get_close_matches(str(key), list(self.sources), n=3, cutoff=0.5)
            hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
            raise self.error(entry, field, f"unknown source {key!r}{hint}")
        source = self.sources[key]
        note = spec.get("assumption")
        if note:
            return Source(source.title, source.url, source.date, str(note), ASSUMPTION, key)
        if spec.get("note"):
            return Source(
                source.title, source.url, source.date, str(spec["note"]), source.kind, key
            )
        return source

    def quantity(self, entry: str, field: str, spec: Any, unit: str) -> RawValue | Derived:
        """Validate ``{value: "<number> <unit>", source: key}`` against the expected ``unit``."""
        if not isinstance(spec, Mapping):
            raise self.error(entry, field, "expected {value: '<number> <unit>', source: <key>}")
        unknown = set(spec) - VALUE_KEYS
        if unknown:
            key = str(sorted(unknown, key=str)[0])
            hint = " (quote text that contains a comma)" if " " in key else ""
            raise self.error(entry, field, f"unknown key {key!r}{hint}")
        source = self.source(entry, field, spec)
        if "derived" in spec:
            return Derived(str(spec["derived"]), source)
        if "value" not in spec:
            raise self.error(entry, field, "missing 'value'")
        magnitude, unit_text = self.number(entry, field, spec["value"], unit)
        return RawValue(magnitude, unit_text, source)

    def number(self, entry: str, field: str, text: Any, unit: str) -> tuple[float, str]:
        """``"<number> <unit>"`` read and checked: finite, > 0, in units of ``unit``."""
        magnitude, unit_text = split_quantity(text)
        if magnitude is None:
            raise self.error(entry, field, f"cannot read a number from {text!r}")
        if not math.isfinite(magnitude):
            raise self.error(entry, field, f"must be a finite number, got {text!r}")
        if magnitude <= 0:  # every catalog number is a size, rate, power, count, cost or ratio
            raise self.error(entry, field, f"must be > 0, got {text!r}")
        problem = unit_problem(unit_text, unit)
        if problem:
            raise self.error(entry, field, problem)
        return magnitude, unit_text


def read_yaml(path: Path) -> Any:
    """Parse a catalog YAML; malformed YAML -> CatalogError naming the file and line.

    The parsed document is cached as JSON keyed by the content's CRC-32 and length
    (``cache_dir()``; zlib imports in 0.3 ms, hashlib in 4 ms), which loads ~10x faster than
    YAML; validation still runs on every load, and an edited file gets a new key.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"{path}: entry '<file>', field '<file>': cannot read: {exc}") from exc
    cached = cache_dir() / f"{zlib.crc32(data):08x}-{len(data)}.json"
    try:
        return json.loads(cached.read_bytes())
    except (OSError, ValueError):
        pass
    document = _parse_yaml(path, data)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(document, default=str), encoding="utf-8")
        os.replace(partial, cached)  # atomic: a concurrent reader never sees half a file
    except (OSError, TypeError, ValueError):  # a read-only home or an odd value: no cache
        pass
    return document


def _parse_yaml(path: Path, data: bytes) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.load(data, Loader=loader)  # a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise CatalogError(
            f"{path}: entry '<file>', field '<yaml>': malformed YAML{where}: {exc}"
        ) from exc
    return json.loads(json.dumps(document, default=str))  # the same types as a cache hit


def cache_dir() -> Path:
    """Where parsed catalogs are cached: $MLSYSIM_CACHE_DIR, else $XDG_CACHE_HOME/mlsysim."""
    if os.environ.get("MLSYSIM_CACHE_DIR"):
        return Path(os.environ["MLSYSIM_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mlsysim" / "catalogs"


def split_quantity(text: Any) -> tuple[float | None, str]:
    """``"989.4 TFLOP/s"`` -> (989.4, "TFLOP/s"); a bare number is dimensionless."""
    if isinstance(text, bool):
        return None, ""
    if isinstance(text, int | float):
        return float(text), "dimensionless"
    head, _, unit = str(text).strip().partition(" ")
    try:
        return float(head.replace("_", "")), unit.strip() or "dimensionless"
    except ValueError:
        return None, ""


_DECIMAL = ("", "k", "M", "G", "T", "P", "E")
_BINARY = ("Ki", "Mi", "Gi", "Ti")
# Spellings known to reduce to each canonical unit, so the common case skips pint's slow
# first-time parse (tests check every one against pint).
KNOWN_UNITS: dict[str, frozenset[str]] = {
    "flop/s": frozenset(f"{p}FLOP/s" for p in _DECIMAL),
    "flop": frozenset({*(f"{p}FLOP" for p in _DECIMAL), *(f"{p}MAC" for p in _DECIMAL)}),
    "byte/s": frozenset(f"{p}B/s" for p in (*_DECIMAL, *_BINARY)),
    "byte": frozenset(f"{p}B" for p in (*_DECIMAL, *_BINARY)),
    "W": frozenset({"W", "mW", "uW", "kW"}),
    "USD": frozenset({"USD"}),
    "hour": frozenset({"hour"}),
    "year": frozenset({"year"}),
    "kgCO2e": frozenset({"kgCO2e", "tCO2e"}),
    "gCO2e/kWh": frozenset({"gCO2e/kWh"}),
    "USD/kWh": frozenset({"USD/kWh"}),
    "L/kWh": frozenset({"L/kWh"}),
    "param": frozenset({"param"}),
    "dimensionless": frozenset({"dimensionless"}),
}


# What pint raises for a unit string it cannot read ("Wats", "(", "GB/", "W**x", "1/0").
_UNPARSABLE = (
    ValueError,
    TypeError,
    AttributeError,  # pint's UndefinedUnitError
    ArithmeticError,
    AssertionError,
    SyntaxError,
    tokenize.TokenError,
    KeyError,
    IndexError,
)


@functools.cache
def unit_problem(unit_text: str, expected: str) -> str | None:
    """Why ``unit_text`` cannot stand for ``expected`` (same root units, e.g. byte/s), or None.

    Root units, not just dimensions: pint treats bytes and counting units (param, token) as
    dimensionless, so "80 GB" for a parameter count must still fail.
    """
    if unit_text in KNOWN_UNITS.get(expected, ()):
        return None
    from mlsysim.core.units import ureg

    try:
        _, root = ureg.get_root_units(unit_text)
    except _UNPARSABLE as exc:  # an environment failure (ImportError, OSError) is no verdict on
        # the text and must not be cached as one: it propagates
        return f"unknown unit {unit_text!r} ({type(exc).__name__}); expected units of {expected}"
    _, want = ureg.get_root_units(expected)
    if root != want:
        return f"wrong unit {unit_text!r}: expected units of {expected}"
    return None


@functools.cache
def unit_of(unit_text: str) -> Any:
    """The registry's Unit for a unit string (cached: Q_(x, Unit) is ~15x faster than a str)."""
    from mlsysim.core.units import ureg

    return ureg.Unit(unit_text)


@functools.cache
def scale_to(unit_text: str, canonical: str) -> float:
    """Factor converting a magnitude in ``unit_text`` to ``canonical`` (e.g. TB/s -> byte/s)."""
    from mlsysim.core.units import Q_

    return float(Q_(1.0, unit_of(unit_text)).m_as(canonical))


def to_quantity(raw: RawValue) -> Any:
    from mlsysim.core.units import Q_

    return Q_(raw.magnitude, unit_of(raw.unit))


class PrecisionTable(Mapping):
    """Peak dense FLOP/s per precision (case-insensitive: ``["FP16"]`` is ``["fp16"]``); an
    unknown precision lists the ones this part has."""

    def __init__(self, owner: str, values: Mapping[str, Any]):
        self._owner = owner
        self._values = dict(values)

    def __getitem__(self, precision: str) -> Any:
        try:
            return self._values[precision_name(precision)]
        except KeyError:
            raise UnknownNameError(f"{self._owner} precision", precision, self._values) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}: {v:~P}" for k, v in self._values.items())
        return f"PrecisionTable({self._owner}: {inner})"


T = TypeVar("T")


class _UnknownCatalogAttribute(UnknownNameError, AttributeError):
    """``Hardware.H10``: an UnknownNameError that is also an AttributeError (hasattr works)."""


class Catalog(Generic[T]):
    """Named entries loaded lazily from one YAML file on first access.

    ``catalog.H100`` and ``catalog["H100"]`` return the entry; names are case-sensitive like
    Python names (``catalog["h100"]`` raises ``UnknownNameError`` suggesting ``'H100'`` first).
    ``dir()`` lists the names (tab completion); iteration yields entries; ``names()`` lists keys.
    On first access the file is read and every entry validated (``validate(file, name) ->
    raw``); an entry's Quantities are built (``construct(name, raw) -> entry``) only when that
    entry is first used.
    """

    def __init__(
        self,
        kind: str,
        path: Path | str,
        validate: Callable[[CatalogFile, str], Any],
        construct: Callable[[str, Any], T],
    ):
        self._kind = kind
        self._path = Path(path)
        self._validate = validate
        self._construct = construct
        self._raw: dict[str, Any] | None = None
        self._built: dict[str, T] = {}

    @property
    def path(self) -> Path:
        return self._path

    @property
    def loaded(self) -> bool:
        """True once the YAML has been read (tests use it to prove loading is lazy)."""
        return self._raw is not None

    def load(self) -> dict[str, Any]:
        """Read and validate the whole file (once); returns the raw validated entries."""
        if self._raw is None:
            catalog_file = CatalogFile(self._path)
            self._raw = {name: self._validate(catalog_file, name) for name in catalog_file.entries}
        return self._raw

    def names(self) -> list[str]:
        return list(self.load())

    def __getitem__(self, name: str) -> T:
        raw = self.load()
        if name not in self._built:
            if not isinstance(name, str) or name not in raw:
                raise UnknownNameError(self._kind, str(name), raw)
            self._built[name] = self._construct(name, raw[name])
        return self._built[name]

    def __getattr__(self, name: str) -> T:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self.load():
            raise _UnknownCatalogAttribute(self._kind, name, self.load())
        return self[name]

    def __dir__(self) -> list[str]:
        return sorted({*self.names(), "names", "load", "loaded", "path"})

    def __iter__(self) -> Iterator[T]:
        return (self[name] for name in self.names())

    def __len__(self) -> int:
        return len(self.load())

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return item in self.load()
        return any(entry is item for entry in self)

    def __repr__(self) -> str:
        state = f"{len(self)} entries" if self.loaded else "not loaded"
        return f"<Catalog {self._kind} from {self._path.name}: {state}>"
