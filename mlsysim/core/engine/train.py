"""Training runs: C = 6ND at a calibrated MFU, model-state memory per device, DP all-reduce.

``time = 6ND / (n * peak * MFU)`` (Kaplan et al. 2020; Narayanan et al. 2021). Memory is
16 B/param for mixed-precision Adam, split by tensor x pipeline degree and sharded over the data
degree by ZeRO stage 1/2/3 (Rajbhandari et al. 2020). Gradients are ring-all-reduced per step,
``2(p-1) * alpha + 2(p-1)/p * n / beta`` over the part's interconnect (alpha, beta from the catalog)
or over the network (``Parallelism.network_bandwidth``, ``network_latency``).
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

NETWORK_HOP_LATENCY_S = 2.7e-6
"""Default alpha [s] of one ring step across the inter-node network (``network_latency``).

NVIDIA NCCL v2.20.3-1, src/graph/tuning.cc, ``hwLat[NET][Ring][LL] = 2.7`` us per step, the same
table and protocol column as the catalog's NVLink figure (``hwLat[NVLINK][Ring][LL] = .6``),
https://github.com/NVIDIA/nccl/blob/v2.20.3-1/src/graph/tuning.cc. LL is NCCL's lowest per-step
figure; its Simple protocol, chosen for large gradient buckets, charges 14.0 us, so with 2.7 us the
all-reduce stays a lower bound. Override with ``Parallelism(network_latency=Q_(14, "us"))``.
"""


@dataclass(frozen=True, slots=True)
class Parallelism:
    """How ``num_devices`` split a run: data x tensor x pipeline degrees (product = devices).

    ``zero_stage`` 1/2/3 shards optimizer state / + gradients / + weights over the data degree
    (ZeRO, Rajbhandari et al. 2020; FSDP = stage 3). ``global_batch_tokens`` sets the step count
    (4M tokens is an illustrative assumption; Llama 3 405B ramped 4M -> 16M). ``network_bandwidth``
    (byte/s Quantity, per direction) overrides the part's interconnect for the gradient all-reduce,
    e.g. 50 GB/s for a 400 Gb/s InfiniBand NIC per GPU when data parallelism crosses nodes; that
    ring then pays ``network_latency`` (time Quantity, default ``NETWORK_HOP_LATENCY_S`` = 2.7 us,
    NCCL's network ring step) per hop instead of the part's ``interconnect_latency``.
    """

    data: int
    tensor: int = 1
    pipeline: int = 1
    zero_stage: int = 0
    global_batch_tokens: int = 4_194_304
    network_bandwidth: Any = None
    network_latency: Any = None

    def __post_init__(self) -> None:
        for name in ("data", "tensor", "pipeline", "global_batch_tokens"):  # stored as ints
            object.__setattr__(self, name, require_count(getattr(self, name), name))
        if self.zero_stage not in (0, 1, 2, 3):
            raise ValueError(f"argument 'zero_stage' must be 0, 1, 2 or 3, got {self.zero_stage!r}")
        if self.network_bandwidth is not None:
            _network_bandwidth(self.network_bandwidth)
        if self.network_latency is not None:
            if self.network_bandwidth is None:
                raise ValueError(
                    "argument 'network_latency' needs 'network_bandwidth': without it the "
                    "gradient all-reduce runs over the part's interconnect, at the catalog's "
                    "interconnect_latency"
                )
            _network_latency(self.network_latency)

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
        link, alpha = _link(parallelism, hw)
        comm = ring_allreduce_time.raw(shard_params * b_weight, parallelism.data, link, alpha)
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
    example = f"Q_({value!r}, 'GB/s') (400 Gb/s InfiniBand is Q_(50, 'GB/s'))"
    bandwidth = _quantity_argument(value, "network_bandwidth", "byte/s", "a bandwidth", example)
    if not bandwidth > 0:
        raise ValueError(f"argument 'network_bandwidth' must be > 0 byte/s, got {value}")
    return bandwidth


def _network_latency(value: Any) -> float:
    """``network_latency`` in s per ring hop: a time Quantity >= 0 (0 = bandwidth-only ring)."""
    example = f"Q_({value!r}, 'us') (NCCL's network ring step is Q_(2.7, 'us'))"
    latency = _quantity_argument(value, "network_latency", "s", "a time", example)
    if not latency >= 0:
        raise ValueError(f"argument 'network_latency' must be >= 0 s, got {value}")
    return latency


def _quantity_argument(value: Any, name: str, unit: str, kind: str, example: str) -> float:
    """A Parallelism() Quantity argument in ``unit``; a bare number is a DimensionalityError."""
    require_scalar(value, name)
    if not is_quantity(value):
        from pint import DimensionalityError

        raise DimensionalityError(
            "dimensionless",
            unit,
            extra_msg=(
                f" for argument '{name}' of Parallelism(): got the bare number {value!r}; pass "
                f"{kind} Quantity{' per direction' if unit == 'byte/s' else ''} in {unit}, "
                f"e.g. {example}"
            ),
        )
    return float(to_magnitude(value, unit, name, "Parallelism"))


def _link(parallelism: Parallelism, hw: Any) -> tuple[float, float]:
    """(beta [byte/s] per direction, alpha [s] per hop) of the gradient all-reduce's ring."""
    if parallelism.network_bandwidth is not None:
        latency = parallelism.network_latency
        alpha = NETWORK_HOP_LATENCY_S if latency is None else _network_latency(latency)
        return _network_bandwidth(parallelism.network_bandwidth), alpha
    if parallelism.data == 1:
        return hw.link_bandwidth or 1.0, 0.0  # no all-reduce happens; ring time is 0
    if hw.interconnect_bandwidth is None or hw.interconnect_latency is None:
        absent = hw.interconnect_bandwidth is None
        missing = "interconnect_bandwidth" if absent else "interconnect_latency"
        raise ValueError(
            f"{hw.name} has no sourced {missing}; pass Parallelism(network_bandwidth=Q_(..., "
            "'GB/s')) for the gradient all-reduce"
        )
    return hw.link_bandwidth, hw.interconnect_latency
