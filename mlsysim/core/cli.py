"""Napkin math from the shell: ``mlsysim solve|serve|train|catalog``.

Each command prints a rich table, or ``--json``. An unknown model, part or precision prints the
closest names and exits 2; a bad number (batch 0) exits 2 with the argument named.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import typer

CATALOG_KINDS = ("hardware", "models", "grids")
PRECISION_HELP = "number format: fp32, tf32, fp16, bf16, fp8, int8 (case-insensitive)"


def register(app: typer.Typer) -> None:
    """Add ``solve``, ``serve``, ``train`` and ``catalog`` to the ``mlsysim`` app."""
    app.command("solve")(solve_command)
    app.command("serve")(serve_command)
    app.command("train")(train_command)
    app.command("catalog")(catalog_command)


def solve_command(
    model: str = typer.Argument(..., help="catalog model, e.g. ResNet50"),
    hardware: str = typer.Argument(..., help="catalog hardware, e.g. H100"),
    batch: int = typer.Option(1, "--batch", "-b", help="batch size (samples; tokens for LLMs)"),
    precision: str = typer.Option("fp16", "--precision", "-p", help=PRECISION_HELP),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """Latency, throughput and bottleneck of one forward pass on one device."""
    from mlsysim.core.engine import Engine

    _run(
        lambda: Engine.solve(model, hardware, batch_size=batch, precision=precision),
        as_json,
        _solve_rows,
        f"{model} on {hardware}, batch {batch}, {precision}",
    )


def serve_command(
    model: str = typer.Argument(..., help="catalog LLM, e.g. Llama2_7B"),
    hardware: str = typer.Argument(..., help="catalog hardware, e.g. H100"),
    batch: int = typer.Option(1, "--batch", "-b", help="concurrent sequences"),
    prompt_tokens: int = typer.Option(512, "--prompt", help="prompt tokens per sequence"),
    output_tokens: int = typer.Option(128, "--output", help="generated tokens per sequence"),
    precision: str = typer.Option("fp16", "--precision", "-p", help=PRECISION_HELP),
    tensor_parallel: int = typer.Option(1, "--tp", help="tensor-parallel devices"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """TTFT, TPOT, throughput and KV cache of LLM serving."""
    from mlsysim.core.engine import Engine

    def compute() -> Any:
        return Engine.serve(
            model,
            hardware,
            batch_size=batch,
            prompt_tokens=prompt_tokens,
            output_tokens=output_tokens,
            precision=precision,
            tensor_parallel=tensor_parallel,
        )

    _run(compute, as_json, _serve_rows, f"{model} serving on {tensor_parallel} x {hardware}")


def train_command(
    model: str = typer.Argument(..., help="catalog model, e.g. Llama3_8B"),
    hardware: str = typer.Argument(..., help="catalog hardware, e.g. H100"),
    devices: int = typer.Option(..., "--devices", "-n", help="number of devices"),
    tokens: float = typer.Option(..., "--tokens", "-t", help="training tokens, e.g. 15e12"),
    precision: str = typer.Option("bf16", "--precision", "-p", help=PRECISION_HELP),
    mfu: float = typer.Option(None, "--mfu", help="override the calibrated MFU (0-1]"),
    tensor: int = typer.Option(1, "--tp", help="tensor-parallel degree"),
    pipeline: int = typer.Option(1, "--pp", help="pipeline-parallel degree"),
    zero_stage: int = typer.Option(0, "--zero", help="ZeRO stage 0-3 over the data degree"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """Time, device-hours, energy and memory of a training run (6ND).

    With --tp/--pp/--zero the data degree is devices / (tp x pp) and the gradient all-reduce
    per step is reported.
    """

    def compute(zero: int = zero_stage, tp: int = tensor) -> Any:
        return _train(model, hardware, devices, tokens, precision, mfu, tp, pipeline, zero)

    def explain(profile: Any) -> str:
        if profile.fits:
            return profile.explain()
        return profile.explain() + " " + _fit_hint(compute, zero_stage, tensor)

    _run(compute, as_json, _train_rows, f"training {model} on {devices:,} x {hardware}", explain)


def _train(model, hardware, devices, tokens, precision, mfu, tensor, pipeline, zero) -> Any:
    """``Engine.train`` with the CLI's --tp/--pp/--zero as a ``Parallelism`` (data = rest)."""
    from mlsysim.core.engine import Engine, Parallelism

    parallelism = None
    if (tensor, pipeline, zero) != (1, 1, 0):
        if devices % (tensor * pipeline):
            raise ValueError(
                f"argument 'devices' = {devices} must be a multiple of tp x pp = "
                f"{tensor * pipeline}"
            )
        parallelism = Parallelism(
            data=devices // (tensor * pipeline), tensor=tensor, pipeline=pipeline, zero_stage=zero
        )
    return Engine.train(
        model, hardware, devices, tokens, precision=precision, mfu=mfu, parallelism=parallelism
    )


def _fit_hint(compute: Callable[..., Any], zero: int, tensor: int) -> str:
    """What would fit: the lowest higher ZeRO stage, else the smallest larger --tp (<= 8)."""
    tries = [(f"--zero {z}", {"zero": z}) for z in range(zero + 1, 4)]
    tries += [(f"--tp {tp}", {"tp": tp}) for tp in (2, 4, 8) if tp > tensor]
    for flag, change in tries:
        try:
            if compute(**change).fits:
                return f"Try {flag}."
        except ValueError:
            continue  # e.g. devices not a multiple of that tp
    return "Neither a higher --zero stage nor --tp up to 8 fits it; use more devices."


def catalog_command(
    kind: str = typer.Argument(..., help="hardware | models | grids"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """List a catalog: hardware, models or grids."""
    from mlsysim.errors import UnknownNameError

    if kind not in CATALOG_KINDS:
        _fail(UnknownNameError("catalog", kind, CATALOG_KINDS))
    rows = _CATALOG_ROWS[kind]()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    header = [name for name in rows[0] if name != "peak_flops"] if rows else []
    shown = [[_cell(name, row[name]) for name in header] for row in rows]
    if kind == "hardware":
        header.insert(2, "peak (per precision)")
        for line, row in zip(shown, rows, strict=True):
            line.insert(
                2, ", ".join(f"{p} {_cell('flop/s', v)}" for p, v in row["peak_flops"].items())
            )
    _print_table(f"mlsysim {kind}", [_title(name) for name in header], shown)


# ------------------------------------------------------------------------------ helpers
def _run(
    compute: Callable[[], Any],
    as_json: bool,
    rows: Callable[[Any], list],
    title: str,
    explain: Callable[[Any], str] | None = None,
) -> None:
    from mlsysim.errors import UnknownNameError

    try:
        profile = compute()
    except UnknownNameError as err:
        hint = " Choose one with --precision." if err.kind.endswith("precision") else ""
        _fail(err, hint)
    except ValueError as err:
        _fail(err)
    if as_json:
        typer.echo(json.dumps(profile.to_dict(), indent=2))
        return
    _print_table(title, ["quantity", "value"], rows(profile))
    typer.echo(explain(profile) if explain else profile.explain())


def _fail(err: Exception, hint: str = "") -> None:
    typer.echo(f"error: {err}{hint}", err=True)
    raise typer.Exit(code=2)


def _cell(name: str, value: Any) -> str:
    """A catalog value for the table: SI-prefixed by the unit its column name carries."""
    from mlsysim.core.engine.profiles import human

    units = {
        "_b_per_s": "byte/s",
        "_b": "byte",
        "_w": "W",
        "flop/s": "flop/s",
        "flops_per_sample": "flop",
    }
    if value is None:
        return "n/a"
    for suffix, unit in units.items():
        if name.endswith(suffix):
            return human(value, unit)
    if name == "params":
        scale, suffix = next(
            (s, x) for s, x in ((1e9, "B"), (1e6, "M"), (1e3, "k"), (1, "")) if value >= s
        )
        return f"{value / scale:.3g} {suffix}".rstrip()
    return f"{value:,.4g}" if isinstance(value, float) else str(value)


def _title(column: str) -> str:
    """``memory_bandwidth_b_per_s`` -> ``memory bandwidth``: the unit shows in the cells."""
    for suffix in ("_b_per_s", "_g_per_kwh", "_b", "_w"):
        column = column.removesuffix(suffix)
    return column.replace("_", " ")


def _print_table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for name in header:
        table.add_column(name)
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    Console(width=120).print(table)


def _solve_rows(p: Any) -> list[list[str]]:
    from mlsysim.core.engine.profiles import human, human_number, human_time

    return [
        ["latency", human_time(p.latency_s)],
        ["throughput", f"{human_number(p.batch_size / p.latency_s)} {p.unit}/s"],
        ["bottleneck", p.bottleneck],
        ["arithmetic intensity", f"{p.flop_count / p.bytes_moved_b:.4g} FLOP/byte"],
        ["MFU", f"{p.mfu:.1%}"],
        [f"energy per {p.unit}", "n/a" if p.energy_j is None else human(p.energy_j, "J")],
        ["memory required", human(p.memory_required_b, "byte")],
        ["fits", f"{p.fits} (capacity {human(p.memory_capacity_b, 'byte')})"],
    ]


def _serve_rows(s: Any) -> list[list[str]]:
    from mlsysim.core.engine.profiles import human, human_number, human_time

    return [
        ["TTFT", human_time(s.ttft_s)],
        ["TPOT", human_time(s.tpot_s)],
        ["memory floor per token", human_time(s.memory_floor_s)],
        ["end-to-end latency", human_time(s.e2e_latency_s)],
        ["tokens per second", f"{human_number(s.tokens_per_second.magnitude)} token/s"],
        ["KV cache", human(s.kv_cache_b, "byte")],
        ["max batch size", f"{s.max_batch_size:,}"],
        ["prefill / decode bottleneck", f"{s.prefill_bottleneck} / {s.decode_bottleneck}"],
        ["fits", str(s.fits)],
    ]


def _train_rows(t: Any) -> list[list[str]]:
    from mlsysim.core.engine.profiles import human, human_number, human_time

    return [
        ["total FLOPs (6ND)", human(t.total_flops_flop, "flop")],
        ["time to train", human_time(t.time_to_train_s)],
        ["device-hours", f"{human_number(t.device_hours.magnitude)} h"],
        ["MFU", f"{t.mfu:.0%}"],
        [
            "energy (x PUE)",
            "n/a" if t.energy_j is None else f"{human_number(t.energy.magnitude)} MWh",
        ],
        ["model state per device (no activations)", human(t.memory_per_device_b, "byte")],
        ["fits", f"{t.fits} (capacity {human(t.memory_capacity_b, 'byte')})"],
        [
            "gradient all-reduce / step",
            "n/a" if t.communication_time_s is None else human_time(t.communication_time_s),
        ],
    ]


def _hardware_rows() -> list[dict[str, Any]]:
    from mlsysim.core.catalogs import Hardware

    rows = []
    for hw in Hardware:
        rows.append(
            {
                "name": hw.name,
                "category": hw.category,
                "peak_flops": {p: q.m_as("flop/s") for p, q in hw.peak_flops.items()},
                "memory_bandwidth_b_per_s": hw.memory_bandwidth.m_as("byte/s"),
                "memory_capacity_b": hw.memory_capacity.m_as("byte"),
                "tdp_w": None if hw.tdp is None else hw.tdp.m_as("W"),
            }
        )
    return rows


def _model_rows() -> list[dict[str, Any]]:
    from mlsysim.core.catalogs import Models

    return [
        {
            "name": m.name,
            "kind": m.kind,
            "params": m.params.m_as("param"),
            "flops_per_sample": m.flops_per_sample.m_as("flop"),
        }
        for m in Models
    ]


def _grid_rows() -> list[dict[str, Any]]:
    from mlsysim.core.catalogs import Grids

    return [
        {
            "name": g.name,
            "carbon_intensity_g_per_kwh": g.carbon_intensity.m_as("gCO2e/kWh"),
            "basis": g.basis,
        }
        for g in Grids
    ]


_CATALOG_ROWS = {"hardware": _hardware_rows, "models": _model_rows, "grids": _grid_rows}
