"""Training runs: C = 6ND at a calibrated MFU, model-state memory per device, DP all-reduce.

``time = 6ND / (n * peak * MFU)`` (Kaplan et al. 2020; Narayanan et al. 2021). Memory is
16 B/param for mixed-precision Adam, split by tensor x pipeline degree and sharded over the data
degree by ZeRO stage 1/2/3 (Rajbhandari et al. 2020). Gradients are ring-all-reduced per step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlsysim.core.engine.calibration import training_mfu_for
from mlsysim.core.engine.profiles import TrainingProfile
from mlsysim.core.engine.resolve import (
    hardware_numbers,
    model_numbers,
    precision_bytes,
    require_count,
    require_scalar,
)
from mlsysim.core.formulas._formula import to_magnitude
from mlsysim.core.formulas.communication import ring_allreduce_time
from mlsysim.core.formulas.sustainability import energy as energy_formula
from mlsysim.core.formulas.training import time_to_train, training_flops, training_memory_bytes
from mlsysim.core.precision import precision_name
from mlsysim.core.units import is_quantity

DATACENTER_CATEGORIES = ("cloud", "cpu")
"""Parts that live in a datacenter, so their energy carries the facility PUE."""


@dataclass(frozen=True, slots=True)
class Parallelism:
    """How ``num_devices`` split a run: data x tensor x pipeline degrees (product = devices).

    ``zero_stage`` 1/2/3 shards optimizer state / + gradients / + weights over the data degree
    (ZeRO, Rajbhandari et al. 2020; FSDP = stage 3). ``global_batch_tokens`` sets the step count
    (4M tokens is an illustrative assumption; Llama 3 405B ramped 4M -> 16M). ``network_bandwidth``
    (byte/s Quantity, per direction) overrides the part's interconnect for the gradient all-reduce,
    e.g. 50 GB/s for a 400 Gb/s InfiniBand NIC per GPU when data parallelism crosses nodes.
    """

    data: int
    tensor: int = 1
    pipeline: int = 1
    zero_stage: int = 0
    global_batch_tokens: int = 4_194_304
    network_bandwidth: Any = None

    def __post_init__(self) -> None:
        for name in ("data", "tensor", "pipeline", "global_batch_tokens"):
            require_count(getattr(self, name), name)
        if self.zero_stage not in (0, 1, 2, 3):
            raise ValueError(f"argument 'zero_stage' must be 0, 1, 2 or 3, got {self.zero_stage!r}")
        if self.network_bandwidth is not None:
            _network_bandwidth(self.network_bandwidth)

    @property
    def num_devices(self) -> int:
        return self.data * self.tensor * self.pipeline


def train(
    model: Any,
    hardware: Any,
    num_devices: int,
    tokens: Any,
    precision: str = "bf16",
    mfu: float | None = None,
    parallelism: Parallelism | None = None,
    datacenter: str | None = "Hyperscale",
) -> TrainingProfile:
    """Total FLOPs, time, device-hours, energy (with PUE), memory per device and DP comm time."""
    devices = require_count(num_devices, "num_devices")
    n_tokens = _tokens(tokens)
    precision = precision_name(precision)
    m = model_numbers(model)
    hw = hardware_numbers(hardware)
    peak = hw.peak(precision)
    utilization = training_mfu_for(hw.category, mfu)
    total = training_flops.raw(m.params, n_tokens)
    seconds = time_to_train.raw(total, peak, devices, utilization)
    pue = _pue(hw.category, datacenter)

    b_weight = precision_bytes(precision)
    b_optimizer = 12.0 if b_weight < 4.0 else 8.0  # fp32 master + Adam m, v; no master at fp32
    shares = (1.0, 1.0, 1.0)  # fraction of weights, grads, optimizer state each device holds
    comm = step_compute = steps = None
    shard_params = m.params
    if parallelism is not None:
        if parallelism.num_devices != devices:
            raise ValueError(
                f"parallelism data x tensor x pipeline = {parallelism.num_devices} must equal "
                f"argument 'num_devices' = {devices}"
            )
        shard_params = m.params / (parallelism.tensor * parallelism.pipeline)
        dp = float(parallelism.data)
        stage = parallelism.zero_stage
        shares = (
            1 / dp if stage >= 3 else 1.0,
            1 / dp if stage >= 2 else 1.0,
            1 / dp if stage >= 1 else 1.0,
        )
        link = _link_bandwidth(parallelism, hw)
        comm = ring_allreduce_time.raw(shard_params * b_weight, parallelism.data, link, 0.0)
        steps = n_tokens / parallelism.global_batch_tokens
        step_compute = seconds / steps
    memory = training_memory_bytes.raw(
        shard_params, b_weight * shares[0], b_weight * shares[1], b_optimizer * shares[2]
    )
    facility_power = None if hw.tdp is None else devices * hw.tdp * pue
    return TrainingProfile(
        model=m.name,
        hardware=hw.name,
        precision=precision,
        num_devices=devices,
        tokens=n_tokens,
        mfu=utilization,
        pue=pue,
        fits=memory <= hw.memory_capacity,
        total_flops_flop=total,
        time_to_train_s=seconds,
        energy_j=None if facility_power is None else energy_formula.raw(facility_power, seconds),
        memory_per_device_b=memory,
        memory_capacity_b=hw.memory_capacity,
        communication_time_s=comm,
        compute_time_per_step_s=step_compute,
        steps=steps,
        peak_flops_per_s=peak,
    )


def _tokens(tokens: Any) -> float:
    """Training tokens as a float: a number or a token Quantity; else an error naming 'tokens'."""
    require_scalar(tokens, "tokens")
    value = to_magnitude(tokens, "token", "tokens", "train") if is_quantity(tokens) else tokens
    if not float(value) > 0:
        raise ValueError(f"argument 'tokens' must be > 0, got {tokens!r}")
    return float(value)


def _pue(category: str, datacenter: str | None) -> float:
    """The datacenter's PUE for datacenter parts; 1.0 for edge, mobile and tiny devices."""
    if datacenter is None or category not in DATACENTER_CATEGORIES:
        return 1.0
    from mlsysim.core.catalogs import Datacenters

    return float(Datacenters[datacenter].pue.m_as(""))


def _network_bandwidth(value: Any) -> float:
    """``network_bandwidth`` in byte/s: a positive bandwidth Quantity; a bare number (50: B/s?
    GB/s? Gb/s?) or another dimension raises an error naming the argument and the unit."""
    require_scalar(value, "network_bandwidth")
    if not is_quantity(value):
        from pint import DimensionalityError

        raise DimensionalityError(
            "dimensionless",
            "byte/s",
            extra_msg=(
                f" for argument 'network_bandwidth' of Parallelism(): got the bare number "
                f"{value!r}; pass a bandwidth Quantity per direction in byte/s, e.g. "
                f"Q_({value!r}, 'GB/s') (400 Gb/s InfiniBand is Q_(50, 'GB/s'))"
            ),
        )
    bandwidth = float(to_magnitude(value, "byte/s", "network_bandwidth", "Parallelism"))
    if not bandwidth > 0:
        raise ValueError(f"argument 'network_bandwidth' must be > 0 byte/s, got {value}")
    return bandwidth


def _link_bandwidth(parallelism: Parallelism, hw: Any) -> float:
    if parallelism.network_bandwidth is not None:
        return _network_bandwidth(parallelism.network_bandwidth)
    if hw.interconnect_bandwidth is None:
        if parallelism.data == 1:
            return 1.0  # no all-reduce happens; ring time is 0
        raise ValueError(
            f"{hw.name} has no sourced interconnect_bandwidth; pass "
            "Parallelism(network_bandwidth=Q_(..., 'GB/s')) for the gradient all-reduce"
        )
    return hw.link_bandwidth
