"""The golden store: snapshot format, shift/tolerance/unit rules, atomic locked updates."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import time
from pathlib import Path

import pytest
import yaml

from invariants.golden import LOCK_NAME, GoldenFileError, GoldenStore, dump_golden
from invariants.model import (
    ChapterRun,
    CheckOutcome,
    ExecutionError,
    GoldenFinding,
    InlineExpr,
    InlineValue,
)
from invariants.protocol import CheckRecord

CHAPTER = Path("/book/chapters/03_hardware.qmd")


def inline(code, text, magnitude=None, unit=None, line=10, error=None):
    expr = InlineExpr(index=0, code=code, line=line, column=1, cells_before=1)
    return InlineValue(expr=expr, text=text, magnitude=magnitude, unit=unit, error=error)


def golden(name, magnitude, unit, text, rtol=None, atol=None, line=20):
    payload = {"magnitude": magnitude, "unit": unit, "text": text, "rtol": rtol, "atol": atol}
    record = CheckRecord(
        kind="golden", message=f"golden {name}", passed=True, file="cell", line=3, name=name,
        golden=payload,
    )  # fmt: skip
    return CheckOutcome(record=record, line=line, cell="setup")


def run(*values, errors=(), chapter=CHAPTER):
    inlines = tuple(v for v in values if isinstance(v, InlineValue))
    checks = tuple(v for v in values if isinstance(v, CheckOutcome))
    return ChapterRun(chapter=chapter, cells_run=2, checks=checks, inline=inlines, errors=errors)


RIDGE = inline("ridge_str", "295 FLOP/byte", 295.2, "flop / byte", line=88)
H100_RIDGE = golden("h100_ridge", 295.2, "flop / byte", "295.2 FLOP/byte", rtol=1e-3)
BASE = run(RIDGE, H100_RIDGE)

BASE_YAML = """\
golden:
  h100_ridge:
    atol: null
    magnitude: 295.2
    rtol: 0.001
    text: 295.2 FLOP/byte
    unit: flop / byte
inline:
  ridge_str:
    magnitude: 295.2
    text: 295 FLOP/byte
    unit: flop / byte
"""


@pytest.fixture
def store(tmp_path):
    return GoldenStore(tmp_path / "golden")


@pytest.fixture
def recorded(store):
    store.update(BASE)
    return store


def by_key(findings):
    return {f.key: f for f in findings}


# --- format ---------------------------------------------------------------------------------


def test_path_for_is_golden_dir_and_chapter_stem(store, tmp_path):
    assert store.path_for(CHAPTER) == tmp_path / "golden" / "03_hardware.yml"


def test_first_update_writes_the_documented_format(store):
    changes = store.update(BASE)
    assert store.path_for(CHAPTER).read_text() == BASE_YAML
    assert [(c.kind, c.key, c.status, c.new, c.line) for c in changes] == [
        ("golden", "h100_ridge", "new", "295.2 FLOP/byte", 20),
        ("inline", "ridge_str", "new", "295 FLOP/byte", 88),
    ]


def test_dump_golden_is_byte_identical_to_data_regression(tmp_path, data_regression):
    shared = {"magnitude": 3.2e-6, "text": "≈ 3.2 µs", "unit": "second"}
    data = {
        "inline": {
            "f'{t:~P}'": shared,
            "latency_str": shared,  # the same object twice: no YAML aliases
            "'1'": {"magnitude": [1.0, 2.5e20], "text": "1 and 2.5e20", "unit": None},
        },
        "golden": {
            "kv cache (GB)": {
                "atol": None, "magnitude": 80.0, "rtol": 0.01, "text": "80 GB", "unit": "gigabyte"
            },
        },
    }  # fmt: skip
    target = tmp_path / "expected.yml"
    with pytest.raises(pytest.fail.Exception, match="File not found in data directory, created"):
        data_regression.check(data, fullpath=target)
    assert dump_golden(data).encode("utf-8") == target.read_bytes()
    assert "&id" not in target.read_text()


def test_snapshot_is_what_the_plugin_hands_to_data_regression(store):
    assert dump_golden(store.snapshot(BASE)) == BASE_YAML


def test_same_expression_same_text_is_one_entry_with_all_its_lines(store):
    twice = run(inline("n", "8 GPUs", 8.0, None, line=5), inline("n", "8 GPUs", 8.0, None, line=9))
    assert store.snapshot(twice)["inline"] == {
        "n": {"magnitude": 8.0, "text": "8 GPUs", "unit": None}
    }
    store.update(run(inline("n", "4 GPUs", 4.0, None, line=5)))
    (finding,) = store.compare(twice, strict=False)
    assert finding.line == 5
    assert finding.message == (
        "published text changed: 4 GPUs → 8 GPUs (+100%) (also published on lines 9)"
    )


def test_same_expression_different_texts_are_numbered_entries(store):
    reassigned = run(
        inline("x", "1 s", 1.0, "second", line=4), inline("x", "2 s", 2.0, "second", line=30)
    )
    snap = store.snapshot(reassigned)["inline"]
    assert snap == {
        "x": {"magnitude": 1.0, "text": "1 s", "unit": "second"},
        "x #2": {"magnitude": 2.0, "text": "2 s", "unit": "second"},
    }
    store.update(reassigned)
    moved = run(
        inline("x", "1 s", 1.0, "second", line=4), inline("x", "3 s", 3.0, "second", line=30)
    )
    findings = by_key(store.compare(moved, strict=False))
    assert findings["x"].status == "ok"
    assert (findings["x #2"].status, findings["x #2"].old, findings["x #2"].new) == (
        "shifted", "2 s", "3 s"
    )  # fmt: skip
    assert findings["x #2"].line == 30


def test_inline_key_ignores_whitespace_so_a_reflowed_expression_keeps_its_entry(store):
    store.update(run(inline("fmt(x,  'GB')", "8 GB", 8.0, "gigabyte", line=3)))
    reflowed = run(inline("fmt(x,\n 'GB')", "8 GB", 8.0, "gigabyte", line=4))
    assert list(store.snapshot(reflowed)["inline"]) == ["fmt(x, 'GB')"]
    assert [(f.key, f.status) for f in store.compare(reflowed, strict=True)] == [
        ("fmt(x, 'GB')", "ok")
    ]


def test_inline_values_that_failed_to_evaluate_are_not_snapshotted(store):
    broken = run(RIDGE, inline("oops", None, error="NameError: name 'oops' is not defined"))
    assert list(store.snapshot(broken)["inline"]) == ["ridge_str"]


# --- compare --------------------------------------------------------------------------------


def test_unchanged_run_is_all_ok(recorded):
    findings = recorded.compare(BASE, strict=True)
    assert [(f.key, f.kind, f.status, f.old, f.new) for f in findings] == [
        ("ridge_str", "inline", "ok", "295 FLOP/byte", "295 FLOP/byte"),
        ("h100_ridge", "golden", "ok", "295.2 FLOP/byte", "295.2 FLOP/byte"),
    ]
    assert not any(f.failed for f in findings)


def test_changed_inline_text_is_a_shift_with_relative_change_and_prose_line(recorded):
    shifted = run(inline("ridge_str", "312 FLOP/byte", 312.0, "flop / byte", line=88), H100_RIDGE)
    finding = by_key(recorded.compare(shifted, strict=False))["ridge_str"]
    assert finding == GoldenFinding(
        key="ridge_str",
        kind="inline",
        status="shifted",
        old="295 FLOP/byte",
        new="312 FLOP/byte",
        rel_change=pytest.approx((312.0 - 295.2) / 295.2),
        line=88,
        message="published text changed: 295 FLOP/byte → 312 FLOP/byte (+5.69%)",
    )
    assert finding.failed


def test_same_text_with_a_different_magnitude_is_not_a_shift(recorded):
    hidden = run(inline("ridge_str", "295 FLOP/byte", 295.4, "flop / byte", line=88), H100_RIDGE)
    assert by_key(recorded.compare(hidden, strict=False))["ridge_str"].status == "ok"


def test_shift_relative_change_converts_units(store):
    store.update(run(inline("t", "1.5 ms", 1.5, "millisecond")))
    finding = store.compare(run(inline("t", "0.003 s", 0.003, "second")), strict=False)[0]
    assert finding.status == "shifted"
    assert finding.rel_change == pytest.approx(1.0)


def test_shift_without_magnitudes_has_no_relative_change(store):
    store.update(run(inline("name", "H100")))
    finding = store.compare(run(inline("name", "B200")), strict=False)[0]
    assert (finding.status, finding.rel_change) == ("shifted", None)
    assert finding.message == "published text changed: H100 → B200"


def test_golden_inside_its_tolerance_passes(recorded):
    near = golden("h100_ridge", 295.45, "flop / byte", "295.45 FLOP/byte", rtol=1e-3)
    finding = by_key(recorded.compare(run(RIDGE, near), strict=True))["h100_ridge"]
    assert finding.status == "ok"
    assert finding.rel_change == pytest.approx(0.25 / 295.2)
    assert finding.message == "within rtol=0.001: 295.2 FLOP/byte → 295.45 FLOP/byte (+0.0847%)"


def test_golden_outside_its_tolerance_fails(recorded):
    far = golden("h100_ridge", 296.0, "flop / byte", "296 FLOP/byte", rtol=1e-3)
    finding = by_key(recorded.compare(run(RIDGE, far), strict=False))["h100_ridge"]
    assert (finding.status, finding.old, finding.new, finding.line) == (
        "out_of_tolerance", "295.2 FLOP/byte", "296 FLOP/byte", 20
    )  # fmt: skip
    assert finding.message == "outside rtol=0.001: 295.2 FLOP/byte → 296 FLOP/byte (+0.271%)"
    assert finding.failed


def test_golden_atol_is_absolute(store):
    store.update(run(golden("acc", 0.0, None, "0.0", atol=0.01)))
    inside = store.compare(run(golden("acc", 0.009, None, "0.009", atol=0.01)), strict=False)
    outside = store.compare(run(golden("acc", 0.011, None, "0.011", atol=0.01)), strict=False)
    assert (inside[0].status, outside[0].status) == ("ok", "out_of_tolerance")
    assert outside[0].rel_change is None  # relative to zero is undefined
    assert outside[0].message == "outside atol=0.01: 0.0 → 0.011"


def test_golden_without_tolerance_must_match_exactly(store):
    store.update(run(golden("n", 8.0, None, "8")))
    assert store.compare(run(golden("n", 8.0, None, "8")), strict=False)[0].status == "ok"
    moved = store.compare(run(golden("n", 8.000001, None, "8")), strict=False)[0]
    assert (moved.status, moved.message) == (
        "out_of_tolerance",
        "outside exact match: 8 → 8 (+1.25e-05%)",
    )


def test_golden_compares_with_units(store):
    store.update(run(golden("hbm", 3.35, "terabyte / second", "3.35 TB/s", rtol=1e-3)))
    same = golden("hbm", 3350.0, "gigabyte / second", "3350 GB/s", rtol=1e-3)
    wrong = golden("hbm", 3.35, "tebibyte / second", "3.35 TiB/s", rtol=1e-3)
    assert store.compare(run(same), strict=False)[0].status == "ok"
    off = store.compare(run(wrong), strict=False)[0]
    assert off.status == "out_of_tolerance"
    assert off.rel_change == pytest.approx(2**40 / 1e12 - 1)


def test_units_unknown_to_pint_compare_by_name_and_prefix(store):
    store.update(run(golden("peak", 989.0, "teraflop / second", "989 TFLOP/s", rtol=1e-3)))
    same = golden("peak", 0.989, "petaflop / second", "0.989 PFLOP/s", rtol=1e-3)
    assert store.compare(run(same), strict=False)[0].status == "ok"
    store.update(run(golden("ridge", 295.2, "flop / byte", "295.2", rtol=1e-3)))
    equal_strings = golden("ridge", 295.2, "flop / byte", "295.2", rtol=1e-3)
    assert store.compare(run(equal_strings), strict=False)[0].status == "ok"


def test_unit_that_does_not_convert_is_a_unit_error_naming_both(store):
    store.update(run(golden("ridge", 295.2, "flop / byte", "295.2 FLOP/byte", rtol=1e-3)))
    seconds = golden("ridge", 295.2, "second", "295.2 s", rtol=1e-3)
    finding = store.compare(run(seconds), strict=False)[0]
    assert finding.status == "unit_error"
    assert finding.message == (
        "unit 'second' of this run does not convert to the snapshot's 'flop / byte'"
    )
    assert finding.failed


def test_stored_unit_pint_cannot_parse_is_a_golden_file_error(store):
    path = store.path_for(CHAPTER)
    path.parent.mkdir(parents=True)
    path.write_text(BASE_YAML.replace("unit: flop / byte\ninline", "unit: flop / (byte\ninline"))
    equal = store.compare(run(golden("h100_ridge", 295.2, "flop / (byte", "295.2", rtol=1e-3)),
                          strict=False)  # fmt: skip
    assert equal[0].status == "ok"  # equal unit strings never reach pint
    with pytest.raises(GoldenFileError) as info:
        store.compare(BASE, strict=False)
    assert str(info.value).startswith(f"{path}: unit 'flop / (byte' cannot be parsed")


def test_new_and_missing_values_are_reported(recorded):
    changed = run(inline("energy_str", "1.2 kWh", 1.2, "kilowatt_hour", line=40), H100_RIDGE)
    findings = by_key(recorded.compare(changed, strict=False))
    energy = findings["energy_str"]
    assert (energy.status, energy.new, energy.line) == ("new", "1.2 kWh", 40)
    assert findings["energy_str"].message == (
        "new since the snapshot (reported only: strict mode is off; record it with --update)"
    )
    assert (findings["ridge_str"].status, findings["ridge_str"].old) == ("missing", "295 FLOP/byte")
    assert findings["ridge_str"].message == (
        "in the snapshot but no longer published (reported only: strict mode is off; drop it "
        "with --update)"
    )
    assert not findings["energy_str"].failed and not findings["ridge_str"].failed
    strict = by_key(recorded.compare(changed, strict=True))  # the message says it fails
    assert strict["energy_str"].message == (
        "new since the snapshot (fails: strict mode; record it with --update)"
    )
    assert strict["ridge_str"].message == (
        "in the snapshot but no longer published (fails: strict mode; drop it with --update)"
    )


def test_no_golden_file_makes_every_value_new(store):
    assert [f.status for f in store.compare(BASE, strict=True)] == ["new", "new"]
    assert not store.path_for(CHAPTER).exists()  # compare never writes


def test_a_run_with_errors_reports_nothing_missing(recorded):
    error = ExecutionError(kind="exception", message="ZeroDivisionError", line=12, cell="setup")
    assert recorded.compare(run(errors=(error,)), strict=True) == ()


# --- update ---------------------------------------------------------------------------------


def test_update_without_changes_does_not_write(recorded):
    path = recorded.path_for(CHAPTER)
    before = path.stat()
    os.utime(path, ns=(1, 1))
    assert recorded.update(BASE) == ()
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, 1)


def test_update_reports_updated_new_and_removed(recorded):
    changed = run(
        inline("ridge_str", "312 FLOP/byte", 312.0, "flop / byte", line=88),
        inline("a_new", "7 W", 7.0, "watt", line=90),
    )
    changes = recorded.update(changed)
    assert [(c.kind, c.key, c.status, c.old, c.new) for c in changes] == [
        ("golden", "h100_ridge", "removed", "295.2 FLOP/byte", None),
        ("inline", "a_new", "new", None, "7 W"),
        ("inline", "ridge_str", "updated", "295 FLOP/byte", "312 FLOP/byte"),
    ]
    assert recorded.path_for(CHAPTER).read_text() == (
        "golden: {}\n"
        "inline:\n"
        "  a_new:\n    magnitude: 7.0\n    text: 7 W\n    unit: watt\n"
        "  ridge_str:\n    magnitude: 312.0\n    text: 312 FLOP/byte\n    unit: flop / byte\n"
    )
    assert recorded.compare(changed, strict=True) == tuple(
        f for f in recorded.compare(changed, strict=True) if f.status == "ok"
    )


def test_update_after_errors_keeps_what_did_not_run(recorded):
    error = ExecutionError(kind="exception", message="boom", line=50, cell="late")
    changes = recorded.update(run(inline("ridge_str", "300 FLOP/byte", 300.0, "flop / byte"),
                                  errors=(error,)))  # fmt: skip
    assert [(c.key, c.status) for c in changes] == [("ridge_str", "updated")]
    assert "h100_ridge" in recorded.load(CHAPTER)["golden"]


def test_update_leaves_no_temp_files_and_keeps_the_file_mode(recorded):
    path = recorded.path_for(CHAPTER)
    path.chmod(0o640)
    recorded.update(run(RIDGE))
    assert sorted(p.name for p in path.parent.iterdir()) == ["03_hardware.yml"]
    assert path.stat().st_mode & 0o777 == 0o640


# --- broken files ---------------------------------------------------------------------------


# libyaml (the loader golden files are read with when PyYAML has it) and pure-Python PyYAML word
# this problem differently; both place it on the line after the unclosed "[".
_UNCLOSED_FLOW = (
    "did not find expected ',' or ']'"
    if hasattr(yaml, "CSafeLoader")
    else "expected ',' or ']', but got '<stream end>'"
)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "expected a mapping with 'golden' and 'inline', got an empty file"),
        ("- a\n- b\n", "expected a mapping with 'golden' and 'inline', got a list"),
        ("inlines: {}\n", "unknown top-level keys ['inlines']; expected golden, inline"),
        ("inline: [1, 2]\n", "'inline' must be a mapping of entries"),
        ("inline:\n  x:\n    text: a\n",
         "entry inline['x'] must have exactly the fields magnitude, text, unit"),
        ("inline:\n  x: {magnitude: one, text: a, unit: null}\n",
         "entry inline['x']: magnitude must be a number, a list or null"),
        ("golden:\n  g: {atol: null, magnitude: 1, rtol: high, text: '1', unit: null}\n",
         "entry golden['g']: rtol must be a number or null"),
        ("inline:\n  x: {magnitude: 1, text: 1, unit: null}\n",
         "entry inline['x']: text must be a string"),
    ],
)  # fmt: skip
def test_corrupt_golden_file_is_an_error_naming_it_and_is_never_rewritten(store, content, reason):
    path = store.path_for(CHAPTER)
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(GoldenFileError) as info:
        store.compare(BASE, strict=False)
    assert str(info.value) == f"{path}: {reason}"
    assert info.value.path == path
    with pytest.raises(GoldenFileError):
        store.update(BASE)
    assert path.read_text() == content


def test_golden_yaml_syntax_error_names_file_and_line_and_is_never_rewritten(store):
    path = store.path_for(CHAPTER)
    path.parent.mkdir(parents=True)
    path.write_text("golden: {}\ninline: [unclosed\n")
    with pytest.raises(GoldenFileError) as info:
        store.compare(BASE, strict=False)
    assert str(info.value) == f"{path}:3: not valid YAML: {_UNCLOSED_FLOW}"
    assert (info.value.path, info.value.line) == (path, 3)
    with pytest.raises(GoldenFileError):
        store.update(BASE)
    assert path.read_text() == "golden: {}\ninline: [unclosed\n"


def test_unreadable_golden_file_is_an_error_naming_it(store):
    path = store.path_for(CHAPTER)
    path.mkdir(parents=True)  # a folder where the file should be
    with pytest.raises(GoldenFileError, match=r"03_hardware.yml: cannot read the golden file: "
                       r"\[Errno 21\] Is a directory"):  # fmt: skip
        store.compare(BASE, strict=False)
    path.rmdir()
    path.write_bytes(b"inline:\n  x: {magnitude: null, text: caf\xe9, unit: null}\n")
    with pytest.raises(GoldenFileError, match=r"03_hardware.yml: cannot read the golden file: "
                       r"'utf-8' codec can't decode"):  # fmt: skip
        store.update(BASE)


def test_unwritable_golden_file_is_an_error_and_loses_nothing(recorded, monkeypatch):
    path = recorded.path_for(CHAPTER)

    def denied(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", denied)
    with pytest.raises(GoldenFileError) as info:
        recorded.update(run(RIDGE))
    assert str(info.value) == f"{path}: cannot write the golden file: Permission denied"
    assert path.read_text() == BASE_YAML
    assert sorted(p.name for p in path.parent.iterdir()) == ["03_hardware.yml"]


def test_golden_folder_that_cannot_be_created_is_an_error(tmp_path):
    blocker = tmp_path / "golden"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(GoldenFileError, match=r"03_hardware.yml: cannot write the golden folder"):
        GoldenStore(blocker).update(BASE)
    assert blocker.read_text() == "a file where the folder should be"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_golden_folder_under_update(recorded):
    folder = recorded.golden_dir
    folder.chmod(0o555)
    try:
        with pytest.raises(GoldenFileError, match="cannot write the golden"):
            recorded.update(run(RIDGE))
    finally:
        folder.chmod(0o755)
    assert recorded.path_for(CHAPTER).read_text() == BASE_YAML


# --- concurrency ----------------------------------------------------------------------------


def _update_in_child(golden_dir: str, chapter: str, text: str, rounds: int) -> None:
    store = GoldenStore(Path(golden_dir))
    for i in range(rounds):
        store.update(run(inline("v", f"{text} {i}", float(i), None), chapter=Path(chapter)))


def test_update_waits_for_the_folder_lock(recorded):
    lock = open(recorded.golden_dir / LOCK_NAME, "a")  # noqa: SIM115
    fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(
        target=_update_in_child, args=(str(recorded.golden_dir), str(CHAPTER), "x", 1)
    )
    child.start()
    time.sleep(0.5)
    assert recorded.path_for(CHAPTER).read_text() == BASE_YAML  # blocked on the lock
    fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    lock.close()
    child.join(10)
    assert child.exitcode == 0
    assert not (recorded.golden_dir / LOCK_NAME).exists()  # removed by its last holder
    assert recorded.load(CHAPTER)["inline"] == {
        "v": {"magnitude": 0.0, "text": "x 0", "unit": None}
    }


def test_concurrent_updates_of_two_chapters_lose_nothing(store):
    ctx = multiprocessing.get_context("fork")
    chapters = [Path("/book/a.qmd"), Path("/book/b.qmd"), Path("/book/a.qmd")]
    children = [
        ctx.Process(target=_update_in_child, args=(str(store.golden_dir), str(ch), f"w{n}", 20))
        for n, ch in enumerate(chapters)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
    assert [c.exitcode for c in children] == [0, 0, 0]
    assert store.load(Path("b.qmd"))["inline"]["v"]["text"] == "w1 19"
    assert store.load(Path("a.qmd"))["inline"]["v"]["text"] in {"w0 19", "w2 19"}
    assert sorted(p.name for p in store.golden_dir.iterdir()) == ["a.yml", "b.yml"]
