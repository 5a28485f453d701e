"""mlsysim, mlsysim.viz and mlsysim.sim share one lazy-export hook (mlsysim._lazy)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mlsysim
import mlsysim.sim
import mlsysim.viz


@pytest.mark.parametrize(
    ("package", "name", "home"),
    [
        (mlsysim, "fmt", "mlsysim.viz.formatting"),
        (mlsysim.viz, "plot_ledger", "mlsysim.viz.plots"),
        (mlsysim.sim, "Ledger", "mlsysim.sim.ledger"),
    ],
)
def test_a_name_resolves_to_its_module_and_is_cached(package, name, home):
    value = getattr(package, name)
    assert value is getattr(sys.modules[home], name)
    assert vars(package)[name] is value  # later look-ups skip the hook
    assert name in dir(package)


@pytest.mark.parametrize("package", [mlsysim, mlsysim.viz, mlsysim.sim])
def test_an_unknown_name_is_an_attribute_error_naming_the_package(package):
    with pytest.raises(AttributeError) as caught:
        _ = package.no_such_name
    assert str(caught.value) == f"module {package.__name__!r} has no attribute 'no_such_name'"


def test_subpackages_resolve_and_dir_lists_all():
    assert mlsysim.core.__name__ == "mlsysim.core"
    assert dir(mlsysim) == sorted(mlsysim.__all__)
    assert dir(mlsysim.sim) == sorted(mlsysim.sim.__all__)


def test_importing_the_packages_loads_neither_pint_nor_matplotlib():
    code = (
        "import sys, mlsysim, mlsysim.viz, mlsysim.sim; "
        "print(sorted(m for m in ('pint', 'matplotlib', 'yaml') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout == "[]\n", result.stderr
