"""Review spans land where each value was published, once per publication (issue 6).

The report gives each inline value's key, text and ``.qmd`` line, not its place in the rendered
document. The filter reads the chapter's ``.qmd`` for the words around each ``{python} expr``
and matches the values in source order; without the ``.qmd`` it keeps the report's order only.
Here the published value ``2`` (the first compute-bound batch) also stands in ordinary prose
before and after its publication: "Chapter 2", "2 bytes", "On 2 GPUs", "2 × 2 images". Every
test runs the filter under real pandoc (pypandoc-binary) and reads the markdown it writes.
"""

from __future__ import annotations

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


def write_book(root: Path, source: str | None = SOURCE, executed: str = EXECUTED) -> None:
    """A passing report for the chapter, its executed markdown and (unless None) its source."""
    chapter = {"path": CHAPTER, "status": "passed", "cached": False, "duration_s": 1.0}
    chapter.update(cells=1, checks=[], golden=GOLDEN, errors=[])
    report = {"schema": "mlsysim-invariants-report", "version": 1, "generated_by": "mlsysim"}
    report.update(book=str(root), ok=True, exit_code=0, summary={}, chapters=[chapter])
    (root / ".invariants").mkdir(parents=True)
    (root / ".invariants" / "report.json").write_text(json.dumps(report), encoding="utf-8")
    (root / "chapters").mkdir()
    (root / "chapters" / "05_batching.md").write_text(executed, encoding="utf-8")
    if source is not None:
        (root / CHAPTER).write_text(source, encoding="utf-8")


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


def test_a_value_published_twice_is_wrapped_at_both_places(tmp_path: Path) -> None:
    """One report entry (its first line) for an expression published twice with one text: the
    `.qmd` has both publications, so both get a span, and still no other "2"."""
    again = "from a batch of `{python} first_compute_bound_str` on, arithmetic is the limit."
    source = SOURCE.replace("Chapter 2 never batched at all.", again)
    executed = EXECUTED.replace(
        "Chapter 2 never batched at all.", "from a batch of 2 on, arithmetic is the limit."
    )
    write_book(tmp_path, source, executed)
    done = review(tmp_path)
    assert done.returncode == 0, done.stderr
    assert paragraphs(done.stdout)[-1] == (
        "On 2 GPUs or on one, ResNet-50 first becomes compute-bound at a batch of"
        f" {TWO} images. Doubling that to 2 × 2 images gains {GAIN}; from a batch of {TWO} on,"
        " arithmetic is the limit."
    )


def test_a_frozen_page_showing_another_value_gets_no_span_for_it(tmp_path: Path) -> None:
    """A page rendered from older output (Quarto's freeze) shows "4", neither the new nor the old
    text: no "2" in the prose agrees with the words around the publication, so none is wrapped."""
    write_book(tmp_path, executed=EXECUTED.replace("batch of\n2 images", "batch of\n4 images"))
    done = review(tmp_path)
    assert done.returncode == 0, done.stderr
    assert paragraphs(done.stdout)[0] == FIRST_PARAGRAPH
    assert paragraphs(done.stdout)[-1] == (
        "On 2 GPUs or on one, ResNet-50 first becomes compute-bound at a batch of 4 images."
        f" Doubling that to 2 × 2 images gains {GAIN}; Chapter 2 never batched at all."
    )


def test_without_the_source_values_keep_the_report_order(tmp_path: Path) -> None:
    """No `.qmd`: the "2" must follow "25.6 M params" (line 6) and precede "1.88×" (line 21), so
    "Chapter 2", "2 bytes", "2 × 2" and the last "Chapter 2" are passed over; it is said once."""
    executed = EXECUTED.replace("On 2 GPUs or on one, ResNet-50", "ResNet-50")
    write_book(tmp_path, source=None, executed=executed)
    done = review(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        f"[mlsysim] WARNING: cannot read {tmp_path / CHAPTER}; review spans follow the order of"
        " its values only.\n"
    )
    assert paragraphs(done.stdout)[0] == FIRST_PARAGRAPH
    assert paragraphs(done.stdout)[-1] == (
        f"ResNet-50 first becomes compute-bound at a batch of {TWO} images. Doubling that to"
        f" 2 × 2 images gains {GAIN}; Chapter 2 never batched at all."
    )


def test_without_the_source_a_value_between_its_neighbours_can_land_early(tmp_path: Path) -> None:
    """The documented limit of order alone: "On 2 GPUs" lies between the neighbouring values
    too, and is the first "2" there."""
    write_book(tmp_path, source=None)
    done = review(tmp_path)
    assert paragraphs(done.stdout)[-1] == (
        f"On {TWO} GPUs or on one, ResNet-50 first becomes compute-bound at a batch of 2 images."
        f" Doubling that to 2 × 2 images gains {GAIN}; Chapter 2 never batched at all."
    )


def test_a_source_that_disagrees_with_the_report_is_not_trusted(tmp_path: Path) -> None:
    """A `.qmd` edited since the check (its values no longer on the report's lines): the filter
    says so and keeps the report's order, as without a source."""
    write_book(tmp_path, source=SOURCE.replace("Chapter 2 counted", "\nChapter 2 counted"))
    done = review(tmp_path)
    assert done.stderr == (
        f"[mlsysim] WARNING: {tmp_path / CHAPTER} does not match the invariants report (edited"
        " since `mlsysim check`?); review spans follow the order of its values only.\n"
    )
    assert paragraphs(done.stdout)[-1].startswith(f"On {TWO} GPUs or on one,")
