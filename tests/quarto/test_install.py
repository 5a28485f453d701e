"""``mlsysim quarto install``: copies the shipped extension like ``quarto add``, says what it did,
prints the ``_quarto.yml`` lines, and never replaces a modified copy without ``--force``."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mlsysim.quarto_install import (
    PRE_RENDER_COMMAND,
    extension_digests,
    register,
    shipped_extension_dir,
)

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "quarto_ext" / "_extensions" / "mlsysim"
# What install says after the lines to add when _quarto.yml lacks the pre-render command.
FALLBACK_ADVICE = (
    "runs `mlsysim quarto pre-render` before each render (the extension contributes it). Under "
    "`quarto preview`, or to be explicit, also add:\n\nproject:\n  pre-render: mlsysim quarto "
    "pre-render\n\n"
)


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def install(cli: typer.Typer, *args: str):
    return CliRunner().invoke(cli, ["quarto", "install", *args])


def test_the_clone_ships_the_extension() -> None:
    assert shipped_extension_dir() == SHIPPED
    assert set(extension_digests(SHIPPED)) == {"_extension.yml", "mlsysim.lua"}


def test_fresh_install_copies_every_file_and_prints_the_quarto_yml_lines(
    cli: typer.Typer, tmp_path: Path
) -> None:
    result = install(cli, str(tmp_path))
    target = tmp_path / "_extensions" / "mlsysim"
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Installed the mlsysim extension 0.1.0 in {target}\n")
    assert result.output == (  # no _quarto.yml yet: both lines
        f"Installed the mlsysim extension 0.1.0 in {target}\n\nAdd to the book's _quarto.yml:\n\n"
        "filters:\n  - mlsysim\n\nQuarto >= 1.5 then " + FALLBACK_ADVICE
    )
    for name in ("_extension.yml", "mlsysim.lua"):
        assert (target / name).read_bytes() == (SHIPPED / name).read_bytes()
    assert sorted(p.name for p in (tmp_path / "_extensions").iterdir()) == ["mlsysim"]


@pytest.mark.parametrize(
    ("quarto_yml", "advice"),
    [
        pytest.param(  # the fixture book: filter and pre-render both listed
            (REPO / "tests" / "quarto" / "fixtures" / "book" / "_quarto.yml").read_text(),
            "\nThe book's _quarto.yml already lists the mlsysim filter and the `mlsysim quarto "
            "pre-render` pre-render command; nothing to add.\n",
            id="configured",
        ),
        pytest.param(
            "project:\n  pre-render:\n    - python prep.py\n    - mlsysim quarto pre-render\n"
            "filters:\n  - path: mlsysim\n    at: post-quarto\n",
            "\nThe book's _quarto.yml already lists the mlsysim filter and the `mlsysim quarto "
            "pre-render` pre-render command; nothing to add.\n",
            id="configured-as-list-and-mapping",
        ),
        pytest.param(
            "project:\n  type: book\nfilters:\n  - other\n  - mlsysim\n",
            "\nThe book's _quarto.yml already lists the mlsysim filter. Quarto >= 1.5 "
            + FALLBACK_ADVICE,
            id="filter-only",
        ),
        pytest.param(
            "project:\n  pre-render: mlsysim quarto pre-render\nfilters:\n  - other\n",
            "\nAdd to the book's _quarto.yml:\n\nfilters:\n  - mlsysim\n\n(Its project: "
            "pre-render already runs `mlsysim quarto pre-render`.)\n",
            id="pre-render-only",
        ),
        pytest.param(
            "project:\n  type: book\n",
            "\nAdd to the book's _quarto.yml:\n\nfilters:\n  - mlsysim\n\nQuarto >= 1.5 then "
            + FALLBACK_ADVICE,
            id="neither",
        ),
        pytest.param(
            "filters: [mlsysim\n",  # not YAML: both lines, as for a book without the file
            "\nAdd to the book's _quarto.yml:\n\nfilters:\n  - mlsysim\n\nQuarto >= 1.5 then "
            + FALLBACK_ADVICE,
            id="unreadable",
        ),
    ],
)
def test_install_prints_only_the_quarto_yml_lines_the_book_lacks(
    cli: typer.Typer, tmp_path: Path, quarto_yml: str, advice: str
) -> None:
    (tmp_path / "_quarto.yml").write_text(quarto_yml, encoding="utf-8")
    result = install(cli, str(tmp_path))
    assert result.exit_code == 0, result.output
    target = tmp_path / "_extensions" / "mlsysim"
    assert result.output == f"Installed the mlsysim extension 0.1.0 in {target}\n" + advice


def test_reinstall_of_an_identical_copy_changes_nothing(cli: typer.Typer, tmp_path: Path) -> None:
    assert install(cli, str(tmp_path)).exit_code == 0
    lua = tmp_path / "_extensions" / "mlsysim" / "mlsysim.lua"
    before = lua.stat().st_mtime_ns
    result = install(cli, str(tmp_path))
    assert result.exit_code == 0, result.output
    target = tmp_path / "_extensions" / "mlsysim"
    assert result.output.startswith(
        f"The mlsysim extension 0.1.0 in {target} is already up to date; nothing changed\n"
    )
    assert lua.stat().st_mtime_ns == before


def test_modified_copy_is_refused_and_left_untouched(cli: typer.Typer, tmp_path: Path) -> None:
    assert install(cli, str(tmp_path)).exit_code == 0
    target = tmp_path / "_extensions" / "mlsysim"
    (target / "mlsysim.lua").write_text("-- my local tweak\n", encoding="utf-8")
    (target / "notes.md").write_text("mine\n", encoding="utf-8")
    (target / "_extension.yml").unlink()
    result = install(cli, str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {target} differs from the extension shipped with mlsysim:\n"
        "  modified: mlsysim.lua\n"
        "  missing:  _extension.yml\n"
        "  added:    notes.md\n"
        "Left untouched. Re-run with --force to replace it with the shipped version.\n"
    )
    assert (target / "mlsysim.lua").read_text(encoding="utf-8") == "-- my local tweak\n"
    assert (target / "notes.md").exists()
    assert not (target / "_extension.yml").exists()
    assert sorted(p.name for p in (tmp_path / "_extensions").iterdir()) == ["mlsysim"]


def test_force_replaces_a_modified_copy_with_the_shipped_one(
    cli: typer.Typer, tmp_path: Path
) -> None:
    assert install(cli, str(tmp_path)).exit_code == 0
    target = tmp_path / "_extensions" / "mlsysim"
    (target / "mlsysim.lua").write_text("-- my local tweak\n", encoding="utf-8")
    (target / "notes.md").write_text("mine\n", encoding="utf-8")
    result = install(cli, str(tmp_path), "--force")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Replaced {target} with the shipped mlsysim extension 0.1.0\n")
    assert extension_digests(target) == extension_digests(SHIPPED)
    assert sorted(p.name for p in (tmp_path / "_extensions").iterdir()) == ["mlsysim"]


def test_a_symlink_in_place_of_the_extension_is_not_followed(
    cli: typer.Typer, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep\n", encoding="utf-8")
    book = tmp_path / "book"
    (book / "_extensions").mkdir(parents=True)
    (book / "_extensions" / "mlsysim").symlink_to(elsewhere)
    refused = install(cli, str(book))
    assert refused.exit_code == 1
    assert "mlsysim (not a plain directory)" in refused.stderr
    forced = install(cli, str(book), "--force")
    assert forced.exit_code == 0, forced.output
    assert not (book / "_extensions" / "mlsysim").is_symlink()
    assert (elsewhere / "keep.txt").read_text(encoding="utf-8") == "keep\n"


def test_nonexistent_book_dir_is_a_usage_error(cli: typer.Typer, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-book"
    result = install(cli, str(missing))
    assert result.exit_code == 2
    assert result.stderr == f"Error: BOOK_DIR '{missing}' is not an existing directory\n"
    assert not missing.exists()


def test_a_wheel_ships_the_extension_under_bundled(tmp_path: Path) -> None:
    """pyproject force-includes quarto_ext as mlsysim/_bundled/quarto_ext; that copy wins."""
    package = tmp_path / "site-packages" / "mlsysim"
    bundled = package / "_bundled" / "quarto_ext" / "_extensions" / "mlsysim"
    bundled.mkdir(parents=True)
    (bundled / "_extension.yml").write_text("version: 0.1.0\n", encoding="utf-8")
    assert shipped_extension_dir(package) == bundled


def test_a_package_without_the_extension_says_where_it_looked(tmp_path: Path) -> None:
    package = tmp_path / "mlsysim"
    package.mkdir()
    with pytest.raises(FileNotFoundError, match="the mlsysim Quarto extension is not shipped"):
        shipped_extension_dir(package)


def test_extension_manifest_contributes_the_pre_render_command_and_the_filter() -> None:
    import yaml

    manifest = yaml.safe_load((SHIPPED / "_extension.yml").read_text(encoding="utf-8"))
    assert manifest["quarto-required"] == ">=1.5.0"
    assert manifest["version"] == "0.1.0"
    assert manifest["contributes"] == {
        "metadata": {"project": {"pre-render": [PRE_RENDER_COMMAND]}},
        "filters": ["mlsysim.lua"],
    }
    assert PRE_RENDER_COMMAND == "mlsysim quarto pre-render"
