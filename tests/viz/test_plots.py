"""Plots are tested on their content: line data, labels, the ridge, points and series."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from mlsysim.core.units import Q_
from mlsysim.errors import FormatError, UnknownNameError
from mlsysim.viz.plots import ledger_cell, plot_ledger, plot_roofline, plot_sweep, table_records
from mlsysim.viz.style import save_figure

H100_PEAK_FP16 = 989.4e12  # flop/s, dense (catalog: NVIDIA H100 datasheet)
H100_BANDWIDTH = 3.35e12  # byte/s


def _lines(figure):
    return {line.get_gid(): line for line in figure.axes[0].get_lines()}


def test_importing_viz_does_not_import_matplotlib():
    code = "import sys, mlsysim.viz; print('matplotlib' in sys.modules)"
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_pure_roofline_ridge_is_the_ridge_point_formula():
    from mlsysim.core.formulas.performance import ridge_point

    figure = plot_roofline("H100", efficiency=1.0)
    lines = _lines(figure)
    expected = ridge_point(Q_(H100_PEAK_FP16, "flop/s"), Q_(H100_BANDWIDTH, "byte/s"))
    assert expected.m_as("flop/byte") == pytest.approx(295.343, rel=1e-4)
    assert lines["ridge"].get_xdata()[0] == pytest.approx(expected.m_as("flop/byte"), rel=1e-12)
    roof_x, roof_y = lines["roof"].get_xdata(), lines["roof"].get_ydata()
    assert roof_x[1] == lines["ridge"].get_xdata()[0]
    assert list(roof_y[1:]) == pytest.approx([989.4, 989.4])  # flat compute roof in TFLOP/s
    assert roof_y[0] == pytest.approx(3.35 * roof_x[0])  # bandwidth slope: 3.35 TB/s * I
    assert "roof-peak" not in lines  # nothing to compare against at eta = 1
    axes = figure.axes[0]
    assert axes.get_xlabel() == "Arithmetic intensity [FLOP/byte]"
    assert axes.get_ylabel() == "Throughput [TFLOP/s]"
    assert axes.get_xscale() == axes.get_yscale() == "log"
    assert axes.get_title() == "Roofline: NVIDIA H100 SXM5 80GB, fp16"
    assert lines["ridge"].get_label() == "ridge point 295 FLOP/byte"


def test_ridge_moves_with_efficiency_and_matches_engine_bottlenecks():
    from mlsysim import Engine
    from mlsysim.core.engine.calibration import DEFAULT_EFFICIENCY

    cloud = DEFAULT_EFFICIENCY["cloud"]
    workloads = ["ResNet50", ("ResNet50", 512), ("Llama2_7B", 64), ("Llama2_7B", 1024)]
    figure = plot_roofline("H100", workloads)  # efficiency=None: the engine's default
    lines = _lines(figure)
    ridge = lines["ridge"].get_xdata()[0]
    expected = (H100_PEAK_FP16 * cloud.compute) / (H100_BANDWIDTH * cloud.memory)
    assert ridge == pytest.approx(expected, rel=1e-12)
    assert lines["roof-peak"].get_xdata()[1] == pytest.approx(295.343, rel=1e-4)
    seen = set()
    for item in workloads:
        model, batch = item if isinstance(item, tuple) else (item, 1)
        profile = Engine.solve(model, "H100", batch_size=batch, precision="fp16")
        label = model if batch == 1 else f"{model} (batch {batch})"
        point = lines[f"workload:{label}"]
        x, y = point.get_xdata()[0], point.get_ydata()[0]
        assert x == pytest.approx(profile.arithmetic_intensity.m_as("flop/byte"))
        assert y == pytest.approx(profile.flop_count / profile.latency_s / 1e12)
        assert ("compute" if x >= ridge else "memory") == profile.bottleneck
        assert point.get_label() == f"{label} ({profile.bottleneck}-bound)"
        assert point.get_marker() == ("o" if profile.bottleneck == "compute" else "s")
        seen.add(profile.bottleneck)
    assert seen == {"compute", "memory"}  # the test exercises both sides of the ridge


def test_intensity_workloads_sit_on_the_roof():
    figure = plot_roofline(
        "H100", {"attention": Q_(10, "flop/byte"), "GEMM": Q_(1000, "flop/byte")}, efficiency=1.0
    )
    lines = _lines(figure)
    attention, gemm = lines["workload:attention"], lines["workload:GEMM"]
    assert attention.get_ydata()[0] == pytest.approx(33.5)  # 3.35 TB/s * 10 FLOP/B
    assert gemm.get_ydata()[0] == pytest.approx(989.4)
    assert attention.get_label() == "attention (memory-bound)"
    assert gemm.get_label() == "GEMM (compute-bound)"


def test_roofline_units_scale_to_the_part_and_bad_input_is_named():
    figure = plot_roofline("STM32F4", precision="fp32", efficiency=1.0)
    assert figure.axes[0].get_ylabel().startswith("Throughput [")
    assert figure.axes[0].get_ylabel() != "Throughput [TFLOP/s]"
    with pytest.raises(UnknownNameError, match="H100"):
        plot_roofline("H10")
    with pytest.raises(KeyError, match="fp64"):
        plot_roofline("H100", precision="fp64")


class _StandInLedger:
    """The shape of mlsysim.sim.Ledger that plot_ledger relies on: to_dict()."""

    def to_dict(self):
        return {
            "performance": {"latency": Q_(4.2, "ms"), "throughput": Q_(1234.5, "sample/s")},
            "sustainability": {"energy": Q_(0.0312, "J"), "carbon": Q_(1.5, "kgCO2e")},
            "fit": {"fits": True, "note": "weights in HBM", "budget": None},
        }


def test_ledger_scorecard_lists_every_field_formatted():
    figure = plot_ledger(_StandInLedger())
    table = next(t for t in figure.axes[0].tables if t.get_gid() == "scorecard")
    cells = table.get_celld()
    rows = 1 + max(r for r, _ in cells)
    text = [[cells[r, c].get_text().get_text() for c in range(3)] for r in range(rows)]
    assert text == [
        ["Section", "Metric", "Value"],
        ["performance", "latency", "4.20 ms"],
        ["", "throughput", "1230 samples/s"],
        ["sustainability", "energy", "31.2 mJ"],
        ["", "carbon", "1.50 kg CO₂e"],
        ["fit", "fits", "yes"],
        ["", "note", "weights in HBM"],
        ["", "budget", "n/a"],
    ]
    assert figure.axes[0].get_title() == "Scorecard"


def test_scorecard_of_a_real_ledger_uses_its_title_and_constraint_rows():
    from mlsysim.sim import Ledger

    ledger = Ledger(title="Doorbell fleet")
    ledger.performance["latency"] = Q_(120, "ms")
    ledger.sustainability["energy"] = Q_(2.5, "kWh")
    figure = plot_ledger(ledger, title=None)
    table = figure.axes[0].tables[0]
    cells = table.get_celld()
    body = [[cells[r, c].get_text().get_text() for c in range(3)] for r in (1, 2)]
    assert body == [["performance", "latency", "120 ms"], ["sustainability", "energy", "2.50 kWh"]]
    assert figure.axes[0].get_title() == "Doorbell fleet"


def test_ledger_cells_and_bad_ledgers():
    assert ledger_cell(float("nan")) == "nan"
    assert ledger_cell(Q_(float("inf"), "W")) == "inf"
    assert ledger_cell(Q_(0.3843, ""), "mfu") == "38.4%"  # a ledger fraction field
    assert ledger_cell(Q_(0.3843, ""), "ratio") == "0.384"
    assert ledger_cell(np.bool_(False)) == "no"
    assert ledger_cell(7) == "7"
    with pytest.raises(TypeError, match="to_dict"):
        plot_ledger(42)


SWEEP = [
    {"model": "A", "batch_size": 8, "latency_s": 0.004},
    {"model": "A", "batch_size": 1, "latency_s": 0.001},
    {"model": "B", "batch_size": 1, "latency_s": 0.002},
    {"model": "B", "batch_size": 8, "latency_s": 0.010},
    {"model": "A", "batch_size": 4, "latency_s": 0.002},
]


def test_sweep_draws_one_sorted_series_per_hue_with_units():
    figure = plot_sweep(SWEEP, "batch_size", "latency_s", "model", y_unit="ms", logx=True)
    lines = _lines(figure)
    assert list(lines) == ["series:A", "series:B"]
    assert list(lines["series:A"].get_xdata()) == [1, 4, 8]
    assert list(lines["series:A"].get_ydata()) == pytest.approx([1.0, 2.0, 4.0])
    assert list(lines["series:B"].get_ydata()) == pytest.approx([2.0, 10.0])
    axes = figure.axes[0]
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("Batch size", "Latency [ms]")
    assert axes.get_title() == "Latency vs Batch size"  # the unit suffix _s is not a word
    assert axes.get_xscale() == "log" and axes.get_yscale() == "linear"
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["A", "B"]


def test_sweep_reads_quantities_dataframes_and_engine_tables():
    records = [{"n": i, "bw": Q_(i * 1.5, "TB/s")} for i in (1, 2, 3)]
    figure = plot_sweep(records, "n", "bw", y_unit="GB/s")
    (line,) = figure.axes[0].get_lines()
    assert list(line.get_ydata()) == pytest.approx([1500, 3000, 4500])
    assert figure.axes[0].get_ylabel() == "Bw [GB/s]"
    assert figure.axes[0].get_title() == "Bw vs N"
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(SWEEP)
    assert table_records(frame) == SWEEP
    from mlsysim import Engine

    table = Engine.sweep(["ResNet50"], ["H100"], batch_sizes=[1, 8])
    figure = plot_sweep(table, "batch_size", "throughput_per_s", "hardware")
    (line,) = figure.axes[0].get_lines()
    assert list(line.get_ydata()) == pytest.approx([r["throughput_per_s"] for r in table])
    assert figure.axes[0].get_ylabel() == "Throughput [samples/s]"
    assert figure.axes[0].get_title() == "Throughput vs Batch size"


SWEEP_LABELS = {  # every numeric column of Engine.sweep, its axis label and title name
    "batch_size": ("Batch size", "Batch size"),
    "latency_s": ("Latency [s]", "Latency"),
    "throughput_per_s": ("Throughput [samples/s]", "Throughput"),
    "arithmetic_intensity": ("Arithmetic intensity [FLOP/byte]", "Arithmetic intensity"),
    "mfu": ("MFU", "MFU"),
    "energy_j": ("Energy per sample [J]", "Energy per sample"),
    "memory_required_b": ("Memory required [B]", "Memory required"),
}


def test_every_numeric_engine_sweep_column_has_a_label_with_its_unit():
    from mlsysim import Engine
    from mlsysim.core.engine.sweep import COLUMNS

    table = Engine.sweep(["ResNet50"], ["H100"], batch_sizes=[1, 8])
    row = table[0]
    numeric = [c for c in COLUMNS if isinstance(row[c], (int, float)) and type(row[c]) is not bool]
    assert numeric == list(SWEEP_LABELS)  # a new numeric column needs a label here
    for column, (label, name) in SWEEP_LABELS.items():
        axes = plot_sweep(table, "batch_size", column).axes[0]
        assert axes.get_ylabel() == label
        assert axes.get_title() == f"{name} vs Batch size"
        assert list(axes.get_lines()[0].get_ydata()) == [r[column] for r in table]


SERVE_SWEEP_LABELS = {  # every numeric column of Engine.sweep_serve, its axis label
    "tensor_parallel": "Tensor-parallel devices",
    "prompt_tokens": "Prompt tokens",
    "output_tokens": "Output tokens",
    "batch_size": "Batch size",
    "ttft_s": "Time to first token [s]",
    "tpot_s": "Time per output token [s]",
    "e2e_latency_s": "End-to-end latency [s]",
    "tokens_per_s": "Throughput [tokens/s]",
    "memory_floor_s": "Decode memory floor [s]",
    "kv_cache_b": "KV cache [B]",
    "memory_required_b": "Memory required [B]",
    "max_batch_size": "Largest batch that fits",
}


def test_every_numeric_serving_sweep_column_has_a_label_with_its_unit():
    from mlsysim import Engine
    from mlsysim.core.engine.sweep_serve import SERVE_COLUMNS

    table = Engine.sweep_serve("Llama2_7B", "H100", batch_sizes=[1, 8])
    row = table[0]
    numeric = [c for c in SERVE_COLUMNS if type(row[c]) in (int, float)]
    assert numeric == list(SERVE_SWEEP_LABELS)  # a new numeric column needs a label here
    for column, label in SERVE_SWEEP_LABELS.items():
        axes = plot_sweep(table, "batch_size", column).axes[0]
        assert axes.get_ylabel() == label
        assert list(axes.get_lines()[0].get_ydata()) == [r[column] for r in table]
    axes = plot_sweep(table, "batch_size", "tpot_s", y_unit="ms").axes[0]
    assert axes.get_ylabel() == "Time per output token [ms]"
    # memory-bound decode: (13.48 GB + batch x 576 tokens x 524,288 B) / (60% of 3.35 TB/s)
    # + 450 us: batch 1 -> 7.306711 ms, batch 8 -> 8.358417 ms
    floors = [(13.48e9 + b * 576 * 524_288) / 3.35e12 for b in (1, 8)]
    expected = [(floor / 0.6 + 450e-6) * 1e3 for floor in floors]
    assert list(axes.get_lines()[0].get_ydata()) == pytest.approx(expected, rel=1e-9)
    with pytest.raises(FormatError, match="counts token/s, not samples"):
        plot_sweep(table, "batch_size", "tokens_per_s", y_unit="ksample/s")


MIXED = ["ResNet50", "Llama2_7B"]  # a CNN (samples) and a transformer (tokens) in one plot


@pytest.mark.parametrize(
    ("models", "throughput", "energy"),
    [
        ("ResNet50", "Throughput [samples/s]", "Energy per sample [J]"),
        ("Llama2_7B", "Throughput [tokens/s]", "Energy per token [J]"),
        (MIXED, "Throughput [samples/s or tokens/s]", "Energy per sample or token [J]"),
    ],
    ids=["cnn", "transformer", "mixed"],
)
def test_sweep_throughput_and_energy_labels_name_what_the_rows_count(models, throughput, energy):
    # a transformer's solve is a decode step: tokens/s and energy per token (profile.unit)
    from mlsysim import Engine

    table = Engine.sweep(models, ["H100"], batch_sizes=[1, 8])
    axes = plot_sweep(table, "batch_size", "throughput_per_s", "model").axes[0]
    assert axes.get_ylabel() == throughput
    assert axes.get_title() == "Throughput vs Batch size"
    axes = plot_sweep(table, "batch_size", "energy_j", "model").axes[0]
    assert axes.get_ylabel() == energy
    assert axes.get_title() == f"{energy[:-4]} vs Batch size"
    axes = plot_sweep(table, "batch_size", "energy_j", y_unit="mJ").axes[0]
    assert axes.get_ylabel() == energy.replace("[J]", "[mJ]")
    assert sorted(axes.get_lines()[0].get_ydata()) == pytest.approx(
        sorted(r["energy_j"] * 1e3 for r in table)
    )


def test_sweep_throughput_in_another_rate_unit_and_rows_without_a_unit_column():
    from mlsysim import Engine

    table = Engine.sweep("Llama2_7B", "H100", batch_sizes=[1, 8])
    axes = plot_sweep(table, "batch_size", "throughput_per_s", y_unit="ktoken/s").axes[0]
    assert axes.get_ylabel() == "Throughput [ktokens/s]"
    assert list(axes.get_lines()[0].get_ydata()) == pytest.approx(
        [r["throughput_per_s"] / 1e3 for r in table]
    )
    rows = [{"batch_size": 1, "throughput_per_s": 5.0, "energy_j": 2.0}]  # what is counted: unknown
    assert plot_sweep(rows, "batch_size", "throughput_per_s").axes[0].get_ylabel() == (
        "Throughput [1/s]"
    )
    assert plot_sweep(rows, "batch_size", "energy_j").axes[0].get_ylabel() == "Energy [J]"
    cnn = Engine.sweep("ResNet50", "H100", batch_sizes=[1, 8])  # counts samples, not tokens
    with pytest.raises(FormatError) as err:
        plot_sweep(cnn, "batch_size", "throughput_per_s", y_unit="ktoken/s")
    assert str(err.value) == (
        "column 'throughput_per_s' counts sample/s, not tokens: y_unit 'ktoken/s' would relabel it"
    )


def test_sweep_mfu_converts_to_percent_and_intensity_to_other_units():
    rows = [{"batch_size": 1, "mfu": 0.25, "arithmetic_intensity": 160.0}]
    rows.append({"batch_size": 8, "mfu": 0.5, "arithmetic_intensity": 320.0})
    axes = plot_sweep(rows, "batch_size", "mfu", y_unit="%").axes[0]
    assert axes.get_ylabel() == "MFU [%]"
    assert list(axes.get_lines()[0].get_ydata()) == pytest.approx([25.0, 50.0])
    axes = plot_sweep(rows, "arithmetic_intensity", "mfu", x_unit="flop/bit").axes[0]
    assert axes.get_xlabel() == "Arithmetic intensity [FLOP/bit]"
    assert list(axes.get_lines()[0].get_xdata()) == pytest.approx([20.0, 40.0])
    with pytest.raises(FormatError, match="column 'batch_size' has no known unit"):
        plot_sweep(rows, "batch_size", "mfu", x_unit="s")


def test_sweep_bad_columns_are_named():
    with pytest.raises(UnknownNameError, match="Did you mean 'latency_s'"):
        plot_sweep(SWEEP, "batch_size", "latency")
    with pytest.raises(TypeError, match="column 'model' must be numeric"):
        plot_sweep(SWEEP, "model", "latency_s")
    with pytest.raises(FormatError, match="no known unit"):
        plot_sweep(SWEEP, "batch_size", "latency_s", x_unit="ms")
    with pytest.raises(FormatError) as caught:
        plot_sweep(SWEEP, "batch_size", "latency_s", y_unit="GB")
    assert str(caught.value) == "column 'latency_s' is in s, which does not convert to GB"
    rows = [{"n": 1, "lat": Q_(2, "ms")}, {"n": 2, "lat": Q_(3, "ms")}]
    with pytest.raises(FormatError) as caught:
        plot_sweep(rows, "n", "lat", y_unit="GB")
    assert str(caught.value) == "column 'lat' is in ms, which does not convert to GB"
    with pytest.raises(FormatError, match="unknown unit 'furlongz'"):
        plot_sweep(rows, "n", "lat", y_unit="furlongz")
    with pytest.raises(TypeError, match="table of records"):
        plot_sweep([1, 2], "a", "b")


def test_figures_are_deterministic(tmp_path):
    first = save_figure(plot_roofline("H100", ["ResNet50"]), tmp_path / "a.svg").read_bytes()
    second = save_figure(plot_roofline("H100", ["ResNet50"]), tmp_path / "b.svg").read_bytes()
    assert first == second
    assert b"<dc:date>" not in first
    pdf_a = save_figure(plot_sweep(SWEEP, "batch_size", "latency_s", "model"), tmp_path / "a.pdf")
    pdf_b = save_figure(plot_sweep(SWEEP, "batch_size", "latency_s", "model"), tmp_path / "b.pdf")
    assert pdf_a.read_bytes() == pdf_b.read_bytes()
    assert b"CreationDate" not in pdf_a.read_bytes()


@pytest.mark.parametrize("dpi", [80, 100])
def test_a_plain_savefig_keeps_the_axis_labels_and_title_inside_the_canvas(dpi, tmp_path):
    """No bbox_inches needed: the figures carry the constrained layout engine."""
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    figure = plot_roofline("H100", ["ResNet50"])
    assert isinstance(figure.get_layout_engine(), ConstrainedLayoutEngine)
    figure.savefig(tmp_path / "roofline.png", dpi=dpi)  # lays out at this dpi
    renderer = figure.canvas.get_renderer()
    canvas = figure.bbox  # in pixels at the saved dpi
    axes = figure.axes[0]
    for text in (axes.xaxis.label, axes.yaxis.label, axes.title):
        box = text.get_window_extent(renderer)
        assert box.x0 >= 0 and box.y0 >= 0, text.get_text()
        assert box.x1 <= canvas.x1 and box.y1 <= canvas.y1, text.get_text()


def test_scorecard_prints_like_the_ledger_and_fills_the_figure():
    from mlsysim.sim import ResourceSimulation

    ledger = ResourceSimulation("Doorbell", "TinyPioneer").evaluate({"region": "Quebec"})
    figure = plot_ledger(ledger)
    table = figure.axes[0].tables[0]
    cells = table.get_celld()
    rows = ledger.rows()
    shown = [cells[r, 2].get_text().get_text() for r in range(1, len(rows) + 1)]
    # one formatting path: every cell is the ledger's own text (long text wrapped at 40)
    assert [s.replace("\n", " ") for s in shown] == [text for _, _, text in rows]
    by_field = {field: text for (_, field, _), text in zip(rows, shown, strict=True)}
    assert by_field["average_power"] == "7.55 mW"  # 776.4 µW + 500 x 1 s x 1.17 W / 86,400 s
    assert by_field["mtbf"] == "50.0 years"  # each device's MTTF: 438,000 h / 8766 h/yr
    assert by_field["mean_time_between_fleet_failures"] == "2.63 min"  # 438,000 h / 1e7
    assert by_field["failure_rate"] == "200,000/yr"  # 1e7 / 438,000 h in 1/yr, 3 digits
    assert by_field["capex"] == "$25.0 M"  # 1e7 x 2.50 USD
    assert by_field["mtbf_meaning"] == (  # wrapped at 40 characters
        "each device's MTBF (its MTTF):\nindependent devices, not a series system"
    )
    meaning = 1 + [field for _, field, _ in rows].index("mtbf_meaning")
    assert cells[meaning, 2].get_height() == pytest.approx(2 * cells[1, 2].get_height())
    renderer = figure.canvas.get_renderer()
    figure.canvas.draw()
    table_box, axes_box = table.get_window_extent(renderer), figure.axes[0].get_window_extent()
    assert table_box.y0 == pytest.approx(axes_box.y0, abs=1)  # no blank band under the table
    assert table_box.y1 == pytest.approx(axes_box.y1, abs=1)
    assert axes_box.y0 < 0.05 * figure.bbox.height
