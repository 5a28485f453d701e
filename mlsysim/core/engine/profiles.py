"""Result records of the engine: flat dataclasses of SI floats with Quantity views.

Fields named with a unit suffix (``latency_s``, ``energy_j``) are plain floats in that unit, so
sweeps and f-strings stay cheap; the plain names (``latency``, ``energy``) are properties that
build a pint Quantity on access. ``explain()`` says in one sentence what bounds the result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from mlsysim.core.formulas.performance import arithmetic_intensity, compute_time, memory_time
from mlsysim.core.units import Q_


def human(value: float, unit: str) -> str:
    """``13.5 GB``, ``3.35 TB/s``, ``4 ms``: three significant digits with an SI prefix."""
    if value == 0:
        return f"0 {unit}"
    return f"{Q_(value, unit).to_compact():.3g~P}"


def human_number(value: float) -> str:
    """Three significant digits, thousands separated: 2.54, 0.0032, 1,570, 53,240."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def achieved(rate: float, efficiency: float, unit: str, label: str = "") -> str:
    """``544 TFLOP/s achieved (55% of 989 TFLOP/s fp16)``: the rate a hand check divides by."""
    peak = f"{human(rate, unit)} {label}".rstrip()
    return f"{human(rate * efficiency, unit)} achieved ({percent(efficiency)} of {peak})"


def percent(fraction: float) -> str:
    """Whole percent from 10% up (``55%``, ``100%``), two significant digits below (``1.8%``):
    ``:.0%`` would print 1.8% as 2%."""
    value = fraction * 100
    return f"{value:.0f}%" if value >= 10 else f"{value:.2g}%"


def human_time(seconds: float) -> str:
    """A duration in ms below 1 s (``4.01 ms``, ``0.0083 ms``), else s, h or days."""
    if seconds < 1.0:
        return f"{seconds * 1e3:.3g} ms"
    if seconds < 3600.0:
        return f"{seconds:.3g} s"
    if seconds < 86400.0 * 3:
        return f"{seconds / 3600.0:.3g} h"
    return f"{seconds / 86400.0:.3g} days"


def sample_unit(context_tokens: int) -> str:
    """What one sample of a solve is: ``"token"`` when it attends to a context (a decoder's
    decode step generates one token per sequence), else ``"sample"`` (one forward pass)."""
    return "token" if context_tokens else "sample"


class _Record:
    """Shared ``to_dict`` / ``__str__`` for the profile dataclasses."""

    def to_dict(self) -> dict[str, Any]:
        """Every stored field (SI floats, names, flags) plus ``explain``."""
        record = asdict(self)  # type: ignore[call-overload]
        record["explain"] = self.explain()  # type: ignore[attr-defined]
        return record

    def __str__(self) -> str:
        return self.explain()  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class PerformanceProfile(_Record):
    """One forward pass of ``batch_size`` samples on one device.

    ``latency = max(compute_time, memory_time) + overhead``; memory traffic is the weights read
    once per batch (activations assumed to stay on chip). For a decoder a sample is one
    generated token at the full ``context_tokens``: the batch is one decode step of
    ``batch_size`` sequences, which also reads their KV cache (``kv_cache_b``). Energy per sample
    (token) = busy power x latency / batch.
    """

    model: str
    hardware: str
    precision: str
    batch_size: int
    bottleneck: str
    fits: bool
    latency_s: float
    compute_efficiency: float
    memory_efficiency: float
    overhead_s: float
    flop_count: float
    bytes_moved_b: float
    peak_flops_per_s: float
    memory_bandwidth_b_per_s: float
    memory_required_b: float
    memory_capacity_b: float
    energy_j: float | None
    mfu: float
    kv_cache_b: float = 0.0  # KV cache the step reads: batch x context_tokens (0 for a CNN)
    context_tokens: int = 0  # a decoder's context_length; 0 when there is no KV cache

    @property
    def unit(self) -> str:
        """What a sample is: ``"token"`` for a decoder (one decode step), else ``"sample"``."""
        return sample_unit(self.context_tokens)

    @property
    def latency(self):
        """Time for one batch [ms] (for a transformer: one decode step)."""
        return Q_(self.latency_s * 1e3, "ms")

    @property
    def throughput(self):
        """Batch / latency [sample/s], or [token/s] for a decoder (generated tokens)."""
        return Q_(self.batch_size / self.latency_s, f"{self.unit}/s")

    @property
    def arithmetic_intensity(self):
        """FLOPs per byte of memory traffic [flop/byte]."""
        return Q_(arithmetic_intensity.raw(self.flop_count, self.bytes_moved_b), "flop/byte")

    @property
    def compute_time_s(self) -> float:
        """FLOPs / (peak x compute efficiency) [s]."""
        return compute_time.raw(self.flop_count, self.peak_flops_per_s, self.compute_efficiency)

    @property
    def memory_time_s(self) -> float:
        """(Weight + KV-cache) bytes / (bandwidth x memory efficiency) [s]."""
        return memory_time.raw(
            self.bytes_moved_b, self.memory_bandwidth_b_per_s, self.memory_efficiency
        )

    @property
    def compute_time(self):
        return Q_(self.compute_time_s * 1e3, "ms")

    @property
    def memory_time(self):
        return Q_(self.memory_time_s * 1e3, "ms")

    @property
    def overhead(self):
        return Q_(self.overhead_s * 1e6, "us")

    @property
    def energy(self):
        """Energy per sample (per token for a decoder) [J], None without a sourced TDP."""
        return None if self.energy_j is None else Q_(self.energy_j, "J")

    @property
    def weights_b(self) -> float:
        """Weight bytes [byte]: the traffic besides the KV cache."""
        return self.bytes_moved_b - self.kv_cache_b

    @property
    def memory_required(self):
        """Bytes that must be resident [byte]: weights, plus a transformer's KV cache."""
        return Q_(self.memory_required_b, "byte")

    @property
    def shortfall(self):
        """Bytes missing when the model does not fit (0 B when it fits)."""
        return Q_(max(0.0, self.memory_required_b - self.memory_capacity_b), "byte")

    def to_dict(self) -> dict[str, Any]:
        record = _Record.to_dict(self)
        record["compute_time_s"] = self.compute_time_s
        record["memory_time_s"] = self.memory_time_s
        record["throughput_per_s"] = self.batch_size / self.latency_s
        record["unit"] = self.unit  # what throughput_per_s and energy_j count, as in a sweep row
        record["weights_b"] = self.weights_b
        record["arithmetic_intensity"] = arithmetic_intensity.raw(
            self.flop_count, self.bytes_moved_b
        )
        record["shortfall_b"] = self.shortfall.magnitude
        return record

    def explain(self) -> str:
        """One sentence naming the bottleneck with its numbers (and, for a transformer, the
        decode step it models: one token per sequence at the full context)."""
        compute = human_time(self.compute_time_s)
        memory = human_time(self.memory_time_s)
        traffic = f"{human(self.weights_b, 'byte')} of weights"
        bound = f"{self.bottleneck}-bound"
        if self.context_tokens:
            traffic += f" + {human(self.kv_cache_b, 'byte')} of KV cache"
            sequences = "1 sequence" if self.batch_size == 1 else f"{self.batch_size:,} sequences"
            bound += (
                f" decode step ({sequences} x 1 token, each at the full "
                f"{self.context_tokens:,}-token context)"
            )
        flops = human(self.flop_count, "flop")
        bandwidth = achieved(self.memory_bandwidth_b_per_s, self.memory_efficiency, "byte/s")
        peak = achieved(self.peak_flops_per_s, self.compute_efficiency, "flop/s", self.precision)
        if self.bottleneck == "memory":
            text = (
                f"{bound}: {traffic} at {bandwidth} take {memory}; "
                f"{flops} of compute at {peak} would take {compute}"
            )
        else:
            text = (
                f"{bound}: {flops} at {peak} take {compute}; "
                f"reading {traffic} at {bandwidth} would take {memory}"
            )
        text += f" (+{self.overhead_s * 1e6:.3g} us fixed overhead per call)"
        if not self.fits:
            text += (
                f"; does NOT fit: needs {human(self.memory_required_b, 'byte')}, "
                f"has {human(self.memory_capacity_b, 'byte')}"
            )
        return text + "."


@dataclass(frozen=True, slots=True)
class ServingProfile(_Record):
    """LLM serving of ``batch_size`` sequences: prefill (TTFT) then decode (TPOT per token).

    ``tpot = max(decode step time, memory floor)`` with floor = (weights + KV) / bandwidth per
    device; ``e2e = ttft + (output_tokens - 1) * tpot``.
    """

    model: str
    hardware: str
    precision: str
    batch_size: int
    prompt_tokens: int
    output_tokens: int
    tensor_parallel: int
    prefill_bottleneck: str
    decode_bottleneck: str
    fits: bool
    ttft_s: float
    tpot_s: float
    memory_floor_s: float
    prefill_comm_s: float
    decode_comm_s: float
    weights_b: float
    kv_cache_b: float
    memory_capacity_b: float
    memory_bandwidth_b_per_s: float
    max_batch_size: int
    prefill_flop: float
    peak_flops_per_s: float
    compute_efficiency: float
    memory_efficiency: float
    overhead_s: float

    @property
    def e2e_latency_s(self) -> float:
        return self.ttft_s + (self.output_tokens - 1) * self.tpot_s

    @property
    def ttft(self):
        """Time to first token [ms] (prefill of the prompt)."""
        return Q_(self.ttft_s * 1e3, "ms")

    @property
    def tpot(self):
        """Time per output token [ms] (one decode step)."""
        return Q_(self.tpot_s * 1e3, "ms")

    @property
    def memory_floor(self):
        """(weights + KV) bytes per device / bandwidth [ms]: no decode step is faster."""
        return Q_(self.memory_floor_s * 1e3, "ms")

    @property
    def e2e_latency(self):
        """ttft + (output_tokens - 1) * tpot [ms]."""
        return Q_(self.e2e_latency_s * 1e3, "ms")

    @property
    def tokens_per_second(self):
        """Generated tokens per second across the batch = batch * output / e2e [token/s]."""
        return Q_(self.batch_size * self.output_tokens / self.e2e_latency_s, "token/s")

    @property
    def kv_cache(self):
        """KV cache of the whole batch at prompt + output tokens, all devices [byte]."""
        return Q_(self.kv_cache_b, "byte")

    @property
    def weights(self):
        return Q_(self.weights_b, "byte")

    @property
    def memory_required(self):
        return Q_(self.weights_b + self.kv_cache_b, "byte")

    @property
    def shortfall(self):
        """Bytes missing across the tensor-parallel group (0 B when it fits)."""
        need = self.weights_b + self.kv_cache_b
        have = self.memory_capacity_b * self.tensor_parallel
        return Q_(max(0.0, need - have), "byte")

    def to_dict(self) -> dict[str, Any]:
        record = _Record.to_dict(self)
        record["e2e_latency_s"] = self.e2e_latency_s
        record["tokens_per_second"] = self.tokens_per_second.magnitude
        return record

    def explain(self) -> str:
        """One sentence on the prefill and decode bottlenecks, with the rates a hand check uses."""
        per_device = (self.weights_b + self.kv_cache_b) / self.tensor_parallel
        overhead = f"{self.overhead_s * 1e6:.3g} us fixed overhead"
        comm = " and TP all-reduce" if self.tensor_parallel > 1 else ""
        text = f"prefill is {self.prefill_bottleneck}-bound"
        if self.prefill_bottleneck == "compute":
            peak = achieved(
                self.peak_flops_per_s, self.compute_efficiency, "flop/s", self.precision
            )
            text += f": {human(self.prefill_flop, 'flop')} per device at {peak}"
        text += (
            f", TTFT {human_time(self.ttft_s)} incl. {overhead}{comm}; "
            f"decode is {self.decode_bottleneck}-bound: each step reads "
            f"{human(per_device, 'byte')} of weights+KV per device, "
            f"{human_time(self.memory_floor_s)} at the full "
            f"{human(self.memory_bandwidth_b_per_s, 'byte/s')} (the floor) and "
            f"{human_time(self.memory_floor_s / self.memory_efficiency)} at "
            f"{human(self.memory_bandwidth_b_per_s * self.memory_efficiency, 'byte/s')} achieved "
            f"({self.memory_efficiency:.0%}); TPOT {human_time(self.tpot_s)} incl. {overhead}"
        )
        if self.tensor_parallel > 1:
            text += f" and {human_time(self.decode_comm_s)} of TP all-reduce"
        if not self.fits:
            text += f"; does NOT fit: short by {human(self.shortfall.magnitude, 'byte')}"
        return text + "."


@dataclass(frozen=True, slots=True)
class TrainingProfile(_Record):
    """A training run: C = 6ND FLOPs at ``mfu`` on ``num_devices`` parts.

    ``time_to_train = C / (n * peak * MFU)``; the calibrated MFU is end-to-end, so it already
    includes communication, which is reported per step (ring all-reduce) but not added again.
    Energy = n * TDP * time * PUE (PUE for datacenter parts only).
    """

    model: str
    hardware: str
    precision: str
    num_devices: int
    tokens: float
    mfu: float
    pue: float
    fits: bool
    total_flops_flop: float
    time_to_train_s: float
    energy_j: float | None
    memory_per_device_b: float
    memory_capacity_b: float
    communication_time_s: float | None
    compute_time_per_step_s: float | None
    steps: float | None
    peak_flops_per_s: float

    @property
    def total_flops(self):
        return Q_(self.total_flops_flop, "flop")

    @property
    def time_to_train(self):
        """Wall-clock time [day]."""
        return Q_(self.time_to_train_s / 86400.0, "day")

    @property
    def device_hours(self):
        """num_devices x time [hour]."""
        return Q_(self.num_devices * self.time_to_train_s / 3600.0, "hour")

    @property
    def energy(self):
        """Facility energy incl. PUE [MWh], or None without a sourced TDP."""
        return None if self.energy_j is None else Q_(self.energy_j / 3.6e9, "MWh")

    @property
    def memory_per_device(self):
        """Model-state bytes per device (weights, grads, optimizer; activations excluded)."""
        return Q_(self.memory_per_device_b, "byte")

    @property
    def shortfall(self):
        return Q_(max(0.0, self.memory_per_device_b - self.memory_capacity_b), "byte")

    @property
    def communication_time(self):
        """Data-parallel gradient all-reduce per step [ms], None without a parallelism."""
        if self.communication_time_s is None:
            return None
        return Q_(self.communication_time_s * 1e3, "ms")

    def to_dict(self) -> dict[str, Any]:
        record = _Record.to_dict(self)
        record["device_hours"] = self.device_hours.magnitude
        return record

    def explain(self) -> str:
        """One sentence: FLOPs, devices, MFU, time, and fit."""
        text = (
            f"{self.total_flops_flop:.3g} FLOP (6ND) on {self.num_devices:,} x {self.hardware} at "
            f"{achieved(self.peak_flops_per_s, self.mfu, 'flop/s', self.precision)} each "
            f"(MFU) take {human_time(self.time_to_train_s)}"
        )
        if self.communication_time_s is not None and self.compute_time_per_step_s:
            text += (
                f"; gradient all-reduce {human_time(self.communication_time_s)} per step vs "
                f"{human_time(self.compute_time_per_step_s)} of compute"
            )
        need = human(self.memory_per_device_b, "byte")
        have = human(self.memory_capacity_b, "byte")
        fit = "fits" if self.fits else "does NOT fit"
        return text + f"; model state {need} per device {fit} in {have}."
