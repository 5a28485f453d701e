"""Book check speed: cold run, warm (cached) run, and the same chapters under nbmake.

    python benchmarks/book_check.py [BOOK] [--runs 3] [--jobs N] [--skip-nbmake]

BOOK defaults to the bundled sample book (``book_fixtures/``); it is copied to a temporary
folder first, so nothing is written into the repository. Each figure is the median wall time of
``--runs`` fresh ``python -m invariants BOOK --no-strict --jobs N`` processes (what an author
waits for, interpreter start included):

- cold: the result cache emptied before every run;
- warm: nothing changed since the previous run (targets: < 1 s and < 10% of cold);
- pool: in-process cold checks with the warm kernel pool and with a kernel started only when a
  chapter begins, printing the wall time and how long chapters waited for their kernel;
- nbmake: every chapter converted to ``.ipynb`` (its cells, then each inline expression as a
  cell after the cells that precede it) beside its ``.qmd``, run by
  ``pytest --nbmake -n N`` with ``MLSYSIM_CHECK_MODE=collect`` (our cold run must beat it).

One untimed run comes first (OS file cache, pint's and the catalogs' caches, bytecode). Python
caches bytecode as it does by default, even when the calling shell sets PYTHONDONTWRITEBYTECODE
(pass ``--no-bytecode-cache`` to keep that): an installed package has its ``.pyc`` files, and a
checkout gets them in its git-ignored ``__pycache__`` folders. (A PYTHONPYCACHEPREFIX would not
do: it hides site-packages' own bytecode from the kernels, which never write any.)
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], cwd: Path, env: dict[str, str], ok_codes: tuple[int, ...]) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode not in ok_codes:
        sys.exit(f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return elapsed


def to_notebooks(book: Path) -> list[Path]:
    """Write ``<chapter>.ipynb`` beside each chapter: cells in order, inline exprs as cells."""
    import nbformat

    from invariants.book import find_book
    from invariants.qmd import read_qmd

    notebooks = []
    for path in find_book([book]).chapters:
        chapter = read_qmd(path)
        cells = []
        for position in range(len(chapter.cells) + 1):
            cells += [f"({expr.code})" for expr in chapter.inline if expr.cells_before == position]
            if position < len(chapter.cells) and chapter.cells[position].evaluate:
                cells.append(chapter.cells[position].source)
        if not cells:
            continue
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}  # fmt: skip
        nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        target = path.with_suffix(".ipynb")
        nbformat.write(nb, target)
        notebooks.append(target)
    return notebooks


class _NoPrefetchPool:
    """The baseline for the pool: each chapter starts its kernel when it begins."""

    def __init__(self, size: int, demand: int, **start_args) -> None:
        self.start_args = start_args

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc) -> None:
        return None

    async def acquire(self):
        from invariants.kernels import start_kernel

        return await start_kernel(**self.start_args)


def _timed(pool_class: type, waits: list[float]) -> type:
    """``pool_class`` recording how long each ``acquire()`` waited into ``waits``."""

    class Timed(pool_class):  # type: ignore[misc, valid-type]
        async def acquire(self):
            start = time.perf_counter()
            kernel = await super().acquire()
            waits.append(time.perf_counter() - start)
            return kernel

    return Timed


def pool_study(book: Path, jobs: int) -> dict[str, tuple[float, list[float]]]:
    """Wall time and per-chapter kernel waits of a cold check, with and without the pool."""
    import invariants.kernels as kernels
    from invariants.check import check_book

    real_pool = kernels.KernelPool
    results = {}
    for label, pool_class in (("pool", real_pool), ("no pool", _NoPrefetchPool)):
        waits: list[float] = []
        kernels.KernelPool = _timed(pool_class, waits)
        try:
            start = time.perf_counter()
            check_book([book], jobs=jobs, strict=False, use_cache=False)
            results[label] = (time.perf_counter() - start, waits)
        finally:
            kernels.KernelPool = real_pool
    return results


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("book", nargs="?", type=Path, default=REPO / "book_fixtures")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per figure")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-nbmake", action="store_true")
    parser.add_argument("--skip-pool", action="store_true")
    parser.add_argument("--no-bytecode-cache", action="store_true", help="compile every run")
    args = parser.parse_args()

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory(prefix="book-check-bench-") as tmp:
        if not args.no_bytecode_cache:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
        book = Path(shutil.copytree(args.book, Path(tmp) / "book"))
        check = [sys.executable, "-m", "invariants", str(book), "--no-strict",
                 "--jobs", str(args.jobs)]  # fmt: skip
        codes = (0, 1, 2)  # the figures are about time; a failing sample book still times
        timed(check, Path(tmp), env, codes)  # untimed warm-up
        cold = []
        for _ in range(args.runs):
            shutil.rmtree(book / ".invariants", ignore_errors=True)
            cold.append(timed(check, Path(tmp), env, codes))
        warm = [timed(check, Path(tmp), env, codes) for _ in range(args.runs)]
        report = (book / ".invariants" / "report.json").read_text()
        cached = report.count('"cached": true')

        pools = {}
        if not args.skip_pool:  # in-process: its kernels read the same bytecode cache
            saved = dict(os.environ)
            os.environ.clear()
            os.environ.update(env)
            try:
                pools = pool_study(book, args.jobs)
            finally:
                os.environ.clear()
                os.environ.update(saved)

        nbmake = []
        if not args.skip_nbmake:
            notebooks = to_notebooks(book)
            cmd = [sys.executable, "-m", "pytest", "--nbmake", "-n", str(args.jobs), "-q",
                   "-p", "no:cacheprovider", "-p", "no:invariants",
                   *map(str, notebooks)]  # fmt: skip
            nb_env = {**env, "MLSYSIM_CHECK_MODE": "collect"}
            nbmake = [timed(cmd, book, nb_env, (0, 1)) for _ in range(args.runs)]

    cold_s, warm_s = statistics.median(cold), statistics.median(warm)
    print(f"machine: {machine()}")
    cache = "without" if args.no_bytecode_cache else "with"
    print(f"book: {args.book} ({args.runs} runs each, --jobs {args.jobs}, {cache} bytecode cache)")
    print(f"cold   median {cold_s:6.2f} s   (runs: {', '.join(f'{t:.2f}' for t in cold)})")
    print(f"warm   median {warm_s:6.2f} s   = {warm_s / cold_s:.1%} of cold "
          f"({cached} chapters from cache)")  # fmt: skip
    for label, (wall, waits) in pools.items():
        print(f"{label:<7} cold in-process {wall:6.2f} s; kernel wait per chapter: median "
              f"{statistics.median(waits):.2f} s, total {sum(waits):.2f} s")  # fmt: skip
    if nbmake:
        nb_s = statistics.median(nbmake)
        print(f"nbmake median {nb_s:6.2f} s   cold / nbmake = {cold_s / nb_s:.2f}")
    print(f"targets: warm < 1 s: {'yes' if warm_s < 1 else 'NO'}; "
          f"warm < 10% of cold: {'yes' if warm_s < 0.1 * cold_s else 'NO'}")  # fmt: skip


if __name__ == "__main__":
    main()
