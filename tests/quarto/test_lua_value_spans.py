"""Review spans land where each value was published, once per publication (issue 6).

`mlsysim check` lists each chapter's publications in its report: every inline value's key, text,
`.qmd` line and the words next to it there (``invariants.publications``). The filter matches
those words against the rendered page. Here the published value ``2`` (the first compute-bound
batch) also stands in ordinary prose before and after its publication: "Chapter 2", "2 bytes",
"On 2 GPUs", "2 × 2 images". Every test builds the report's publications with the checker's own
code, runs the filter under real pandoc (pypandoc-binary) and reads the markdown it writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

pypandoc = pytest.importorskip("pypandoc")

FILTER = (
    Path(__file__).resolve().parents[2] / "quarto_ext" / "_extensions" / "mlsysim" / "mlsysim.lua"
)
CHAPTER = "chapters/05_batching.qmd"

CELL = """\
from mlsysim import Engine, Models
from mlsysim.viz.formatting import fmt, fmt_count, fmt_multiple

weights_str = fmt_count(Models.ResNet50.params)
runs = {b: Engine.solve("ResNet50", "H100", batch_size=b) for b in (1, 2, 4, 8)}
first_compute_bound_str = fmt(min(b for b in runs if runs[b].bottleneck == "compute"))
gain_str = fmt_multiple(runs[4].throughput / runs[2].throughput)
"""

# `{{python}}` is `{python}` in these f-strings.
SOURCE = f"""\
---
title: "Batching"
---

Chapter 2 counted the FLOPs of one image. At fp16 every weight takes 2 bytes, so a batch of
one reads all `{{python}} weights_str` for a single image.

```{{python}}
#| label: flip
{CELL}```

On 2 GPUs or on one, ResNet-50 first becomes compute-bound at a batch of
`{{python}} first_compute_bound_str` images. Doubling that to 2 × 2 images gains
`{{python}} gain_str`; Chapter 2 never batched at all.
"""

# The chapter as Quarto executes it: the cell a Div, each inline value its text.
EXECUTED = f"""\
---
title: "Batching"
---

Chapter 2 counted the FLOPs of one image. At fp16 every weight takes 2 bytes, so a batch of
one reads all 25.6 M params for a single image.

::: {{.cell}}
``` {{.python .cell-code}}
{CELL}```
:::

On 2 GPUs or on one, ResNet-50 first becomes compute-bound at a batch of
2 images. Doubling that to 2 × 2 images gains
1.88×; Chapter 2 never batched at all.
"""

FIRST_PARAGRAPH = (
    "Chapter 2 counted the FLOPs of one image. At fp16 every weight takes 2 bytes, so a batch"
    ' of one reads all [25.6 M params]{.mlsysim-value data-status="ok" data-key="weights_str"}'
    " for a single image."
)
CODE = f"""\
::: cell
``` {{.python .cell-code}}
{CELL}```
:::"""
TWO = '[2]{.mlsysim-value data-status="ok" data-key="first_compute_bound_str"}'
GAIN = '[1.88×]{.mlsysim-value data-status="ok" data-key="gain_str"}'


def golden(key: str, text: str, line: int) -> dict[str, object]:
    return {
        "key": key,
        "kind": "inline",
        "status": "ok",
        "old": text,
        "new": text,
        "rel_change": 0.0,
        "line": line,
        "message": "",
    }


GOLDEN = [
    golden("weights_str", "25.6 M params", 6),
    golden("first_compute_bound_str", "2", 20),
    golden("gain_str", "1.88×", 21),
]


TEXTS = {"weights_str": "25.6 M params", "first_compute_bound_str": "2", "gain_str": "1.88×"}


def publications(source: str) -> list[dict[str, object]]:
    """The report's publications for ``source``, as `mlsysim check` writes them."""
    from invariants.model import ChapterRun, InlineValue
    from invariants.publications import publications as published
    from invariants.qmd import parse_qmd
    from invariants.report import ChapterReport

    chapter = parse_qmd(source, Path(CHAPTER))
    values = tuple(InlineValue(expr, TEXTS[expr.code]) for expr in chapter.inline)
    run = ChapterRun(Path(CHAPTER), cells_run=1, inline=values)
    found = published(source, Path(CHAPTER), run)
    return ChapterReport(CHAPTER, run, publications=found).to_json()["publications"]


def write_book(
    root: Path, source: str = SOURCE, executed: str = EXECUTED, on_disk: str | None = SOURCE
) -> None:
    """A passing report checked on ``source``, the executed markdown, and the `.qmd` now on disk
    (``on_disk``; None: none)."""
    chapter = {"path": CHAPTER, "status": "passed", "cached": False, "duration_s": 1.0}
    chapter.update(cells=1, checks=[], golden=GOLDEN, errors=[])
    sha1 = hashlib.sha1(source.encode("utf-8")).hexdigest()
    chapter.update(source_sha1=sha1, publications=publications(source))
    report = {"schema": "mlsysim-invariants-report", "version": 2, "generated_by": "mlsysim"}
    report.update(book=str(root), ok=True, exit_code=0, summary={}, chapters=[chapter])
    (root / ".invariants").mkdir(parents=True)
    (root / ".invariants" / "report.json").write_text(json.dumps(report), encoding="utf-8")
    (root / "chapters").mkdir()
    (root / "chapters" / "05_batching.md").write_text(executed, encoding="utf-8")
    if on_disk is not None:
        (root / CHAPTER).write_text(on_disk, encoding="utf-8")


def review(root: Path) -> subprocess.CompletedProcess[str]:
    """The review build of the executed chapter, as markdown with one line per paragraph."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("QUARTO", "MLSYSIM"))}
    pandoc_path = pypandoc.get_pandoc_path()
    return subprocess.run(
        [pandoc_path, "chapters/05_batching.md", "-t", "markdown", "--wrap=none", "-L", FILTER],
        cwd=root,
        env={**environment, "MLSYSIM_REVIEW": "1"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def paragraphs(markdown: str) -> list[str]:
    return markdown.strip().split("\n\n")


def test_a_short_value_is_wrapped_once_where_it_was_published(tmp_path: Path) -> None:
    """Not "Chapter 2", "2 bytes", "On 2 GPUs" or "2 × 2": the words around the `.qmd`'s
    `{python} first_compute_bound_str` ("at a batch of ... images") single out one "2"."""
    assert publications(SOURCE)[1] == {
        "key": "first_compute_bound_str", "text": "2", "line": 20, "column": 1,
        "before": ["bound", "at", "a", "batch", "of"],
        "after": ["images", "Doubling", "that", "to", "2"],
    }  # fmt: skip
    write_book(tmp_path)
    done = review(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout == (
        f"{FIRST_PARAGRAPH}\n\n{CODE}\n\n"
        "On 2 GPUs or on one, ResNet-50 first becomes compute-bound at a batch of"
        f" {TWO} images. Doubling that to 2 × 2 images gains {GAIN}; Chapter 2 never batched"
        " at all.\n"
    )


def test_a_value_published_twice_gets_both_spans_from_the_report_alone(tmp_path: Path) -> None:
    """One golden entry (its first line) for an expression published twice with one text, but two
    publications in the report: with no `.qmd` on disk, both places get a span, no other "2"."""
    again = "from a batch of `{python} first_compute_bound_str` on, arithmetic is the limit."
    source = SOURCE.replace("Chapter 2 never batched at all.", again)
    executed = EXECUTED.replace(
        "Chapter 2 never batched at all.", "from a batch of 2 on, arithmetic is the limit."
    )
    write_book(tmp_path, source, executed, on_disk=None)
    done = review(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        f"[mlsysim] WARNING: cannot read {tmp_path / CHAPTER} to tell whether the invariants"
        " report is current; review spans trust it.\n"
    )
    assert paragraphs(done.stdout)[0] == FIRST_PARAGRAPH
    assert paragraphs(done.stdout)[-1] == (
        "On 2 GPUs or on one, ResNet-50 first becomes compute-bound at a batch of"
        f" {TWO} images. Doubling that to 2 × 2 images gains {GAIN}; from a batch of {TWO} on,"
        " arithmetic is the limit."
    )


def test_a_frozen_page_showing_another_value_gets_no_span_for_it(tmp_path: Path) -> None:
    """A page rendered from older output (Quarto's freeze) shows "4", neither the new nor the old
    text: no "2" in the prose agrees with the words around the publication, so none is wrapped,
    and the filter says which publication got no span."""
    write_book(tmp_path, executed=EXECUTED.replace("batch of\n2 images", "batch of\n4 images"))
    done = review(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        f"[mlsysim] WARNING: {CHAPTER}: 1 of 3 published values got no review span (the words"
        " around them on the page differ from the source's), from lines 20.\n"
    )
    assert paragraphs(done.stdout)[0] == FIRST_PARAGRAPH
    assert paragraphs(done.stdout)[-1] == (
        "On 2 GPUs or on one, ResNet-50 first becomes compute-bound at a batch of 4 images."
        f" Doubling that to 2 × 2 images gains {GAIN}; Chapter 2 never batched at all."
    )


def test_a_report_older_than_the_source_is_said_and_matched_by_its_words(tmp_path: Path) -> None:
    """A `.qmd` edited since the check: the filter says so once, and still wraps only where the
    report's words agree with the page."""
    write_book(tmp_path, on_disk=SOURCE.replace("Chapter 2 counted", "\nChapter 2 counted"))
    done = review(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        f"[mlsysim] WARNING: {tmp_path / CHAPTER} changed since `mlsysim check` wrote the"
        " invariants report; a value whose words changed gets no span until it runs again.\n"
    )
    assert paragraphs(done.stdout)[-1] == (
        "On 2 GPUs or on one, ResNet-50 first becomes compute-bound at a batch of"
        f" {TWO} images. Doubling that to 2 × 2 images gains {GAIN}; Chapter 2 never batched"
        " at all."
    )


def test_of_two_occurrences_whose_words_agree_the_one_agreeing_most_is_wrapped(
    tmp_path: Path,
) -> None:
    """ "At a batch of 2 GPUs" agrees with four words before the publication (case aside), but
    "at a batch of 2 images" agrees with all ten around it: only that one is wrapped."""
    earlier = ("On 2 GPUs or on one,", "At a batch of 2 GPUs or on one,")
    source = SOURCE.replace(*earlier)
    write_book(tmp_path, source, EXECUTED.replace(*earlier), on_disk=source)
    done = review(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert paragraphs(done.stdout)[-1] == (
        "At a batch of 2 GPUs or on one, ResNet-50 first becomes compute-bound at a batch of"
        f" {TWO} images. Doubling that to 2 × 2 images gains {GAIN}; Chapter 2 never batched"
        " at all."
    )
