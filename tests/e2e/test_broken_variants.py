"""The checker catches the two ways a book goes wrong, precisely: a sentence the physics
contradicts, and a constant whose change moves published numbers."""

from __future__ import annotations

import re

import pytest
import yaml
from e2e_support import (
    BOOK,
    FIXTURES,
    inline_line,
    line_of,
    one_chapter_book,
    read_report,
    run_check,
)

from mlsysim import Q_, Hardware
from mlsysim.core.formulas.performance import ridge_point
from mlsysim.viz.formatting import fmt

pytestmark = pytest.mark.slow

SERVING = BOOK / "chapters" / "06_serving.qmd"
CONTRADICTION = FIXTURES / "contradiction" / "06_serving.qmd"
# The only differences between the book's serving chapter and its broken copy.
INVERTED_CLAIM = [
    (
        'check(single.decode_bottleneck == "memory", "decode at batch 1 is memory-bound")',
        'check(single.decode_bottleneck == "compute", "decode at batch 1 is compute-bound")',
    ),
    (
        "processes one token per pass and is memory-bound. The two phases sit on opposite sides "
        "of the ridge\npoint.",
        "processes one token per pass and is compute-bound too. Both phases sit above the ridge\n"
        "point.",
    ),
]

HARDWARE = BOOK / "chapters" / "03_hardware.qmd"
HARDWARE_CATALOG = BOOK.parent / "mlsysim" / "core" / "data" / "hardware.yaml"
OLD_BANDWIDTH, NEW_BANDWIDTH = "3.35 TB/s", "4.0 TB/s"
# Published values of the hardware chapter that depend on the H100's HBM bandwidth, and why.
BANDWIDTH_DEPENDENT = {
    "h100_bw_str": "the bandwidth itself",
    "h100_ridge_str": "ridge = peak / bandwidth",
    "bandwidth_gain_str": "H100 / A100 bandwidth",
    "crossover_n_str": "3 x ridge",
    "small_batch_latency_str": "batch 1 is memory-bound: weights / bandwidth + overhead",
    "overhead_share_str": "fixed overhead / the batch-1 latency",
    "small_batch_tput_str": "1 / the batch-1 latency",
    "batch_gain_str": "batch-256 throughput / batch-1 throughput",
    "small_speedup_str": "A100 / H100 batch-1 latency",
}


def test_contradiction_fixture_is_the_book_chapter_with_one_claim_inverted():
    expected = SERVING.read_text(encoding="utf-8")
    for book_text, broken_text in INVERTED_CLAIM:
        assert expected.count(book_text) == 1, f"the book chapter no longer says {book_text!r}"
        expected = expected.replace(book_text, broken_text)
    assert CONTRADICTION.read_text(encoding="utf-8") == expected


def test_checker_reports_exactly_the_contradicted_claim_at_its_line(tmp_path):
    text = CONTRADICTION.read_text(encoding="utf-8")
    book = one_chapter_book(tmp_path / "book", text, "06_serving")
    report_path = tmp_path / "report.json"

    result = run_check([str(book), "--no-cache", "--json", str(report_path)], cwd=tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    report = read_report(report_path)
    [chapter] = report["chapters"]
    assert chapter["path"] == "chapters/06_serving.qmd"
    assert chapter["errors"] == []
    failed = [(c["line"], c["cell"], c["message"]) for c in chapter["checks"] if not c["passed"]]
    claim_line = line_of(text, '"decode at batch 1 is compute-bound"')
    assert failed == [(claim_line, "two-phases", "decode at batch 1 is compute-bound")]
    assert {g["status"] for g in chapter["golden"]} == {"ok"}
    summary = report["summary"]
    assert (summary["checks_failed"], summary["shifts"], summary["errors"]) == (1, 0, 0)
    assert f"chapters/06_serving.qmd:{claim_line}" in result.stdout


def patched_hardware_catalog(path):
    """A copy of the hardware catalog in which only the H100's memory bandwidth changed."""
    text = HARDWARE_CATALOG.read_text(encoding="utf-8")
    start = text.index("\n  H100:\n")
    end = text.index("\n  H100_PCIe:\n", start)
    entry = text[start:end]
    pattern = r"(memory_bandwidth: \{value: )" + re.escape(OLD_BANDWIDTH)
    patched, count = re.subn(pattern, r"\g<1>" + NEW_BANDWIDTH, entry)
    assert count == 1, "the H100 entry's memory_bandwidth line changed shape"
    path.write_text(text[:start] + patched + text[end:], encoding="utf-8")
    return path


def test_a_changed_constant_shifts_exactly_the_numbers_that_depend_on_it(tmp_path):
    text = HARDWARE.read_text(encoding="utf-8")
    book = one_chapter_book(tmp_path / "book", text, "03_hardware")
    catalog = patched_hardware_catalog(tmp_path / "hardware.yaml")
    report_path = tmp_path / "report.json"
    hook = {
        "PYTHONPATH": str(FIXTURES / "shifted_constant"),
        "MLSYSIM_E2E_HARDWARE_YAML": str(catalog),
    }

    result = run_check(
        [str(book), "--no-cache", "--json", str(report_path)], cwd=tmp_path, env=hook
    )

    assert result.returncode == 1, result.stdout + result.stderr
    [chapter] = read_report(report_path)["chapters"]
    assert chapter["errors"] == []
    assert all(c["passed"] for c in chapter["checks"]), "the narrative still holds at 4 TB/s"
    moved = {g["key"]: g for g in chapter["golden"] if g["status"] != "ok"}
    assert set(moved) == {*BANDWIDTH_DEPENDENT, "h100_ridge_point"}

    snapshot = yaml.safe_load((book / "golden" / "03_hardware.yml").read_text(encoding="utf-8"))
    for key in BANDWIDTH_DEPENDENT:
        finding = moved[key]
        assert (finding["kind"], finding["status"]) == ("inline", "shifted")
        assert finding["line"] == inline_line(text, key)
        assert finding["old"] == snapshot["inline"][key]["text"]
        assert finding["new"] != finding["old"]
        assert f"{finding['old']} → {finding['new']}" in finding["message"]

    new_bandwidth = Q_(NEW_BANDWIDTH)
    new_ridge = ridge_point(Hardware.H100.peak_flops["bf16"], new_bandwidth)
    assert moved["h100_bw_str"]["new"] == fmt(new_bandwidth, "TB/s")
    assert moved["h100_ridge_str"]["new"] == fmt(new_ridge, "flop/byte")

    golden = moved["h100_ridge_point"]
    assert (golden["kind"], golden["status"]) == ("golden", "out_of_tolerance")
    assert golden["line"] == line_of(text, 'check.golden("h100_ridge_point"')
    assert golden["rel_change"] == pytest.approx((new_ridge / snapshot_ridge(snapshot)).m - 1)
    assert "chapters/03_hardware.qmd:" + str(golden["line"]) in result.stdout


def snapshot_ridge(snapshot):
    entry = snapshot["golden"]["h100_ridge_point"]
    return Q_(entry["magnitude"], entry["unit"])
