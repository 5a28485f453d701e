"""The result cache: a run is reused only while the chapter, its golden, and every module and
data file the kernel used are unchanged."""

from __future__ import annotations

import os
from pathlib import Path

from invariants.cache import ResultCache, fingerprint, run_from_json, run_to_json
from invariants.model import (
    Cell,
    Chapter,
    ChapterRun,
    CheckOutcome,
    ExecutionError,
    InlineExpr,
    InlineValue,
)
from invariants.protocol import CheckRecord, PublishedValue


def _chapter(path: Path, text: str = "```{python}\nx = 1\n```\n") -> Chapter:
    cell = Cell(index=0, source="x = 1", start_line=2)
    return Chapter(path=path, text=text, front_matter={}, cells=(cell,), inline=())


def _run(path: Path, deps: tuple[str, ...]) -> ChapterRun:
    record = CheckRecord(
        kind="check",
        message="x is one",
        passed=True,
        file="/tmp/ipykernel_1/2.py",
        line=3,
        values={"x": PublishedValue(1.0, "byte", "1 B")},
    )
    expr = InlineExpr(index=0, code="x", line=5, column=3, cells_before=1)
    return ChapterRun(
        chapter=path,
        cells_run=1,
        checks=(CheckOutcome(record, 4, "setup"),),
        inline=(InlineValue(expr, "1", 1.0, None),),
        errors=(ExecutionError("exception", "boom", 7, "c", "tb"),),
        duration_s=1.5,
        dependencies=deps,
    )


def _setup(tmp_path):
    module = tmp_path / "helper.py"
    module.write_text("BANDWIDTH = 3.35\n")
    data = tmp_path / "peak.txt"
    data.write_text("989.4\n")
    chapter = _chapter(tmp_path / "ch.qmd")
    run = _run(chapter.path, (str(module), str(data)))
    cache = ResultCache(tmp_path / ".invariants" / "cache")
    golden = tmp_path / "golden" / "ch.yml"
    cache.store(chapter.path, chapter.text, golden, run)
    return cache, chapter, golden, run, module, data


def test_run_round_trips_through_json(tmp_path):
    run = _run(tmp_path / "ch.qmd", ("a", "b"))
    assert run_from_json(run_to_json(run), run.chapter) == run


def test_an_unchanged_chapter_is_a_hit(tmp_path):
    cache, chapter, golden, run, _, _ = _setup(tmp_path)
    assert cache.load(chapter.path, chapter.text, golden) == run
    assert cache.entry_path(chapter.path).parent == tmp_path / ".invariants" / "cache"


def test_a_touched_but_identical_module_is_still_a_hit(tmp_path):
    cache, chapter, golden, run, module, _ = _setup(tmp_path)
    os.utime(module, ns=(1, 1))
    assert cache.load(chapter.path, chapter.text, golden) == run


def test_an_edited_module_is_a_miss(tmp_path):
    cache, chapter, golden, _, module, _ = _setup(tmp_path)
    stat = module.stat()
    module.write_text("BANDWIDTH = 3.36\n")  # same size: only the content says it changed
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert cache.load(chapter.path, chapter.text, golden) is None


def test_an_edited_or_deleted_data_file_is_a_miss(tmp_path):
    cache, chapter, golden, _, _, data = _setup(tmp_path)
    data.write_text("1979\n")
    assert cache.load(chapter.path, chapter.text, golden) is None
    data.unlink()
    assert cache.load(chapter.path, chapter.text, golden) is None


def test_chapter_text_golden_and_environment_are_in_the_key(tmp_path):
    cache, chapter, golden, _, _, _ = _setup(tmp_path)
    edited = _chapter(chapter.path, chapter.text + "more prose\n")
    assert cache.load(edited.path, edited.text, golden) is None
    assert cache.load(chapter.path, chapter.text, golden, env={"SEED": "1"}) is None
    assert cache.load(chapter.path, chapter.text, golden, kernel_name="other") is None
    golden.parent.mkdir()
    golden.write_text("inline: {}\n")
    assert cache.load(chapter.path, chapter.text, golden) is None


def test_a_corrupt_entry_is_a_miss_not_an_error(tmp_path):
    cache, chapter, golden, _, _, _ = _setup(tmp_path)
    cache.entry_path(chapter.path).write_text("{not json")
    assert cache.load(chapter.path, chapter.text, golden) is None


def test_fingerprint_of_a_missing_file_is_none(tmp_path):
    assert fingerprint(str(tmp_path / "gone")) is None
    (tmp_path / "f").write_text("ab")
    path, size, _, sha = fingerprint(str(tmp_path / "f"))
    assert (path, size) == (str(tmp_path / "f"), 2)
    assert sha == "fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603"


def test_one_cache_object_judges_a_shared_dependency_once(tmp_path, monkeypatch):
    cache, chapter, golden, run, module, _ = _setup(tmp_path)
    other = _chapter(tmp_path / "other.qmd")
    cache.store(other.path, other.text, golden, _run(other.path, (str(module),)))
    fresh = ResultCache(cache.cache_dir)
    stats = []
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: stats.append(p) or real_stat(p, *a, **k))
    assert fresh.load(chapter.path, chapter.text, golden) == run
    assert fresh.load(other.path, other.text, golden) is not None
    assert stats.count(str(module)) == 1


def test_prune_deletes_entries_of_chapters_that_are_gone_and_keeps_the_rest(tmp_path):
    cache, chapter, golden, *_ = _setup(tmp_path)
    kept = cache.entry_path(chapter.path)
    other = _chapter(tmp_path / "other.qmd")  # exists, but not among the chapters just checked
    other.path.write_text(other.text)
    other_entry = cache.store(other.path, other.text, golden, _run(other.path, ()))
    gone = tmp_path / "renamed.qmd"  # stored, then deleted: a rename or a removed chapter
    gone.write_text(chapter.text)
    gone_entry = cache.store(gone, chapter.text, golden, _run(gone, ()))
    gone.unlink()
    corrupt = cache.cache_dir / "broken-000000000000.json"
    corrupt.write_text("{not json")
    unrelated = cache.cache_dir / "README.txt"
    unrelated.write_text("not an entry")

    assert sorted(cache.prune([chapter.path])) == sorted([gone_entry, corrupt])
    assert sorted(p.name for p in cache.cache_dir.iterdir()) == sorted(
        [kept.name, other_entry.name, "README.txt"]
    )
    assert cache.prune([chapter.path]) == []  # nothing left to prune


def test_prune_drops_an_entry_written_by_an_older_cache_version(tmp_path):
    cache, chapter, *_ = _setup(tmp_path)
    chapter.path.write_text(chapter.text)
    entry = cache.entry_path(chapter.path)
    entry.write_text(entry.read_text().replace('"version": 1', '"version": 0'))
    assert cache.prune([]) == [entry]


def test_prune_of_a_missing_cache_folder_is_a_no_op(tmp_path):
    assert ResultCache(tmp_path / "absent").prune([tmp_path / "ch.qmd"]) == []
