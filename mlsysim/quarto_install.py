"""``mlsysim quarto``: put the Quarto extension into a book, and the book build's pre-render hook.

``install [BOOK_DIR] [--force]`` copies the shipped extension (``quarto_ext/_extensions/mlsysim``
in a clone, ``mlsysim/_bundled/quarto_ext/...`` in a wheel) to ``BOOK_DIR/_extensions/mlsysim/``,
as ``quarto add`` would. A copy that differs from the shipped files is never replaced without
``--force``. After installing it prints only the ``_quarto.yml`` lines the book still lacks (it
reads the file). ``pre-render [BOOK_DIR]`` is what Quarto runs before a render: ``mlsysim check`` on
the whole book, or only on the ``.qmd`` chapters of a partial render (``QUARTO_PROJECT_INPUT_FILES``
without ``QUARTO_PROJECT_RENDER_ALL``). Its exit code is the check's: non-zero aborts the render.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from mlsysim.errors import MlsysimError

EXTENSION_NAME = "mlsysim"
PRE_RENDER_COMMAND = "mlsysim quarto pre-render"
REVIEW_ENV = "MLSYSIM_REVIEW"

QUARTO_YML_LINES = f"""\
filters:
  - {EXTENSION_NAME}
"""
QUARTO_YML_FALLBACK = f"""\
project:
  pre-render: {PRE_RENDER_COMMAND}
"""

_IGNORED_PARTS = {"__pycache__", ".DS_Store"}


class ModifiedExtensionError(MlsysimError):
    """The book already holds an extension copy that differs from the shipped one."""

    def __init__(self, target: Path, changed: list[str], missing: list[str], extra: list[str]):
        self.target, self.changed, self.missing, self.extra = target, changed, missing, extra
        lines = [f"{target} differs from the extension shipped with mlsysim:"]
        lines += [f"  modified: {name}" for name in changed]
        lines += [f"  missing:  {name}" for name in missing]
        lines += [f"  added:    {name}" for name in extra]
        lines.append("Left untouched. Re-run with --force to replace it with the shipped version.")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class InstallResult:
    """What ``install_extension`` did: ``installed``, ``unchanged`` or ``replaced``."""

    action: str
    target: Path
    source: Path


def shipped_extension_dir(package_dir: Path | None = None) -> Path:
    """The extension as shipped: inside an installed wheel, else in the source checkout."""
    package_dir = package_dir or Path(__file__).resolve().parent
    candidates = (
        package_dir / "_bundled" / "quarto_ext" / "_extensions" / EXTENSION_NAME,
        package_dir.parent / "quarto_ext" / "_extensions" / EXTENSION_NAME,
    )
    for candidate in candidates:
        if (candidate / "_extension.yml").is_file():
            return candidate
    searched = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"the mlsysim Quarto extension is not shipped (looked in {searched})")


def extension_digests(root: Path) -> dict[str, str]:
    """Relative POSIX path -> SHA-256 of every file under ``root`` (caches ignored)."""
    digests = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_dir() or _IGNORED_PARTS & set(relative.parts) or path.suffix == ".pyc":
            continue
        digests[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def install_extension(book_dir: Path, force: bool = False) -> InstallResult:
    """Copy the shipped extension to ``book_dir/_extensions/mlsysim``.

    An identical copy is left as it is; a differing one raises ``ModifiedExtensionError`` unless
    ``force``. The new copy is staged beside the target and moved into place, so a failed copy
    never leaves half an extension.
    """
    if not book_dir.is_dir():
        raise FileNotFoundError(f"BOOK_DIR {str(book_dir)!r} is not an existing directory")
    source = shipped_extension_dir()
    target = book_dir / "_extensions" / EXTENSION_NAME
    existed = target.exists() or target.is_symlink()
    if existed:
        if target.is_dir() and not target.is_symlink():
            shipped, present = extension_digests(source), extension_digests(target)
            if shipped == present:
                return InstallResult("unchanged", target, source)
            changed = sorted(k for k in shipped.keys() & present.keys() if shipped[k] != present[k])
            missing = sorted(shipped.keys() - present.keys())
            extra = sorted(present.keys() - shipped.keys())
        else:
            changed, missing, extra = [target.name + " (not a plain directory)"], [], []
        if not force:
            raise ModifiedExtensionError(target, changed, missing, extra)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{EXTENSION_NAME}-", dir=target.parent))
    try:
        staged = staging / EXTENSION_NAME
        shutil.copytree(source, staged, ignore=shutil.ignore_patterns(*_IGNORED_PARTS, "*.pyc"))
        if existed:
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink()
        staged.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return InstallResult("replaced" if existed else "installed", target, source)


def quarto_yml_settings(book_dir: Path) -> tuple[bool, bool] | None:
    """Whether the book's ``_quarto.yml`` already lists the filter (``filters:`` holds
    ``mlsysim``, or ``{path: mlsysim}``) and the pre-render command (``project: pre-render:``,
    a string or a list); None when there is no readable ``_quarto.yml`` mapping."""
    import yaml

    try:
        config = yaml.safe_load((book_dir / "_quarto.yml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(config, dict):
        return None
    filters = config.get("filters") if isinstance(config.get("filters"), list) else []
    names = [f.get("path") if isinstance(f, dict) else f for f in filters]
    project = config.get("project") if isinstance(config.get("project"), dict) else {}
    commands = project.get("pre-render") or []
    commands = [commands] if isinstance(commands, str) else commands
    has_filter = EXTENSION_NAME in names
    has_pre_render = isinstance(commands, list) and PRE_RENDER_COMMAND in commands
    return has_filter, has_pre_render


def configuration_advice(book_dir: Path) -> str:
    """What ``install`` says about ``_quarto.yml``: the lines it still lacks (both when there is
    no readable ``_quarto.yml``), or that the book is already configured."""
    has_filter, has_pre_render = quarto_yml_settings(book_dir) or (False, False)
    add_filter = "\nAdd to the book's _quarto.yml:\n\n" + QUARTO_YML_LINES
    runs = (
        f"runs `{PRE_RENDER_COMMAND}` before each render (the extension contributes it). Under "
        "`quarto preview`, or to be explicit, also add:\n\n" + QUARTO_YML_FALLBACK
    )
    if has_filter and has_pre_render:
        return (
            "\nThe book's _quarto.yml already lists the mlsysim filter and the "
            f"`{PRE_RENDER_COMMAND}` pre-render command; nothing to add."
        )
    if has_filter:
        return f"\nThe book's _quarto.yml already lists the mlsysim filter. Quarto >= 1.5 {runs}"
    if has_pre_render:
        return f"{add_filter}\n(Its project: pre-render already runs `{PRE_RENDER_COMMAND}`.)"
    return f"{add_filter}\nQuarto >= 1.5 then {runs}"


def shipped_version(extension_dir: Path) -> str:
    """The ``version:`` line of an ``_extension.yml`` (no YAML parser needed)."""
    for line in (extension_dir / "_extension.yml").read_text(encoding="utf-8").splitlines():
        if line.startswith("version:"):
            return line.partition(":")[2].strip().strip("\"'")
    return "unknown"


def chapters_to_check(book_dir: Path, env: Mapping[str, str]) -> list[Path] | None:
    """The chapters a Quarto pre-render should check: ``None`` means the whole book.

    Quarto sets ``QUARTO_PROJECT_RENDER_ALL=1`` for a full render, and lists the files being
    rendered (relative to the project, one a line) in ``QUARTO_PROJECT_INPUT_FILES``, or in the
    file named by ``QUARTO_USE_FILE_FOR_PROJECT_INPUT_FILES`` when that is set. Only ``.qmd``
    files are chapters the checker runs.
    """
    if env.get("QUARTO_PROJECT_RENDER_ALL"):
        return None
    listing = env.get("QUARTO_PROJECT_INPUT_FILES")
    if listing is None:
        list_file = env.get("QUARTO_USE_FILE_FOR_PROJECT_INPUT_FILES")
        if list_file and (book_dir / list_file).is_file():
            listing = (book_dir / list_file).read_text(encoding="utf-8")
    if listing is None:
        return None
    chapters: list[Path] = []
    for line in listing.splitlines():
        name = line.strip()
        if name.lower().endswith(".qmd") and book_dir / name not in chapters:
            chapters.append(book_dir / name)
    return chapters


def run_check(args: list[str]) -> int:
    """Run ``mlsysim check ARGS`` in this process (the very command ``mlsysim check`` is); return
    its exit code."""
    from invariants.cli import standalone_app

    try:
        standalone_app()(args, prog_name="mlsysim check")
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        typer.echo(str(exc.code), err=True)
        return 1
    return 0


def pre_render(book_dir: Path, env: Mapping[str, str]) -> int:
    """The pre-render hook: check what Quarto is about to render; the check's exit code."""
    chapters = chapters_to_check(book_dir, env)
    if chapters is None:
        typer.echo(f"mlsysim: checking the book at {book_dir.resolve()}")
        args = [str(book_dir)]
    elif not chapters:
        typer.echo("mlsysim: no .qmd chapter among the files Quarto is rendering; nothing to check")
        return 0
    else:
        names = ", ".join(path.relative_to(book_dir).as_posix() for path in chapters)
        typer.echo(f"mlsysim: checking the {len(chapters)} chapter(s) Quarto is rendering: {names}")
        args = [str(path) for path in chapters]
    code = run_check(args)
    if code == 1 and env.get(REVIEW_ENV, "").lower() in ("1", "true", "yes", "on"):
        typer.echo(
            f"mlsysim: review build ({REVIEW_ENV}): rendering anyway; the chapters show what "
            "is broken"
        )
        return 0
    return code


def register(app: typer.Typer) -> None:
    """Add the ``quarto`` command group (``install``, ``pre-render``) to the ``mlsysim`` app."""
    quarto_app = typer.Typer(
        name="quarto",
        help="Use mlsysim in a Quarto book: install the extension, run the pre-render check.",
        no_args_is_help=True,
    )

    @quarto_app.command("install")
    def install(
        book_dir: Annotated[
            Path, typer.Argument(help="The Quarto book (the folder holding _quarto.yml).")
        ] = Path("."),
        force: Annotated[
            bool, typer.Option("--force", help="Replace an existing copy even if modified.")
        ] = False,
    ) -> None:
        """Copy the mlsysim Quarto extension into BOOK_DIR/_extensions/, as `quarto add` would."""
        try:
            result = install_extension(book_dir, force=force)
        except FileNotFoundError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(2) from None
        except ModifiedExtensionError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(1) from None
        version = shipped_version(result.source)
        said = {
            "installed": f"Installed the mlsysim extension {version} in {result.target}",
            "unchanged": f"The mlsysim extension {version} in {result.target} is already up to "
            "date; nothing changed",
            "replaced": f"Replaced {result.target} with the shipped mlsysim extension {version}",
        }
        typer.echo(said[result.action])
        typer.echo(configuration_advice(book_dir))

    @quarto_app.command("pre-render")
    def pre_render_command(
        book_dir: Annotated[
            Path, typer.Argument(help="The Quarto project (Quarto runs the hook from its root).")
        ] = Path("."),
    ) -> None:
        """Check the chapters Quarto is about to render; a non-zero exit aborts `quarto render`."""
        raise typer.Exit(pre_render(book_dir, os.environ))

    app.add_typer(quarto_app, name="quarto")
