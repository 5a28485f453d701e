"""Kernel start-up: a kernel that dies before it answers is started once more, on new ports."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import pytest

from invariants.kernels import KernelStartError, start_kernel

pytestmark = pytest.mark.slow

# Dies on its first ``dies`` starts (as a kernel does that lost its port to another process),
# or stays silent for ``quiet`` seconds, then runs the real ipykernel. Each start appends
# "start <pid>" to the log.
LAUNCHER = """
import os, runpy, sys, time
log, dies, quiet = sys.argv.pop(1), int(sys.argv.pop(1)), float(sys.argv.pop(1))
with open(log, "a") as f:
    f.write(f"start {os.getpid()}\\n")
if open(log).read().count("start") <= dies:
    sys.exit(1)
time.sleep(quiet)
sys.argv[0] = "ipykernel_launcher"
runpy.run_module("ipykernel_launcher", run_name="__main__")
"""


@pytest.fixture
def flaky_kernel(tmp_path, monkeypatch):
    """A kernel spec ``flaky-<dies>`` whose process dies on its first ``dies`` starts (or is
    silent for its first ``quiet`` seconds)."""
    launcher = tmp_path / "launcher.py"
    launcher.write_text(LAUNCHER)
    log = tmp_path / "starts.log"

    def spec(dies: int, quiet: float = 0) -> str:
        name = f"flaky-{dies}"
        folder = tmp_path / "kernels" / name
        folder.mkdir(parents=True)
        argv = [sys.executable, str(launcher), str(log), str(dies), str(quiet)]
        argv += ["-f", "{connection_file}"]
        kernel = {"argv": argv, "display_name": name, "language": "python"}
        (folder / "kernel.json").write_text(json.dumps(kernel))
        return name

    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    return spec, log


def _starts(log: Path) -> int:
    return log.read_text().count("start")


def _running(log: Path) -> list[int]:
    """The launched kernel processes still alive."""
    pids = [int(line.split()[1]) for line in log.read_text().splitlines()]
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        alive.append(pid)
    return alive


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


def test_a_start_cancelled_while_the_kernel_is_silent_leaves_no_process(flaky_kernel):
    # The pool cancels the starts it no longer needs; each must take its process with it.
    spec, log = flaky_kernel
    name = spec(0, quiet=30)

    async def cancel_while_waiting():
        task = asyncio.ensure_future(start_kernel(name, startup_timeout=60))
        while not log.exists():
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_while_waiting())
    assert _starts(log) == 1 and _running(log) == []


def test_a_kernel_whose_channels_cannot_open_is_shut_down(flaky_kernel, monkeypatch):
    from jupyter_client.asynchronous.client import AsyncKernelClient

    spec, log = flaky_kernel
    name = spec(0, quiet=30)

    def no_sockets(self, *args, **kwargs):
        while not log.exists():  # the kernel process is running when the channels fail
            time.sleep(0.05)
        raise OSError("Too many open files")

    monkeypatch.setattr(AsyncKernelClient, "start_channels", no_sockets)
    with pytest.raises(KernelStartError) as caught:
        asyncio.run(start_kernel(name, startup_timeout=20))
    assert str(caught.value) == "kernel 'flaky-0' could not be reached: Too many open files"
    assert _starts(log) == 1 and _running(log) == []
