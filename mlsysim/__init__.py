"""mlsysim: the analytical engine behind the *Machine Learning Systems* textbook.

Public names (resolved lazily, so ``import mlsysim`` does no work)::

    mlsysim.Hardware, Models, Grids, Datacenters   sourced catalogs  (mlsysim.core.catalogs)
    mlsysim.Applications, Scenario                 scenarios         (mlsysim.core.scenarios)
    mlsysim.Engine                                 solve/serve/train (mlsysim.core.engine)
    mlsysim.check, mlsysim.fmt                     author toolkit    (mlsysim.viz)
    mlsysim.ureg, mlsysim.Q_                       the one pint registry
    mlsysim.sim                                    labs: personas, simulations, Ledger
"""

from __future__ import annotations

from mlsysim._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "ureg": ("mlsysim.core.units", "ureg"),
    "Q_": ("mlsysim.core.units", "Q_"),
    "Hardware": ("mlsysim.core.catalogs", "Hardware"),
    "Models": ("mlsysim.core.catalogs", "Models"),
    "Grids": ("mlsysim.core.catalogs", "Grids"),
    "Datacenters": ("mlsysim.core.catalogs", "Datacenters"),
    "Applications": ("mlsysim.core.scenarios", "Applications"),
    "Scenario": ("mlsysim.core.scenarios", "Scenario"),
    "Engine": ("mlsysim.core.engine", "Engine"),
    "check": ("mlsysim.viz.guards", "check"),
    "fmt": ("mlsysim.viz.formatting", "fmt"),
    "MlsysimError": ("mlsysim.errors", "MlsysimError"),
    "UnknownNameError": ("mlsysim.errors", "UnknownNameError"),
    "InvariantError": ("mlsysim.errors", "InvariantError"),
    "FormatError": ("mlsysim.errors", "FormatError"),
}
_SUBPACKAGES = ("core", "sim", "viz")

__all__ = [*_EXPORTS, *_SUBPACKAGES, "__version__"]

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS, _SUBPACKAGES)
