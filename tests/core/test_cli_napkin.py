"""``mlsysim solve|serve|train|catalog``: JSON agrees with the engine; unknown names exit 2."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from mlsysim.core.cli import register
from mlsysim.core.engine import Engine


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    application = typer.Typer()
    register(application)
    return application


def run(app, *args):
    return CliRunner().invoke(app, list(args))


def test_solve_json_matches_engine(app):
    result = run(app, "solve", "ResNet50", "H100", "--batch", "8", "--precision", "fp16", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    profile = Engine.solve("ResNet50", "H100", batch_size=8, precision="fp16")
    assert record["latency_s"] == pytest.approx(profile.latency_s)
    assert record["bottleneck"] == profile.bottleneck == "compute"
    assert record["throughput_per_s"] == pytest.approx(8 / profile.latency_s)
    assert record["explain"] == profile.explain()


def test_solve_table_shows_values_and_explanation(app):
    result = run(app, "solve", "ResNet50", "H100")
    assert result.exit_code == 0
    assert "0.475 ms" in result.output  # 25.4 us of weights at 60% + 450 us
    assert "memory-bound: 51.1 MB of weights at 2.01 TB/s achieved (60% of 3.35 TB/s)" in (
        result.output
    )


def test_serve_json_matches_engine(app):
    result = run(app, "serve", "Llama2_70B", "H100", "--tp", "2", "--batch", "4", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    profile = Engine.serve("Llama2_70B", "H100", batch_size=4, tensor_parallel=2)
    assert record["tpot_s"] == pytest.approx(profile.tpot_s)
    assert record["ttft_s"] == pytest.approx(profile.ttft_s)
    assert record["max_batch_size"] == profile.max_batch_size
    assert record["tensor_parallel"] == 2


def test_train_json_matches_engine(app):
    result = run(app, "train", "Llama2_7B", "H100", "--devices", "8", "--tokens", "1e12", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    profile = Engine.train("Llama2_7B", "H100", 8, 1e12)
    assert record["time_to_train_s"] == pytest.approx(profile.time_to_train_s)
    assert record["device_hours"] == pytest.approx(profile.device_hours.magnitude)


def test_unknown_model_prints_closest_names_and_exits_2(app):
    result = run(app, "solve", "ResNet5", "H100")
    assert result.exit_code == 2
    assert "unknown model 'ResNet5'. Did you mean 'ResNet50'" in result.output


def test_unknown_hardware_and_precision_exit_2(app):
    result = run(app, "serve", "Llama2_7B", "H10")
    assert result.exit_code == 2
    assert "Did you mean 'H100'" in result.output
    result = run(app, "solve", "ResNet50", "ESP32_S3", "--precision", "fp16")
    assert result.exit_code == 2
    assert "Valid: fp32, int8." in result.output


def test_bad_batch_exits_2_naming_the_argument(app):
    result = run(app, "solve", "ResNet50", "H100", "--batch", "0")
    assert result.exit_code == 2
    assert "argument 'batch_size' must be a whole number >= 1 (a count), got 0" in result.output


def test_catalog_hardware_json_and_table(app):
    result = run(app, "catalog", "hardware", "--json")
    assert result.exit_code == 0
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["H100"]["memory_bandwidth_b_per_s"] == pytest.approx(3.35e12)
    assert rows["H100"]["peak_flops"]["bf16"] == pytest.approx(989.4e12)
    table = run(app, "catalog", "hardware")
    assert table.exit_code == 0 and "H100" in table.output and "3.35 TB/s" in table.output


def test_catalog_models_and_grids(app):
    models = json.loads(run(app, "catalog", "models", "--json").output)
    assert {"name": "ResNet50", "kind": "cnn"}.items() <= next(
        m for m in models if m["name"] == "ResNet50"
    ).items()
    grids = json.loads(run(app, "catalog", "grids", "--json").output)
    quebec = next(g for g in grids if g["name"] == "Quebec")
    assert quebec == {"name": "Quebec", "carbon_intensity_g_per_kwh": 23.0, "basis": "lifecycle"}
    assert next(g for g in grids if g["name"] == "Texas")["basis"] == "direct"


def test_unknown_catalog_kind_suggests(app):
    result = run(app, "catalog", "model")
    assert result.exit_code == 2
    assert "Did you mean 'models'?" in result.output


def test_train_with_parallelism_reports_the_allreduce(app):
    result = run(
        app, "train", "Llama3_8B", "H100", "-n", "1024", "-t", "15e12", "--tp", "8", "--json"
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    from mlsysim.core.engine import Parallelism

    profile = Engine.train("Llama3_8B", "H100", 1024, 15e12, parallelism=Parallelism(128, 8))
    assert record["communication_time_s"] == pytest.approx(profile.communication_time_s)
    assert record["memory_per_device_b"] == pytest.approx(profile.memory_per_device_b)


def test_train_devices_not_divisible_by_tp_exits_2(app):
    result = run(app, "train", "Llama3_8B", "H100", "-n", "1001", "-t", "1e12", "--tp", "8")
    assert result.exit_code == 2
    assert "argument 'devices' = 1001 must be a multiple of tp x pp = 8" in result.output


def test_version_flag_prints_the_package_version():
    from mlsysim import __version__
    from mlsysim.cli import build_app

    result = CliRunner().invoke(build_app(), ["--version"])
    assert result.exit_code == 0
    assert result.output == f"mlsysim {__version__}\n"


def test_a_training_run_that_does_not_fit_says_what_would(app):
    # Plain data parallel: 16 B/param x 8.03e9 = 128 GB > 80 GB. ZeRO-1 shards the 12 B/param
    # of Adam state over 1024 GPUs: 4 x 8.03e9 + 12 x 8.03e9 / 1024 = 32.2 GB, which fits.
    result = run(app, "train", "Llama3_8B", "H100", "-n", "1024", "-t", "15e12")
    assert result.exit_code == 0
    assert "model state 128 GB per device does NOT fit in 80 GB. Try --zero 1.\n" in result.output
    assert "model state per device (no activations) │ 128 GB" in result.output
    # Llama-2-70B on 8 GPUs: even ZeRO-3 leaves 16 x 69e9 / 8 = 138 GB per GPU.
    result = run(app, "train", "Llama2_70B", "H100", "-n", "8", "-t", "1e12")
    assert "Neither a higher --zero stage nor --tp up to 8 fits it; use more devices." in (
        result.output
    )


def test_the_readme_train_command_fits(app):
    command = "train Llama3_8B H100 --devices 1024 --tokens 15e12 --zero 1"  # the README's
    result = run(app, *command.split(" "))
    assert result.exit_code == 0
    assert "model state 32.2 GB per device fits in 80 GB." in result.output


def test_a_precision_the_part_lacks_points_at_the_option(app):
    result = run(app, "train", "GPT3_175B", "V100", "-n", "1024", "-t", "3e11")
    assert result.exit_code == 2
    assert result.output == (
        "error: unknown V100 precision 'bf16'. Did you mean 'fp16'? Valid: fp16, fp32. "
        "Choose one with --precision.\n"
    )


def test_precision_option_is_described_and_case_insensitive(app):
    for command in typer.main.get_command(app).commands.values():
        options = {param.name: param for param in command.params}
        if "precision" in options:
            assert options["precision"].help == (
                "number format: fp32, tf32, fp16, bf16, fp8, int8 (case-insensitive)"
            )
    result = run(app, "solve", "ResNet50", "H100", "--precision", "FP16", "--json")
    assert json.loads(result.output)["precision"] == "fp16"


def test_intensity_is_printed_in_flop_per_byte(app):
    # 8.18 GFLOP / 51.1 MB of fp16 weights = 160 FLOP/byte, spelled as mlsysim.fmt spells it.
    assert "│ 160 FLOP/byte " in run(app, "solve", "ResNet50", "H100").output


def test_solve_table_counts_tokens_for_a_transformer(app):
    # Llama2_7B on H100 at batch 1 is a decode step: 13.48 GB of weights + 2.147 GB of KV cache
    # at 0.60 x 3.35 TB/s = 7.77 ms, + 450 us = 8.22 ms: 1 / 8.22 ms = 122 token/s
    result = run(app, "solve", "Llama2_7B", "H100")
    assert result.exit_code == 0
    assert "│ throughput           │ 122 token/s" in result.output
    assert "│ energy per token     │" in result.output
    assert "sample" not in result.output
