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
    assert "memory-bound: 51.1 MB of weights at 3.35 TB/s" in result.output


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
    assert "argument 'batch_size' must be an integer >= 1, got 0" in result.output


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
