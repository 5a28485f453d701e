"""Kernel start-up: a kernel that dies before it answers is started once more, on new ports."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from invariants.kernels import KernelStartError, start_kernel

pytestmark = pytest.mark.slow

# Dies on its first ``dies`` starts (as a kernel does that lost its port to another process),
# then runs the real ipykernel. Each start appends a line to the log.
LAUNCHER = """
import runpy, sys
log, dies = sys.argv.pop(1), int(sys.argv.pop(1))
with open(log, "a") as f:
    f.write("start\\n")
if open(log).read().count("start") <= dies:
    sys.exit(1)
sys.argv[0] = "ipykernel_launcher"
runpy.run_module("ipykernel_launcher", run_name="__main__")
"""


@pytest.fixture
def flaky_kernel(tmp_path, monkeypatch):
    """A kernel spec ``flaky-<dies>`` whose process dies on its first ``dies`` starts."""
    launcher = tmp_path / "launcher.py"
    launcher.write_text(LAUNCHER)
    log = tmp_path / "starts.log"

    def spec(dies: int) -> str:
        name = f"flaky-{dies}"
        folder = tmp_path / "kernels" / name
        folder.mkdir(parents=True)
        argv = [sys.executable, str(launcher), str(log), str(dies), "-f", "{connection_file}"]
        kernel = {"argv": argv, "display_name": name, "language": "python"}
        (folder / "kernel.json").write_text(json.dumps(kernel))
        return name

    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    return spec, log


def _starts(log: Path) -> int:
    return log.read_text().count("start")


async def _answer(name: str, **options) -> str:
    kernel = await start_kernel(name, startup_timeout=20, **options)
    try:
        reply = await kernel.client.execute_interactive("print(6 * 7)", timeout=20)
        return reply["content"]["status"]
    finally:
        await kernel.shutdown()


def test_a_kernel_that_dies_at_start_is_started_again_and_runs(flaky_kernel):
    spec, log = flaky_kernel
    assert asyncio.run(_answer(spec(1))) == "ok"
    assert _starts(log) == 2


def test_a_kernel_that_keeps_dying_is_an_error_naming_its_starts(flaky_kernel):
    spec, log = flaky_kernel
    with pytest.raises(KernelStartError) as caught:
        asyncio.run(_answer(spec(5)))
    assert str(caught.value).startswith("kernel 'flaky-5' died before it answered (2 starts): ")
    assert caught.value.no_kernel is False
    assert _starts(log) == 2


def test_one_attempt_means_no_retry(flaky_kernel):
    spec, log = flaky_kernel
    with pytest.raises(KernelStartError, match=r"^kernel 'flaky-1' died before it answered: "):
        asyncio.run(_answer(spec(1), attempts=1))
    assert _starts(log) == 1


def test_attempts_below_one_is_refused():
    with pytest.raises(ValueError, match=r"^attempts must be at least 1, got 0$"):
        asyncio.run(start_kernel("python3", attempts=0))
