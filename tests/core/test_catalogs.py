"""The sourced catalogs: published specs round-trip, access and errors, provenance, and
validation of broken YAML (each error names file, entry and field)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap

import pytest

from mlsysim.core import catalog_loader
from mlsysim.core.catalogs import (
    Datacenters,
    Grids,
    Hardware,
    Models,
    load_datacenters,
    load_grids,
    load_hardware,
    load_models,
)
from mlsysim.core.units import Q_, ureg
from mlsysim.errors import CatalogError, UnknownNameError


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Parsed-YAML cache in tmp so tests never share state with a user's cache."""
    monkeypatch.setenv("MLSYSIM_CACHE_DIR", str(tmp_path / "cache"))


def approx_q(actual, expected: str, rel: float = 1e-9) -> bool:
    """``actual`` equals the published "<number> <unit>" to ``rel``."""
    number, unit = expected.split(" ", 1)
    return actual.m_as(unit) == pytest.approx(float(number), rel=rel)


# ----------------------------------------------------------------------------- round-trips
@pytest.mark.parametrize(
    ("precision", "published"),
    [
        ("bf16", "989.4 TFLOP/s"),
        ("fp16", "989.4 TFLOP/s"),
        ("tf32", "494.7 TFLOP/s"),
        ("fp32", "66.9 TFLOP/s"),
        ("fp8", "1978.9 TFLOP/s"),
        ("int8", "1978.9 TFLOP/s"),
    ],
)
def test_h100_sxm_dense_peaks_round_trip(precision, published):
    assert approx_q(Hardware.H100.peak_flops[precision], published)


def test_h100_bf16_is_989_4e12_flop_per_second_in_si():
    assert Hardware.H100.peak_flops["bf16"].m_as("flop/s") == pytest.approx(989.4e12)
    assert Hardware.H100.si["peak_flops.bf16"] == pytest.approx(989.4e12)
    assert Hardware.H100.si["memory_bandwidth"] == pytest.approx(3.35e12)  # byte/s
    assert Hardware.H100.si["memory_capacity"] == pytest.approx(80e9)  # byte


def test_a100_80gb_sxm_datasheet_round_trips():
    a100 = Hardware.A100
    assert a100.memory_bandwidth.m_as("TB/s") == pytest.approx(2.039)
    assert a100.memory_capacity.m_as("byte") == pytest.approx(80e9)
    assert a100.tdp.m_as("W") == pytest.approx(400)
    assert a100.interconnect_bandwidth.m_as("GB/s") == pytest.approx(600)
    assert a100.peak_flops["bf16"].m_as("TFLOP/s") == pytest.approx(312)
    assert a100.peak_flops["tf32"].m_as("TFLOP/s") == pytest.approx(156)
    assert a100.peak_flops["fp32"].m_as("TFLOP/s") == pytest.approx(19.5)
    assert Hardware.A100_40GB.memory_bandwidth.m_as("TB/s") == pytest.approx(1.555)


def test_gb_and_gib_stay_distinct():
    """A100: 80 GB = 80e9 bytes; TPU v4: 32 GiB = 32 * 2**30 bytes (7.4 % more than 32 GB)."""
    assert Hardware.A100.memory_capacity.m_as("byte") == 80_000_000_000
    assert Hardware.TPUv4.memory_capacity.m_as("byte") == 32 * 2**30
    assert Hardware.TPUv4.memory_capacity.m_as("GB") == pytest.approx(34.359738368)


def test_mcu_sleep_power_is_micro_watts():
    assert Hardware.nRF52840.sleep_power.m_as("uW") == pytest.approx(4.5)  # 3 V x 1.5 uA
    assert Hardware.ESP32_S3.memory_capacity.m_as("byte") == 512 * 1024


def test_llama2_7b_has_its_real_parameter_count():
    assert Models.Llama2_7B.params.m_as("param") == pytest.approx(6.74e9)
    assert Models.Llama2_70B.params.m_as("param") == pytest.approx(68.98e9)
    assert Models.GPT3_175B.params.m_as("param") == pytest.approx(175e9)


def bert_model_params(vocab, positions, token_types, d, layers, d_ff) -> int:
    """Hugging Face BertModel (with pooler), counted weight by weight from its config."""
    embeddings = (vocab + positions + token_types) * d + 2 * d  # three tables + LayerNorm
    attention = 4 * (d * d + d) + 2 * d  # q, k, v, output dense (+ biases), LayerNorm
    ffn = (d * d_ff + d_ff) + (d_ff * d + d) + 2 * d  # intermediate, output, LayerNorm
    pooler = d * d + d
    return embeddings + layers * (attention + ffn) + pooler


def test_bert_has_its_real_checkpoint_parameter_count():
    # bert-base-uncased / bert-large-uncased config.json: vocab 30522, 512 positions, 2 types
    base = bert_model_params(30522, 512, 2, d=768, layers=12, d_ff=3072)
    large = bert_model_params(30522, 512, 2, d=1024, layers=24, d_ff=4096)
    assert (base, large) == (109_482_240, 335_141_888)
    assert Models.BERTBase.params.m_as("param") == base  # not the paper's rounded 110M
    assert Models.BERTLarge.params.m_as("param") == large  # nor 340M
    assert Models.BERTBase.provenance["params"].kind == "derived"


def test_llm_flops_per_token_is_derived_from_arch():
    """2N + 2·n_layers·context·d_model = 2·6.74e9 + 2·32·4096·4096 = 14,553,741,824 FLOP."""
    assert Models.Llama2_7B.flops_per_sample.m_as("flop") == pytest.approx(14_553_741_824)
    assert Models.Llama2_7B.provenance["flops_per_sample"].kind == "derived"
    assert Models.Llama2_7B.arch.head_dim == 128
    assert Models.Llama2_70B.arch.n_kv_heads == 8


def test_mac_counts_convert_at_two_flops_per_mac():
    assert Models.ResNet50.flops_per_sample.m_as("GFLOP") == pytest.approx(8.18)  # 4.09 GMAC
    assert Models.MobileNetV2.flops_per_sample.m_as("GFLOP") == pytest.approx(0.6)  # 300 MMAC


def test_grids_and_datacenters_hold_their_published_values():
    assert Grids.Poland.carbon_intensity.m_as("gCO2e/kWh") == pytest.approx(662)
    assert Grids.France.carbon_intensity.m_as("gCO2e/kWh") == pytest.approx(56)
    assert Grids.Quebec.carbon_intensity < Grids.Norway.carbon_intensity
    assert Grids.Iceland.electricity_price is None
    assert Datacenters.Hyperscale.pue.m_as("") == pytest.approx(1.10)
    assert Datacenters.Enterprise.pue.m_as("") == pytest.approx(1.58)


def test_interconnect_figures_are_labelled_bidirectional_aggregates():
    # the engine halves them once (link_bandwidth); a per-direction entry would be halved twice
    parts = [h for h in Hardware if h.interconnect_bandwidth is not None]
    assert len(parts) >= 10
    for part in parts:
        assert "bidirectional" in part.provenance["interconnect_bandwidth"].note, part.name
    assert Hardware.H100.interconnect_bandwidth.m_as("GB/s") == pytest.approx(900)


def test_every_interconnect_has_a_sourced_per_hop_latency():
    parts = [h for h in Hardware if h.interconnect_bandwidth is not None]
    assert len(parts) >= 10
    for part in parts:
        assert part.interconnect_latency is not None, part.name
        source = part.provenance["interconnect_latency"]
        assert source.date and (source.url or source.is_assumption), part.name
        if source.is_assumption:
            assert source.note, part.name
    nvlink = ["V100", "A100_40GB", "A100", "H100", "H100_PCIe", "H200", "B200"]
    for name in nvlink:  # NCCL v2.20.3-1 tuning.cc hwLat[NVLINK][Ring][LL] = .6 us per ring step
        assert Hardware[name].interconnect_latency.m_as("us") == pytest.approx(0.6), name
        assert Hardware[name].provenance["interconnect_latency"].key == "nccl-2.20.3-tuning"
        assert not Hardware[name].provenance["interconnect_latency"].is_assumption
    for name in ("MI300X", "TPUv4", "TPUv5e", "TPUv5p"):  # no vendor publishes a hop latency
        assert Hardware[name].provenance["interconnect_latency"].is_assumption, name
    assert Hardware.MI300X.si["interconnect_latency"] == pytest.approx(0.8e-6)
    assert all(h.interconnect_latency is None for h in Hardware if h not in parts)


def test_tpu_v5p_hbm_is_95_gib_as_googles_table_prints_it():
    # 'HBM capacity per chip (GiB) 95': 95 x 2**30 = 102.0 GB, 7.4 % more than 95 GB
    assert Hardware.TPUv5p.memory_capacity.m_as("byte") == 95 * 2**30
    assert Hardware.TPUv5p.memory_capacity.m_as("GB") == pytest.approx(102.00547328)


@pytest.mark.parametrize(
    ("name", "published_gbps", "published_bidirectional_gbytes"),
    [("TPUv5e", 1600, 400), ("TPUv5p", 4800, 1200)],
)
def test_tpu_ici_is_the_published_per_direction_gbps_doubled(
    name, published_gbps, published_bidirectional_gbytes
):
    # Google's TPU pages gave 'Interchip Interconnect BW' in Gbps, one direction; the current
    # tables give the bidirectional GBps. Gbit is not GB: 1600 Gb/s = 200 GB/s each way.
    per_direction = Q_(published_gbps, "Gbit/s").to("GB/s")
    catalog = Hardware[name].interconnect_bandwidth
    assert catalog.m_as("GB/s") == pytest.approx(2 * per_direction.m_as("GB/s"))
    assert catalog.m_as("GB/s") == pytest.approx(published_bidirectional_gbytes)


def test_every_grid_states_its_carbon_accounting_basis():
    assert {g.basis for g in Grids} == {"lifecycle", "direct"}
    for grid in Grids:  # Ember's dataset is lifecycle; EIA's state CO2 / generation is direct
        source = grid.provenance["carbon_intensity"].key
        if source == "ember-2023":
            assert grid.basis == "lifecycle", grid.name
        if source == "eia-epa-2023":
            assert grid.basis == "direct", grid.name


def test_quebec_is_a_lifecycle_figure_comparable_with_the_ember_countries():
    # IPCC AR5 Annex III lifecycle medians x Quebec's mix: 0.94 x 24 (hydro) + 0.05 x 11 (wind)
    quebec = Grids.Quebec
    assert quebec.basis == Grids.Poland.basis == Grids.Norway.basis == "lifecycle"
    assert quebec.carbon_intensity.m_as("gCO2e/kWh") == pytest.approx(
        0.94 * 24 + 0.05 * 11, abs=0.5
    )
    assert quebec.provenance["carbon_intensity"].is_assumption
    ratio = (Grids.Poland.carbon_intensity / quebec.carbon_intensity).m_as("")
    assert ratio == pytest.approx(662 / 23)  # ~29x like with like, not the 389x of 662 / 1.7


GRID_OK = """\
reviewed: 2026-11-28
sources:
  toy-grid: {title: Toy grid report, url: https://example.org/grid, date: 2024}
entries:
  Toyland:
    display_name: Toyland
    basis: lifecycle
    carbon_intensity: {value: 100 gCO2e/kWh, source: toy-grid}
"""


@pytest.mark.parametrize(
    ("broken", "why"),
    [
        (GRID_OK.replace("    basis: lifecycle\n", ""), "missing required text field"),
        (GRID_OK.replace("basis: lifecycle", "basis: marginal"), "'marginal' is not one of"),
    ],
)
def test_a_grid_without_a_valid_basis_is_rejected(tmp_path, broken, why):
    message = load_error(tmp_path, broken, loader=load_grids)
    assert "entry 'Toyland', field 'basis'" in message and why in message
    assert load_grids(write(tmp_path, GRID_OK)).Toyland.basis == "lifecycle"


def test_catalogs_cover_what_the_issue_asks_for():
    hardware = {
        "V100", "A100_40GB", "A100", "H100", "H100_PCIe", "H200", "B200", "MI300X", "TPUv4",
        "TPUv5e", "TPUv5p", "JetsonOrinNano", "JetsonAGXOrin", "Coral", "A17Pro",
        "Snapdragon8Gen3", "ESP32_S3", "nRF52840", "STM32F4", "STM32H7", "EPYC9654",
    }  # fmt: skip
    models = {
        "ResNet50", "MobileNetV2", "BERTBase", "BERTLarge", "GPT2_XL", "GPT3_175B", "Llama2_7B",
        "Llama2_13B", "Llama2_70B", "Llama3_8B", "Llama3_70B", "Llama3_405B", "KWS", "VWW",
        "YOLOv8n",
    }  # fmt: skip
    grids = {"Quebec", "Norway", "France", "Sweden", "US", "California", "Germany", "Poland",
             "India", "China", "Iowa"}  # fmt: skip
    assert hardware <= set(Hardware.names())
    assert models <= set(Models.names())
    assert grids <= set(Grids.names()) and len(Grids) >= 15
    assert {"Hyperscale", "Enterprise"} <= set(Datacenters.names())
    assert {h.category for h in Hardware} == {"cloud", "edge", "mobile", "tiny", "cpu"}


# ----------------------------------------------------------------------------- access
def test_attribute_and_item_access_return_the_same_entry():
    assert Hardware.H100 is Hardware["H100"]
    assert Models.Llama2_7B is Models["Llama2_7B"]
    assert Grids.Quebec.name == "Quebec"
    assert "H100" in Hardware and "H10" not in Hardware
    assert Hardware.H100 in Hardware
    assert [entry.name for entry in Datacenters] == Datacenters.names()


def test_entries_are_read_only_and_a_replaced_copy_gets_its_own_si():
    with pytest.raises(AttributeError, match="HardwareSpec is read-only"):
        Hardware.H100.tdp = Q_(1, "W")
    cooler = dataclasses.replace(Hardware.H100, tdp=Q_(500, "W"))
    assert cooler.si["tdp"] == pytest.approx(500)
    assert Hardware.H100.si["tdp"] == pytest.approx(700)
    assert repr(Hardware.H100) == "<HardwareSpec H100: NVIDIA H100 SXM5 80GB>"


def test_dir_lists_entry_names_for_tab_completion():
    names = dir(Hardware)
    assert {"H100", "A100_40GB", "ESP32_S3", "names"} <= set(names)
    assert "Llama3_405B" in dir(Models)


def test_unknown_name_lists_the_closest_names():
    with pytest.raises(UnknownNameError) as excinfo:
        Hardware["H10"]
    assert str(excinfo.value).startswith(
        "unknown hardware 'H10'. Did you mean 'H100', 'V100', 'H200'? Valid: A100, A100_40GB,"
    )
    assert isinstance(excinfo.value, KeyError)


def test_unknown_attribute_is_also_an_attribute_error():
    with pytest.raises(UnknownNameError, match="Did you mean 'Llama2_7B'"):
        Models.Llama2_7b  # noqa: B018
    assert not hasattr(Grids, "Atlantis")


def test_precision_lookups_are_case_insensitive_like_bytes_per_param():
    assert Hardware.H100.peak_flops["FP16"] is Hardware.H100.peak_flops["fp16"]
    assert Hardware.H100.peak_flops[" Bf16"].m_as("TFLOP/s") == 989.4


def test_catalog_names_are_case_sensitive_but_the_case_match_is_suggested_first():
    with pytest.raises(UnknownNameError) as excinfo:
        Hardware["h100"]
    assert excinfo.value.suggestions[0] == "H100"  # not 'V100', which difflib ranked first
    assert str(excinfo.value).startswith("unknown hardware 'h100'. Did you mean 'H100', ")
    assert "h100" not in Hardware


def test_unknown_precision_lists_the_precisions_that_part_has():
    with pytest.raises(UnknownNameError) as excinfo:
        Hardware.TPUv4.peak_flops["fp4"]
    assert str(excinfo.value) == "unknown TPUv4 precision 'fp4'. Valid: bf16, int8."


# ----------------------------------------------------------------------------- provenance
def _numeric_fields(entry) -> dict[str, object]:
    fields = {}
    for key in (
        "memory_bandwidth", "memory_capacity", "tdp", "idle_power", "interconnect_bandwidth",
        "unit_cost", "sleep_power", "mttf", "embodied_carbon", "lifetime", "params",
        "flops_per_sample", "carbon_intensity", "electricity_price", "water_intensity", "pue",
    ):  # fmt: skip
        if getattr(entry, key, None) is not None:
            fields[key] = getattr(entry, key)
    for precision, value in getattr(entry, "peak_flops", {}).items():
        fields[f"peak_flops.{precision}"] = value
    if getattr(entry, "arch", None) is not None:
        for key in ("n_layers", "d_model", "n_heads", "n_kv_heads", "d_ff", "vocab_size",
                    "context_length"):  # fmt: skip
            fields[f"arch.{key}"] = getattr(entry.arch, key)
    return fields


@pytest.mark.parametrize("catalog", [Hardware, Models, Grids, Datacenters], ids=repr)
def test_every_numeric_field_has_a_dated_source(catalog):
    for entry in catalog:
        for key in _numeric_fields(entry):
            source = entry.provenance[key]
            assert source.title and source.url and source.date, (entry.name, key)
            if source.is_assumption:
                assert source.note, (entry.name, key)


def test_assumptions_are_labelled_and_datasheet_values_are_not():
    assert not Hardware.H100.provenance["peak_flops.bf16"].is_assumption
    mcu = Hardware.ESP32_S3.provenance["peak_flops.fp32"]
    assert mcu.is_assumption and "240 MHz" in mcu.note and "espressif" in mcu.url
    assert Hardware.A100.provenance["unit_cost"].is_assumption


# ----------------------------------------------------------------------------- laziness
def test_importing_catalogs_reads_no_yaml_until_first_access():
    code = textwrap.dedent(
        """
        import sys
        import mlsysim.core.catalogs as c
        assert not c.Hardware.loaded and not c.Models.loaded
        assert "yaml" not in sys.modules and "pint" not in sys.modules
        c.Hardware.H100
        assert c.Hardware.loaded and not c.Models.loaded
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


def test_a_new_catalog_reads_its_file_on_first_access(tmp_path):
    path = write(tmp_path, HARDWARE_OK)
    catalog = load_hardware(path)
    assert not catalog.loaded
    assert catalog.Toy.tdp.m_as("W") == pytest.approx(5)
    assert catalog.loaded


def test_editing_a_file_is_never_served_from_the_parse_cache(tmp_path):
    path = write(tmp_path, HARDWARE_OK)
    assert load_hardware(path).Toy.tdp.m_as("W") == pytest.approx(5)
    path.write_text(HARDWARE_OK.replace("tdp: {value: 5 W", "tdp: {value: 6 W"))
    assert load_hardware(path).Toy.tdp.m_as("W") == pytest.approx(6)


def test_an_unchanged_file_is_served_from_the_parse_cache(tmp_path, monkeypatch):
    path = write(tmp_path, HARDWARE_OK)
    load_hardware(path).names()  # parses and fills the cache

    def no_yaml(*_):
        raise AssertionError("YAML parsed again although the file did not change")

    monkeypatch.setattr(catalog_loader, "_parse_yaml", no_yaml)
    assert load_hardware(path).Toy.memory_bandwidth.m_as("GB/s") == pytest.approx(10)
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1


def test_known_unit_spellings_agree_with_pint():
    for expected, spellings in catalog_loader.KNOWN_UNITS.items():
        _, want = ureg.get_root_units(expected)
        for spelling in spellings:
            assert ureg.get_root_units(spelling)[1] == want, (spelling, expected)


# ----------------------------------------------------------------------------- broken YAML
HARDWARE_OK = """\
reviewed: 2026-11-28
sources:
  toy-sheet: {title: Toy datasheet, url: https://example.org/toy.pdf, date: 2024-01}
entries:
  Toy:
    display_name: Toy accelerator
    category: edge
    peak_flops:
      int8: {value: 4 TFLOP/s, source: toy-sheet}
    memory_bandwidth: {value: 10 GB/s, source: toy-sheet}
    memory_capacity: {value: 1 GB, source: toy-sheet}
    tdp: {value: 5 W, source: toy-sheet}
"""


def write(tmp_path, text: str):
    path = tmp_path / "hardware.yaml"
    path.write_text(text)
    return path


def load_error(tmp_path, text: str, loader=load_hardware) -> str:
    with pytest.raises(CatalogError) as excinfo:
        loader(write(tmp_path, text)).names()
    return str(excinfo.value)


@pytest.mark.parametrize(
    ("broken", "entry", "field", "why"),
    [
        (  # no source at all
            HARDWARE_OK.replace("tdp: {value: 5 W, source: toy-sheet}", "tdp: {value: 5 W}"),
            "Toy", "tdp", "no source",
        ),
        (  # a source key that the sources table does not define
            HARDWARE_OK.replace("tdp: {value: 5 W, source: toy-sheet}",
                                "tdp: {value: 5 W, source: toy-shet}"),
            "Toy", "tdp", "unknown source 'toy-shet' (did you mean 'toy-sheet'?)",
        ),
        (  # bandwidth in GB: a capacity, not a rate
            HARDWARE_OK.replace("10 GB/s", "10 GB"),
            "Toy", "memory_bandwidth", "wrong unit 'GB': expected units of byte/s",
        ),
        (  # a parameter count is not a byte count even though pint calls both dimensionless
            HARDWARE_OK.replace("1 GB,", "1 param,"),
            "Toy", "memory_capacity", "wrong unit 'param': expected units of byte",
        ),
        (  # a unit pint does not know
            HARDWARE_OK.replace("5 W", "5 Wats"),
            "Toy", "tdp", "unknown unit 'Wats'",
        ),
        (  # a required field left out
            HARDWARE_OK.replace("    tdp: {value: 5 W, source: toy-sheet}\n", ""),
            "Toy", "tdp", "missing required field",
        ),
        (  # a typo in a field name is not silently ignored
            HARDWARE_OK.replace("memory_bandwidth:", "memory_bandwith:"),
            "Toy", "memory_bandwith", "unknown field",
        ),
        (  # a sparse-only or invented precision
            HARDWARE_OK.replace("int8:", "int4:"),
            "Toy", "peak_flops.int4", "precision not in",
        ),
        (  # an assumption must say why
            HARDWARE_OK.replace("tdp: {value: 5 W, source: toy-sheet}",
                                "tdp: {value: 5 W, source: assumption}"),
            "Toy", "tdp", "needs a 'note'",
        ),
        (  # a number that is not one
            HARDWARE_OK.replace("5 W", "five W"),
            "Toy", "tdp", "cannot read a number",
        ),
        (  # an unquoted comma splits a flow mapping into a bogus key
            HARDWARE_OK.replace("tdp: {value: 5 W, source: toy-sheet}",
                                "tdp: {value: 5 W, source: toy-sheet, note: up to 1,000 W}"),
            "Toy", "tdp", "unknown key '000 W' (quote text that contains a comma)",
        ),
        (  # a measured fraction of peak above 1 would beat the part's own peak
            HARDWARE_OK + "    compute_efficiency: {value: 1.4, source: toy-sheet}\n",
            "Toy", "compute_efficiency", "a fraction of peak in (0, 1]; got 1.4",
        ),
        (  # percent is read as a fraction: 140 % is 1.4
            HARDWARE_OK + "    compute_efficiency: {value: 140 %, source: toy-sheet}\n",
            "Toy", "compute_efficiency", "a fraction of peak in (0, 1]; got 1.4",
        ),
        (  # the power of a partial load cannot exceed the flat-out draw
            HARDWARE_OK + "    active_power: {value: 6 W, source: toy-sheet}\n",
            "Toy", "active_power", "6 W is above the tdp of 5 W",
        ),
        (  # a negative rate would make the engine's memory time negative
            HARDWARE_OK.replace("10 GB/s", "-3.35 TB/s"),
            "Toy", "memory_bandwidth", "must be > 0, got '-3.35 TB/s'",
        ),
        (  # a negative peak: the sign is checked on every precision
            HARDWARE_OK.replace("4 TFLOP/s", "-989.4 TFLOP/s"),
            "Toy", "peak_flops.int8", "must be > 0, got '-989.4 TFLOP/s'",
        ),
        (  # zero capacity: nothing fits, and the ratios divide by it
            HARDWARE_OK.replace("1 GB,", "0 GB,"),
            "Toy", "memory_capacity", "must be > 0, got '0 GB'",
        ),
        (  # float() reads 'nan', which passes every comparison
            HARDWARE_OK.replace("1 GB,", "nan GB,"),
            "Toy", "memory_capacity", "must be a finite number, got 'nan GB'",
        ),
        (
            HARDWARE_OK.replace("1 GB,", "inf GB,"),
            "Toy", "memory_capacity", "must be a finite number, got 'inf GB'",
        ),
        (  # an optional field obeys the same rule
            HARDWARE_OK + "    idle_power: {value: -1 W, source: toy-sheet}\n",
            "Toy", "idle_power", "must be > 0, got '-1 W'",
        ),
        (
            HARDWARE_OK + "    unit_cost: {value: 0 USD, source: toy-sheet}\n",
            "Toy", "unit_cost", "must be > 0, got '0 USD'",
        ),
        (  # a hop latency of zero would make the ring's alpha term vanish
            HARDWARE_OK + "    interconnect_bandwidth: {value: 100 GB/s, source: toy-sheet}\n"
            "    interconnect_latency: {value: 0 us, source: toy-sheet}\n",
            "Toy", "interconnect_latency", "must be > 0, got '0 us'",
        ),
        (  # a latency of a link the part does not have
            HARDWARE_OK + "    interconnect_latency: {value: 0.6 us, source: toy-sheet}\n",
            "Toy", "interconnect_latency", "a per-hop latency needs an interconnect_bandwidth",
        ),
        (  # a latency is a time, not a rate
            HARDWARE_OK + "    interconnect_bandwidth: {value: 100 GB/s, source: toy-sheet}\n"
            "    interconnect_latency: {value: 0.6 GB/s, source: toy-sheet}\n",
            "Toy", "interconnect_latency", "wrong unit 'GB/s': expected units of s",
        ),
    ],
    ids=["missing-source", "unknown-source", "wrong-unit", "count-for-bytes", "unknown-unit",
         "missing-field", "unknown-field", "unknown-precision", "bare-assumption", "not-a-number",
         "unquoted-comma", "efficiency-above-1", "efficiency-percent-above-1",
         "active-above-tdp", "negative-bandwidth", "negative-peak", "zero-capacity",
         "nan-capacity", "inf-capacity", "negative-idle-power", "zero-cost", "zero-latency",
         "latency-without-link", "latency-as-a-rate"],
)  # fmt: skip
def test_broken_hardware_yaml_names_file_entry_and_field(tmp_path, broken, entry, field, why):
    message = load_error(tmp_path, broken)
    assert str(tmp_path / "hardware.yaml") in message
    assert f"entry {entry!r}, field {field!r}" in message
    assert why in message


def test_malformed_yaml_names_the_file_and_line(tmp_path):
    message = load_error(tmp_path, HARDWARE_OK.replace("category: edge", "category: [edge"))
    assert message.startswith(f"{tmp_path / 'hardware.yaml'}: entry '<file>', field '<yaml>'")
    assert "malformed YAML at line" in message


def test_a_source_without_a_date_is_rejected(tmp_path):
    message = load_error(tmp_path, HARDWARE_OK.replace(", date: 2024-01}", "}"))
    assert "entry 'sources.toy-sheet', field 'date'" in message


MODEL_OK = """\
reviewed: 2026-11-28
sources:
  paper: {title: Toy LM paper, url: https://example.org/lm, date: 2024-01}
  kaplan: {title: Kaplan 2020, url: https://arxiv.org/abs/2001.08361, date: 2020-01, kind: derived}
entries:
  ToyLM:
    display_name: Toy LM
    kind: transformer
    params: {value: 6.74e9 param, source: paper}
    flops_per_sample: {derived: transformer_forward, source: kaplan}
    arch: {source: paper, n_layers: 32, d_model: 4096, n_heads: 32, n_kv_heads: 32, d_ff: 11008,
           vocab_size: 32000, context_length: 4096, gated_ffn: true, tied_embeddings: false}
"""


CNN_OK = """\
  ToyCNN:
    display_name: Toy CNN
    kind: cnn
    params: {value: 25.557032e6 param, source: paper}
    flops_per_sample: {value: 4.09 GMAC, source: paper}
"""
DATACENTER_OK = """\
reviewed: 2026-11-28
sources:
  toy-dc: {title: Toy datacenter report, url: https://example.org/dc, date: 2024}
entries:
  Toy:
    display_name: Toy datacenter
    pue: {value: 1.1, source: toy-dc}
"""


def test_the_toy_cnn_and_datacenter_load(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text(MODEL_OK.replace("  ToyLM:", CNN_OK + "  ToyLM:"))
    assert load_models(path).ToyCNN.params.m_as("param") == 25_557_032
    path = tmp_path / "datacenters.yaml"
    path.write_text(DATACENTER_OK)
    assert load_datacenters(path).Toy.pue.m_as("") == pytest.approx(1.1)


def test_a_valid_toy_transformer_derives_its_flops(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text(MODEL_OK)
    assert load_models(path).ToyLM.flops_per_sample.m_as("flop") == pytest.approx(14_553_741_824)


@pytest.mark.parametrize(
    ("value", "why"),
    [("-25.557032e6 param", "must be > 0, got '-25.557032e6 param'"),
     ("0 param", "must be > 0, got '0 param'"),
     ("nan param", "must be a finite number, got 'nan param'"),
     ("-inf param", "must be a finite number, got '-inf param'")],
)  # fmt: skip
def test_a_parameter_count_must_be_finite_and_positive(tmp_path, value, why):
    text = MODEL_OK.replace("  ToyLM:", CNN_OK + "  ToyLM:").replace("25.557032e6 param", value)
    message = load_error(tmp_path, text, loader=load_models)
    assert "entry 'ToyCNN', field 'params'" in message and why in message


def test_a_zero_or_negative_grid_or_pue_value_is_rejected(tmp_path):
    message = load_error(tmp_path, GRID_OK.replace("100 gCO2e", "-100 gCO2e"), loader=load_grids)
    assert "entry 'Toyland', field 'carbon_intensity': must be > 0" in message
    pue = DATACENTER_OK.replace("1.1,", "0,")
    message = load_error(tmp_path, pue, loader=load_datacenters)
    assert "entry 'Toy', field 'pue': must be > 0, got 0" in message


def test_params_that_disagree_with_the_arch_are_rejected(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text(MODEL_OK.replace("6.74e9 param", "7e9 param"))
    with pytest.raises(CatalogError, match=r"entry 'ToyLM', field 'params': 7e\+09 disagrees"):
        load_models(path).names()


def test_a_typed_transformer_flop_count_is_rejected(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text(
        MODEL_OK.replace(
            "{derived: transformer_forward, source: kaplan}", "{value: 14 GFLOP, source: paper}"
        )
    )
    with pytest.raises(CatalogError, match="entry 'ToyLM', field 'flops_per_sample': derive it"):
        load_models(path).names()


def test_a_measured_compute_efficiency_is_an_optional_sourced_fraction(tmp_path):
    text = HARDWARE_OK + "    compute_efficiency: {value: 27 %, source: toy-sheet}\n"
    toy = load_hardware(write(tmp_path, text)).Toy
    assert toy.compute_efficiency.m_as("") == pytest.approx(0.27)
    assert toy.provenance["compute_efficiency"].title == "Toy datasheet"
    assert load_hardware(write(tmp_path, HARDWARE_OK)).Toy.compute_efficiency is None


def test_busy_power_is_the_active_power_when_given_else_the_tdp(tmp_path):
    text = HARDWARE_OK + "    active_power: {value: 3500 mW, source: toy-sheet}\n"
    toy = load_hardware(write(tmp_path, text)).Toy
    assert toy.busy_power.m_as("W") == pytest.approx(3.5)
    assert toy.tdp.m_as("W") == 5
    plain = load_hardware(write(tmp_path, HARDWARE_OK)).Toy
    assert plain.active_power is None and plain.busy_power is plain.tdp
    cooler = dataclasses.replace(plain, tdp=Q_(4, "W"))  # a what-if of tdp moves busy power
    assert cooler.busy_power.m_as("W") == 4


@pytest.mark.parametrize("text", ["Wats", "(", "GB/", "W**x", "1/0"])
def test_every_unparsable_unit_text_is_named_as_unknown(text):
    from mlsysim.core.catalog_loader import unit_problem

    problem = unit_problem(text, "W")
    assert problem.startswith(f"unknown unit {text!r} (") and problem.endswith(
        "expected units of W"
    )


def test_an_environment_failure_is_raised_and_never_cached_as_a_bad_unit(monkeypatch):
    """A transient failure inside pint (here an import error) is no verdict on the text: it
    propagates, and the same text is judged normally once pint works again."""
    from mlsysim.core import catalog_loader
    from mlsysim.core.units import get_registry

    registry = get_registry()
    real = registry.get_root_units

    def broken(text):
        raise ModuleNotFoundError("No module named 'flexparser'")

    catalog_loader.unit_problem.cache_clear()
    monkeypatch.setattr(registry, "get_root_units", broken)
    with pytest.raises(ModuleNotFoundError):
        catalog_loader.unit_problem("ms", "s")
    monkeypatch.setattr(registry, "get_root_units", real)
    assert catalog_loader.unit_problem("ms", "s") is None
