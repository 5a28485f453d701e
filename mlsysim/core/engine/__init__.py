"""The engine: ``Engine.solve`` / ``serve`` / ``train`` / ``sweep`` and their result records.

Modules: ``calibration`` (sourced efficiency and MFU defaults), ``resolve`` (names -> cached SI
magnitudes), ``solve``, ``serve``, ``train``, ``sweep``, ``profiles`` (results).
"""

from __future__ import annotations

from mlsysim.core.engine.api import Engine
from mlsysim.core.engine.calibration import (
    DEFAULT_EFFICIENCY,
    DEFAULT_TRAINING_MFU,
    Efficiency,
    default_efficiency,
)
from mlsysim.core.engine.profiles import PerformanceProfile, ServingProfile, TrainingProfile
from mlsysim.core.engine.sweep import SweepTable
from mlsysim.core.engine.train import Parallelism

__all__ = [
    "DEFAULT_EFFICIENCY",
    "DEFAULT_TRAINING_MFU",
    "Efficiency",
    "Engine",
    "Parallelism",
    "PerformanceProfile",
    "ServingProfile",
    "SweepTable",
    "TrainingProfile",
    "default_efficiency",
]
