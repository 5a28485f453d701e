"""Book discovery: which chapters a PATHS argument names, and where goldens go."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from invariants.book import BookError, bundled_book, find_book, stem_clashes

TINY = Path(__file__).parent / "fixtures" / "books" / "tiny"


def _write(path: Path, text: str = "# x\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_quarto_yml_chapters_with_part_groups_in_order():
    book = find_book([TINY])
    assert book.root == TINY.resolve()
    assert [book.relative(c) for c in book.chapters] == ["index.qmd", "chapters/ridge.qmd"]
    assert book.golden_dir == TINY.resolve() / "golden"
    assert book.report_path == TINY.resolve() / ".invariants" / "report.json"


def test_project_render_list_is_used_without_a_book_section(tmp_path):
    _write(tmp_path / "_quarto.yml", "project:\n  render:\n    - b.qmd\n    - a.qmd\n")
    _write(tmp_path / "a.qmd")
    _write(tmp_path / "b.qmd")
    _write(tmp_path / "unlisted.qmd")
    assert [p.name for p in find_book([tmp_path]).chapters] == ["b.qmd", "a.qmd"]


def test_without_a_list_every_qmd_except_build_and_state_folders(tmp_path):
    for name in ("z.qmd", "sub/a.qmd", "_book/out.qmd", ".invariants/x.qmd", "_partial.qmd"):
        _write(tmp_path / name)
    book = find_book([tmp_path])
    assert [book.relative(c) for c in book.chapters] == ["sub/a.qmd", "z.qmd"]


def test_a_single_chapter_belongs_to_the_project_above_it():
    book = find_book([TINY / "chapters" / "ridge.qmd"])
    assert book.root == TINY.resolve()
    assert [c.name for c in book.chapters] == ["ridge.qmd"]


def test_no_paths_means_the_project_around_cwd(tmp_path):
    assert find_book([], cwd=TINY / "chapters").root == TINY.resolve()


def test_the_bundled_sample_book_sits_beside_the_package_in_a_clone():
    assert bundled_book() == Path(__file__).parents[2] / "book_fixtures"


def test_no_paths_and_no_project_means_the_bundled_sample_book(tmp_path, monkeypatch):
    monkeypatch.setattr("invariants.book.bundled_book", lambda: TINY)
    assert find_book([], cwd=tmp_path).root == TINY.resolve()


def test_golden_dir_comes_from_quarto_yml(tmp_path):
    _write(tmp_path / "_quarto.yml", "mlsysim:\n  golden-dir: snapshots/numbers\n")
    _write(tmp_path / "c.qmd")
    assert find_book([tmp_path]).golden_dir == tmp_path.resolve() / "snapshots" / "numbers"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("mlsysim:\n  golden-dir: ../elsewhere\n", "points outside the book"),
        ("book:\n  chapters:\n    - gone.qmd\n", "lists a chapter that does not exist: gone.qmd"),
        ("book: [unclosed\n", "cannot read"),
    ],
)
def test_bad_configuration_is_a_book_error(tmp_path, config, message):
    _write(tmp_path / "_quarto.yml", config)
    _write(tmp_path / "c.qmd")
    with pytest.raises(BookError, match=message):
        find_book([tmp_path])


def test_nonexistent_path_and_non_qmd_file(tmp_path):
    with pytest.raises(BookError, match="path does not exist: nope"):
        find_book(["nope"], cwd=tmp_path)
    _write(tmp_path / "notes.txt")
    with pytest.raises(BookError, match=r"not a \.qmd chapter or a book folder"):
        find_book(["notes.txt"], cwd=tmp_path)


def test_a_mistyped_path_suggests_the_closest_existing_chapters_as_typed(tmp_path):
    for name in ("03_hardware.qmd", "02_dl_primer.qmd", "05_training.qmd", "07_tinyml.qmd"):
        _write(tmp_path / "book" / "chapters" / name)

    def message(raw):
        with pytest.raises(BookError) as info:
            find_book([raw], cwd=tmp_path)
        return str(info.value)

    assert message("book/chapters/03_hardwre.qmd") == (
        "path does not exist: book/chapters/03_hardwre.qmd; did you mean "
        "book/chapters/03_hardware.qmd?"
    )
    assert message("book/chaptrs/03_hardware.qmd") == (  # a typo in a folder name
        "path does not exist: book/chaptrs/03_hardware.qmd; did you mean "
        "book/chapters/03_hardware.qmd?"
    )
    absolute = tmp_path / "book" / "chapters" / "05_trainin.qmd"
    assert message(absolute) == (
        f"path does not exist: {absolute}; did you mean {absolute.parent}/05_training.qmd?"
    )
    _write(tmp_path / "book" / "chapters" / "03_hardwere.qmd")  # as close: both, by name
    assert message("book/chapters/03_hardwre.qmd") == (
        "path does not exist: book/chapters/03_hardwre.qmd; did you mean "
        "book/chapters/03_hardware.qmd, book/chapters/03_hardwere.qmd?"
    )
    assert message("book/chapters/intro.qmd") == "path does not exist: book/chapters/intro.qmd"


def test_chapters_sharing_a_stem_are_found_not_refused(tmp_path):
    for name in ("a/intro.qmd", "b/intro.qmd", "c/other.qmd", "d/intro.qmd"):
        _write(tmp_path / name)
    book = find_book([tmp_path])
    assert len(book.chapters) == 4  # discovery keeps them; the check reports the clash
    a, b, _, d = (
        tmp_path / n for n in ("a/intro.qmd", "b/intro.qmd", "c/other.qmd", "d/intro.qmd")
    )
    assert stem_clashes(book.chapters) == {a: b, b: a, d: a}


def test_paths_from_two_books_are_refused(tmp_path):
    for name in ("one", "two"):
        _write(tmp_path / name / "_quarto.yml", "project:\n  type: book\n")
        _write(tmp_path / name / "c.qmd")
    with pytest.raises(BookError, match="several books"):
        find_book([tmp_path / "one" / "c.qmd", tmp_path / "two" / "c.qmd"])


def test_chapter_outside_the_book_keeps_its_path_but_goldens_stay_inside(tmp_path):
    outside = _write(tmp_path / "outside" / "far.qmd")
    book_dir = tmp_path / "book"
    _write(book_dir / "_quarto.yml", "book:\n  chapters:\n    - ../outside/far.qmd\n")
    os.symlink(outside, _write(book_dir / "x").parent / "linked.qmd")
    book = find_book([book_dir])
    assert [book.relative(c) for c in book.chapters] == ["../outside/far.qmd"]
    assert book.golden_dir == book_dir.resolve() / "golden"
    assert book.relative(book_dir / "linked.qmd") == "linked.qmd"  # not the link's target
