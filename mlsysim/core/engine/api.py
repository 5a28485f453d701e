"""``Engine``: the one entry point for solve (inference), serve (LLMs), train and the sweeps."""

from __future__ import annotations

from mlsysim.core.engine.serve import serve
from mlsysim.core.engine.solve import solve
from mlsysim.core.engine.sweep import sweep
from mlsysim.core.engine.sweep_serve import sweep_serve
from mlsysim.core.engine.train import train


class Engine:
    """First-principles answers to "how fast, how much memory, how much energy".

    Every method is static: ``mlsysim.Engine.solve("ResNet50", "H100", batch_size=8)``. Models
    and hardware may be given as catalog names or specs.
    """

    solve = staticmethod(solve)
    serve = staticmethod(serve)
    train = staticmethod(train)
    sweep = staticmethod(sweep)
    sweep_serve = staticmethod(sweep_serve)
