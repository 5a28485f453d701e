"""LaTeX output is valid inside ``$...$``: checked structurally and through real pandoc."""

from __future__ import annotations

import re

import pytest

from mlsysim.core.units import Q_
from mlsysim.errors import FormatError
from mlsysim.viz import formatting as f

CASES = {
    "rate": lambda: f.fmt(Q_(989.4e12, "flop/s"), "TFLOP/s", style="latex"),
    "carbon": lambda: f.fmt(Q_(1234.5, "kgCO2e"), style="latex"),
    "intensity": lambda: f.fmt(Q_(295.2, "flop/byte"), style="latex"),
    "micro": lambda: f.fmt(Q_(2.5, "us"), style="latex"),
    "tiny": lambda: f.fmt(-1e-9, "s", style="latex"),
    "percent": lambda: f.fmt_percent(0.4567, style="latex"),
    "multiple": lambda: f.fmt_multiple(3.2, sig=2, style="latex"),
    "range": lambda: f.fmt_range(150, 160, "×", style="latex"),
    "sci": lambda: f.fmt_sci(3.14e23, "FLOP", style="latex"),
    "eng": lambda: f.fmt_eng(31400, style="latex"),
    "count": lambda: f.fmt_count(7e9, "params", style="latex"),
    "money": lambda: f.fmt_currency(-1.2e6, style="latex"),
    "time": lambda: f.fmt_time(5400, style="latex"),
    "bytes": lambda: f.fmt_bytes(80e9, binary=True, style="latex"),
    "flops": lambda: f.fmt_flops(1.23e15, style="latex"),
    "grouped": lambda: f.fmt(12288, "GB", style="latex"),
    "hyphen": lambda: f.fmt_count(6.25e5, "GPU-hours", style="latex"),
    "power": lambda: f.fmt(Q_(3, "W/m**2"), style="latex"),
    "big_power": lambda: f.fmt(Q_(3, "m**10"), style="latex"),
    "tiny_percent": lambda: f.fmt_percent(1e-9, style="latex"),
    "huge_range": lambda: f.fmt_range(1e15, 2e15, "W", style="latex"),
    "tiny_money": lambda: f.fmt_currency(-1e-9, style="latex"),
    "per_token": lambda: f.fmt(Q_(0.5, "J/token"), style="latex"),
    "celsius": lambda: f.fmt(Q_(30, "degC"), style="latex"),
    "celsius_delta": lambda: f.fmt(Q_(2.5, "W/delta_degC"), style="latex"),
    "kilohm": lambda: f.fmt(Q_(4.7, "kohm"), style="latex"),
    "greek_mu": lambda: f.fmt(Q_(2.5, "μs"), style="latex"),
    "angstrom": lambda: f.fmt(Q_(1.5, "angstrom"), style="latex"),
}


def _balanced(text: str) -> bool:
    depth = 0
    for char in re.sub(r"\\[{}]", "", text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


@pytest.mark.parametrize("name", sorted(CASES))
def test_latex_is_structurally_valid_math(name):
    latex = str(CASES[name]())
    assert _balanced(latex), latex
    assert not re.search(r"(?<!\\)[%#_&$]", re.sub(r"_\{", "", latex)), latex
    assert "$" not in latex.replace(r"\$", ""), latex  # never closes the math early
    assert not re.search(r"[^\x00-\x7f]", latex), latex  # pdflatex-safe ASCII only
    assert latex == latex.strip()


def test_exact_latex_forms():
    assert str(CASES["rate"]()) == r"989\,\mathrm{TFLOP/s}"
    assert str(CASES["multiple"]()) == r"3.2\times"
    assert str(CASES["percent"]()) == r"45.7\%"
    assert str(CASES["carbon"]()) == r"1230\,\mathrm{kg\,CO_{2}e}"
    assert str(CASES["grouped"]()) == r"12{,}288\,\mathrm{GB}"
    assert str(CASES["hyphen"]()) == r"625\,\mathrm{K\,GPU\text{-}hours}"
    assert str(CASES["big_power"]()) == r"3.00\,\mathrm{m^{10}}"
    assert str(CASES["money"]()) == r"-{\$}1.20\,\mathrm{M}"
    assert str(CASES["per_token"]()) == r"0.500\,\mathrm{J/token}"


def test_non_ascii_unit_characters_become_tex_commands():
    assert str(CASES["celsius"]()) == r"30.0\,^{\circ}\mathrm{C}"  # text: "30.0 °C"
    assert str(CASES["celsius_delta"]()) == r"2.50\,\mathrm{W/\Delta }^{\circ}\mathrm{C}"
    assert str(CASES["kilohm"]()) == r"4.70\,\mathrm{k\Omega }"  # text: "4.70 kΩ"
    assert str(CASES["greek_mu"]()) == r"2.50\,\mathrm{\mu s}"
    assert str(CASES["angstrom"]()) == r"1.50\,\mathrm{\mathring{A}}"
    assert f.fmt(Q_(30, "degC")) == "30.0 °C"  # text keeps the Unicode
    assert f.fmt(Q_(3, "ohm")).latex == r"3.00\,\mathrm{\Omega }"


def test_a_character_with_no_tex_form_is_an_error_naming_it():
    with pytest.raises(FormatError) as caught:
        f.fmt_count(3, "Nutzer€", style="latex")
    assert str(caught.value) == (
        "LaTeX output must be ASCII, but '€' (EURO SIGN) in '3\\\\,\\\\mathrm{Nutzer€}' has no "
        "TeX form; use style='text', or write the unit or noun in ASCII"
    )
    text = f.fmt_currency(5, symbol="€")  # the text rendering is fine; only LaTeX refuses
    assert text == "€5.00"
    with pytest.raises(FormatError, match=r"'€' \(EURO SIGN\)"):
        getattr(text, "latex")  # noqa: B009 (the property raises)


pypandoc = pytest.importorskip("pypandoc")


def _pandoc(markdown: str, to: str, *args: str) -> str:
    return pypandoc.convert_text(markdown, to, format="markdown", extra_args=["--wrap=none", *args])


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@pytest.mark.parametrize("name", sorted(CASES))
def test_math_survives_pandoc_to_latex_and_html(name):
    value = CASES[name]()
    markdown = f"The value is ${value._repr_markdown_()}$ today."
    assert _pandoc(markdown, "latex").strip() == rf"The value is \({value}\) today."
    mathjax = _pandoc(markdown, "html", "--mathjax")
    assert f'<span class="math inline">\\({_html(value)}\\)</span>' in mathjax
    # pandoc's own TeX parser (texmath) renders it to HTML: no TeX left means it parsed
    rendered = _pandoc(markdown, "html")
    math = re.search(r'class="math inline">(.*?)</span>', rendered, re.S).group(1)
    assert "\\" not in math and "mathrm" not in math, math


def test_text_style_survives_pandoc_markdown_verbatim():
    money = f.fmt_currency(1.2e6)  # "$1.20 M" must not open math
    sentence = f"It costs {money._repr_markdown_()} and saves {money._repr_markdown_()}."
    assert _pandoc(sentence, "plain").strip() == "It costs $1.20 M and saves $1.20 M."
    sci = f.fmt_sci(3.14e23, "FLOP", style="markdown")
    assert "<sup>23</sup>" in _pandoc(f"Training took {sci}.", "html")
    starred = f.fmt_count(7e9, "params")
    assert _pandoc(f"*{starred._repr_markdown_()}*", "plain").strip() == "7.00 B params"
