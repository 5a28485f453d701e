"""The .qmd reader: each rule of Quarto's splitter that the verifier relies on, with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from invariants.qmd import QmdError, parse_qmd, prose_pieces, read_qmd

FIXTURES = Path(__file__).parent / "fixtures" / "reader"
HARDWARE = FIXTURES / "hardware.qmd"


def parse(text: str):
    return parse_qmd(text, Path("ch.qmd"))


def test_realistic_chapter_front_matter_cells_and_inline_lines():
    chapter = read_qmd(HARDWARE)
    assert chapter.path == HARDWARE
    assert chapter.name == "hardware"
    assert chapter.front_matter == {"title": "Hardware: the roofline", "execute": {"echo": False}}
    assert [(c.index, c.label, c.start_line) for c in chapter.cells] == [
        (0, "setup", 10),
        (1, "list-cell", 21),
        (2, "broken", 43),
        (3, None, 50),
    ]
    assert [(e.code, e.line, e.column, e.cells_before) for e in chapter.inline] == [
        ("ridge_str", 16, 34, 1),
        ("round(ridge)", 16, 60, 1),
        ("doubled", 25, 27, 2),
        ("ridge_str", 53, 10, 4),
    ]
    assert [e.index for e in chapter.inline] == [0, 1, 2, 3]


def test_cell_source_keeps_option_lines_so_cell_lines_map_to_qmd_lines():
    chapter = read_qmd(HARDWARE)
    setup = chapter.cells[0]
    assert setup.source == (
        '#| label: setup\n#| echo: false\nridge = 295.2\nridge_str = f"{ridge:.0f} FLOP/byte"'
    )
    qmd_lines = HARDWARE.read_text().splitlines()
    for k, line in enumerate(setup.source.splitlines(), start=1):
        assert qmd_lines[setup.qmd_line(k) - 1] == line
    assert setup.qmd_line(3) == 12  # "ridge = 295.2"


def test_options_label_eval_echo_error():
    cells = read_qmd(HARDWARE).cells
    assert cells[0].options == {"label": "setup", "echo": False}
    assert cells[0].evaluate and not cells[0].allows_error
    broken = cells[2]
    assert broken.options == {"label": "broken", "eval": False, "error": True}
    assert not broken.evaluate
    assert broken.allows_error
    assert broken.describe() == "broken"
    assert cells[3].describe() == "cell 4"


def test_indented_cell_in_a_list_is_dedented_and_keeps_its_line():
    chapter = parse(
        "*   The same in a list:\n\n    ```{python}\n    x = 1\n    if x:\n        y = 2\n    ```\n"
    )
    (cell,) = chapter.cells
    assert cell.source == "x = 1\nif x:\n    y = 2"
    assert cell.start_line == 4


def test_verbatim_and_plain_fences_are_not_executed_nor_their_inline_code():
    chapter = parse(
        "```{{python}}\nshown = `{python} a`\n```\n"
        "```python\nplain = `{python} b`\n```\n"
        "~~~\ntilde = `{python} c`\n~~~\n"
        "```{r}\nother_language = 1\n```\n"
    )
    assert chapter.cells == ()
    assert chapter.inline == ()


def test_a_longer_fence_holds_shorter_fences_and_closes_only_with_one_as_long():
    chapter = parse(
        "````{python}\n"
        "s = '''\n"
        "```\n"
        "'''\n"
        "````\n"
        "````markdown\n"
        "```{python}\n"
        "nested = True\n"
        "```\n"
        "`````\n"
        "after = `{python} s`\n"
    )
    (cell,) = chapter.cells
    assert cell.source == "s = '''\n```\n'''"
    assert [(e.code, e.line) for e in chapter.inline] == [("s", 11)]


def test_inline_rule_single_backtick_not_preceded_by_a_backtick():
    chapter = parse(
        "A `{python} a` and `{python}  b + 1 ` and `{python}c` and `code`.\n"
        "Not ``{python} d` nor ```{python} e```.\n"
        "\n"
        "Not ``a `{python} f` span`` but then `{python} g`.\n"
    )
    assert [(e.code, e.line, e.column) for e in chapter.inline] == [
        ("a", 1, 3),
        ("b + 1", 1, 20),
        ("g", 4, 38),
    ]


def test_inline_expression_after_a_code_span_on_the_same_line():
    chapter = parse("Run `x = 1` first; then `{python} x` prints 1.\n")
    assert [(e.code, e.column) for e in chapter.inline] == [("x", 25)]


def test_inline_counts_the_cells_before_it():
    chapter = parse(
        "`{python} 0`\n\n```{python}\nx = 1\n```\n\nthen `{python} x`\n\n"
        "```{python}\ny = 2\n```\n`{python} y`\n"
    )
    assert [(e.code, e.cells_before) for e in chapter.inline] == [("0", 0), ("x", 1), ("y", 2)]


def test_crlf_file_gives_the_same_chapter_as_lf(tmp_path):
    lf_text = HARDWARE.read_text()
    crlf = tmp_path / "hardware.qmd"
    crlf.write_bytes(lf_text.replace("\n", "\r\n").encode())
    from_lf = read_qmd(HARDWARE)
    from_crlf = read_qmd(crlf)
    assert from_crlf.text == from_lf.text
    assert from_crlf.cells == from_lf.cells
    assert from_crlf.inline == from_lf.inline
    assert from_crlf.front_matter == from_lf.front_matter


def test_unclosed_cell_fence_names_file_and_opening_line():
    with pytest.raises(QmdError) as info:
        parse("# Title\n\n```{python}\nx = 1\n\nMore prose.\n")
    assert str(info.value) == (
        "ch.qmd:3: unclosed ```{python} fence: no closing fence of at least 3 '`'"
    )
    assert info.value.line == 3
    assert isinstance(info.value, ValueError)


def test_a_shorter_closing_fence_leaves_the_cell_unclosed():
    with pytest.raises(QmdError, match=r"^ch.qmd:1: unclosed ```\{python\} fence"):
        parse("````{python}\nx = 1\n```\n")


def test_unclosed_plain_fence_is_an_error_too():
    with pytest.raises(QmdError, match=r"^ch.qmd:2: unclosed ``` fence"):
        parse("text\n```python\nx = 1\n")


def test_empty_cells_are_fine():
    chapter = parse("```{python}\n```\n\n```{python}\n\n```\n")
    assert [(c.source, c.start_line, c.options) for c in chapter.cells] == [
        ("", 2, {}),
        ("", 5, {}),
    ]


def test_bad_option_yaml_points_at_its_line():
    with pytest.raises(QmdError) as info:
        parse("intro\n\n```{python}\n#| label: ok\n#| eval: [unclosed\nx = 1\n```\n")
    assert str(info.value).startswith("ch.qmd:5: invalid YAML in cell options:")


def test_options_that_are_not_a_mapping_are_an_error():
    with pytest.raises(QmdError, match=r"^ch.qmd:2: cell options must be a YAML mapping, got str"):
        parse("```{python}\n#| just text\n```\n")


def test_option_lines_stop_at_the_first_code_line():
    (cell,) = parse("```{python}\n#| label: a\nx = 1\n#| label: b\n```\n").cells
    assert cell.options == {"label": "a"}


def test_front_matter_errors_name_the_line():
    with pytest.raises(QmdError, match=r"^ch.qmd:1: unclosed YAML front matter"):
        parse("---\ntitle: x\n\nbody\n")
    with pytest.raises(QmdError) as info:
        parse("---\ntitle: x\nbad: [\n---\n")
    assert str(info.value).startswith("ch.qmd:3: invalid YAML in front matter:")  # "bad: ["


def test_front_matter_is_only_at_the_top_and_a_rule_is_not_metadata():
    chapter = parse("---\n\nHello, an hr.\n\n---\n\n`{python} 1`\n")
    assert chapter.front_matter == {}
    assert [(e.code, e.line) for e in chapter.inline] == [("1", 7)]
    dotted = parse("---\ntitle: x\n...\n`{python} 2`\n")
    assert dotted.front_matter == {"title": "x"}
    assert [(e.code, e.line) for e in dotted.inline] == [("2", 4)]


def test_front_matter_holds_no_inline_expressions():
    chapter = parse('---\ntitle: "`{python} x`"\n---\n')
    assert chapter.front_matter == {"title": "`{python} x`"}
    assert chapter.inline == ()


def test_non_utf8_file_names_the_line(tmp_path):
    path = tmp_path / "latin1.qmd"
    path.write_bytes(b"ok\nCaf\xe9\n")
    with pytest.raises(QmdError, match=r"latin1.qmd:2: not valid UTF-8"):
        read_qmd(path)


def test_missing_file_is_a_reader_error(tmp_path):
    with pytest.raises(QmdError, match=r"nope.qmd:0: cannot read the chapter: No such file"):
        read_qmd(tmp_path / "nope.qmd")


def test_quarto_nested_code_example_has_no_cell():
    # quarto-cli tests/unit/break-quarto-md: "nested code" (a markdown block showing a cell)
    chapter = parse(
        "---\ntitle: mermaid test\nformat: html\n---\n\n## Some title\n\n"
        "````{.markdown}\n```{python}\ngraph = 1\n```\n````\n\nThen some text.\n"
    )
    assert chapter.cells == ()


def test_a_backtick_line_with_backticks_in_its_info_is_code_not_a_fence():
    chapter = parse("``` `{python} a` ```\n\n`{python} b`\n")
    assert [(e.code, e.line) for e in chapter.inline] == [("b", 3)]


def test_cell_with_brace_attributes_and_empty_bodies_like_quarto_issue_1034():
    # quarto-cli tests/docs/break-quarto-md/github-issue-1034.qmd, with Python cells
    chapter = parse(
        "---\nexecute:\n  echo: true\n---\n\nThe original chunk:\n\n"
        "```{python}\n#| label: foo\n1 + 2\n```\n\n"
        "An empty body:\n\n```{python, echo=False}\n```\n\n"
        "A blank line body:\n\n``` {python}\n\n```\n"
    )
    assert chapter.front_matter == {"execute": {"echo": True}}
    assert [(c.label, c.source, c.start_line) for c in chapter.cells] == [
        ("foo", "#| label: foo\n1 + 2", 9),
        (None, "", 16),
        (None, "", 21),
    ]


def test_an_inline_expression_may_wrap_lines_within_its_paragraph():
    (expr,) = parse("Total: `{python} fmt(x,\n  'GB')` here.\n").inline
    assert (expr.code, expr.line, expr.column) == ("fmt(x,\n  'GB')", 1, 8)


def test_prose_pieces_are_the_text_around_each_expression_in_source_order():
    """What the report's publications read: no front matter, no fenced block (run or shown),
    a code span of two backticks kept as text; each expression as ``parse_qmd`` numbers it."""
    text = (
        "---\ntitle: '`{python} t`'\n---\n\nThe ridge is `{python} ridge_str`,\n"
        "not `` `{python} shown` ``.\n\n```{python}\nridge_str = '295'\n```\n\n"
        "~~~\n`{python} in_a_block`\n~~~\nIt moves `{python} bw`.\n"
    )
    chapter = parse(text)
    ridge, bw = chapter.inline
    assert [(e.code, e.line, e.column) for e in (ridge, bw)] == [
        ("ridge_str", 5, 14),
        ("bw", 15, 10),
    ]
    assert prose_pieces(text, Path("ch.qmd")) == [
        "The ridge is ", ridge, ",\nnot `` `{python} shown` ``.\n\n",
        "It moves ", bw, ".\n\n",
    ]  # fmt: skip
