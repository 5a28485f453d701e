"""Jupyter kernels for the runner: start one, and a small warm pool that starts them ahead of need.

A kernel is single-use (one per chapter, as Quarto does), so the pool never recycles: it keeps up
to ``size`` kernels starting or ready, hands a ready one to the next chapter and starts its
replacement while that chapter runs. A cold ipykernel start costs ~1 s of CPU; with the pool a
chapter after the first ``jobs`` ones finds its kernel already waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The protocol's environment switch: check() publishes records instead of raising.
COLLECT_ENV = {
    "MLSYSIM_CHECK_MODE": "collect",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "PYTHONDONTWRITEBYTECODE": "1",  # no __pycache__ beside a chapter: writes stay in the book
}


class KernelStartError(RuntimeError):
    """A kernel could not be started: ``no_kernel`` is True when the kernel spec is missing."""

    def __init__(self, message: str, *, no_kernel: bool = False) -> None:
        super().__init__(message)
        self.no_kernel = no_kernel


@dataclass
class Kernel:
    """A started kernel: its manager and a ready client (channels open)."""

    manager: Any
    client: Any
    name: str
    env: dict[str, str] = field(default_factory=dict)

    async def shutdown(self) -> None:
        with contextlib.suppress(Exception):
            self.client.stop_channels()
        await _stop(self.manager)


def kernel_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The kernel's environment: ours, collect mode on, plus ``extra``."""
    return {**os.environ, **COLLECT_ENV, **(extra or {})}


async def start_kernel(
    kernel_name: str = "python3",
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    startup_timeout: float = 60,
    attempts: int = 2,
) -> Kernel:
    """Start a kernel and wait until it answers; raise ``KernelStartError`` when it cannot.

    A kernel that dies before it answers is started again (``attempts`` in all) on fresh
    ports: the client picks free ports, closes them and the kernel binds them later, so a
    busy machine can take one in between ("Address already in use", jupyter_client#154).
    A kernel that is alive but silent for ``startup_timeout`` is not retried.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    attempt = 0
    while True:
        attempt += 1
        kernel = await _launch(kernel_name, cwd, env)
        try:
            await kernel.client.wait_for_ready(timeout=startup_timeout)
        except Exception as exc:
            died = not await kernel.manager.is_alive()
            await kernel.shutdown()
            if died and attempt < attempts:
                continue
            what = (
                "died before it answered"
                if died
                else f"did not answer within {startup_timeout:g} s"
            )
            starts = f" ({attempt} starts)" if attempt > 1 else ""
            raise KernelStartError(f"kernel {kernel_name!r} {what}{starts}: {exc}") from exc
        except BaseException:  # cancelled (a pool closing early): never leave the process
            await kernel.shutdown()
            raise
        kernel.client.allow_stdin = False
        return kernel


async def _launch(kernel_name: str, cwd: Path | None, env: dict[str, str] | None) -> Kernel:
    """Launch the kernel process and open a client's channels (it may not answer yet)."""
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import NoSuchKernel

    manager = AsyncKernelManager(kernel_name=kernel_name)
    try:
        # As nbclient does: IPython history in memory, not ~/.ipython (a write outside the
        # book, and a SQLite lock that concurrent kernels would fight over).
        extra = ["--HistoryManager.hist_file=:memory:"] if manager.ipykernel else []
        await manager.start_kernel(
            cwd=str(cwd or Path.cwd()),
            env=kernel_env(env),
            extra_arguments=extra,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except NoSuchKernel as exc:
        raise KernelStartError(
            f"no Jupyter kernel spec named {kernel_name!r}; install one with "
            f"`python -m ipykernel install --user --name {kernel_name}` "
            "(see `jupyter kernelspec list`)",
            no_kernel=True,
        ) from exc
    except Exception as exc:  # a broken spec: bad argv, missing interpreter
        await _stop(manager)
        raise KernelStartError(f"kernel {kernel_name!r} could not start: {exc}") from exc
    except BaseException:  # cancelled while launching: the process may already run
        await _stop(manager)
        raise
    client = manager.client()
    try:
        client.start_channels()
    except Exception as exc:  # e.g. "too many open files": the kernel runs, unreachable
        await Kernel(manager, client, kernel_name).shutdown()
        raise KernelStartError(f"kernel {kernel_name!r} could not be reached: {exc}") from exc
    return Kernel(manager, client, kernel_name, dict(env or {}))


async def _stop(manager: Any) -> None:
    """Shut down whatever ``manager`` launched (nothing, if it launched nothing)."""
    with contextlib.suppress(Exception):
        if manager.has_kernel:
            await manager.shutdown_kernel(now=True)


class KernelPool:
    """Keep up to ``size`` kernels starting or ready for the next ``demand`` chapters.

    ``acquire()`` returns a ready kernel (waiting only if none is ready yet) and immediately
    starts a replacement while more chapters still need one. Use as ``async with``: leaving
    shuts down every kernel not handed out.
    """

    def __init__(
        self,
        size: int,
        demand: int,
        *,
        kernel_name: str = "python3",
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        startup_timeout: float = 60,
    ) -> None:
        self.size = max(1, size)
        self.demand = demand
        self._start_args = {
            "kernel_name": kernel_name,
            "cwd": cwd,
            "env": env,
            "startup_timeout": startup_timeout,
        }
        self._starting: list[asyncio.Task[Kernel]] = []
        self._shutdowns: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> KernelPool:
        self._fill()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._starting:
            task.cancel()
        for task in self._starting:
            with contextlib.suppress(BaseException):
                kernel = await task
                await kernel.shutdown()
        self._starting.clear()
        if self._shutdowns:
            await asyncio.gather(*self._shutdowns, return_exceptions=True)

    def _fill(self) -> None:
        while len(self._starting) < min(self.size, self.demand):
            self._starting.append(asyncio.ensure_future(start_kernel(**self._start_args)))

    async def acquire(self) -> Kernel:
        """The first kernel to become ready (raises ``KernelStartError`` like ``start_kernel``)."""
        while True:
            if not self._starting:
                self.demand = max(self.demand, 1)
                self._fill()
            done = [task for task in self._starting if task.done()]
            if done:  # no await between this check and the removal: safe for many acquirers
                self._starting.remove(done[0])
                self.demand -= 1
                self._fill()
                return done[0].result()
            await asyncio.wait(list(self._starting), return_when=asyncio.FIRST_COMPLETED)

    def release(self, kernel: Kernel) -> None:
        """Shut a used kernel down in the background (kernels are never reused)."""
        self._shutdowns.append(asyncio.ensure_future(kernel.shutdown()))
