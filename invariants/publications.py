"""Where each inline value of a chapter was published, and the prose words around it.

The Quarto filter (``quarto_ext``) wraps each published value of a review build in a span. The
rendered page keeps no source positions, and a value's text alone ("2") also stands elsewhere,
so the report gives each publication the words next to it in the ``.qmd`` (read by
``invariants.qmd``, neighbouring values as their published text) and the filter wraps the
occurrence whose rendered words agree. A word is a run of ASCII letters and digits and
non-ASCII characters, except the typographic marks in ``NOT_WORDS``; case is kept.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from invariants.model import ChapterRun, InlineExpr, Publication

CONTEXT_WORDS = 5  # words kept on each side of a value
# Typographic marks pandoc's `smart` extension makes from ASCII punctuation, and wide spaces.
NOT_WORDS = "\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00a0\u2009\u202f"
_NOT_WORDS = str.maketrans(dict.fromkeys(NOT_WORDS, " "))
_WORD = re.compile(r"[0-9A-Za-z\u0080-\U0010ffff]+")
# Markdown that renders no words: link targets, attribute blocks, HTML comments and tags.
_NOT_RENDERED = re.compile(
    r"\]\((?:[^()]|\([^()]*\))*\)"  # ](target), one level of parentheses inside
    r"|\{(?:[#.=]|[\w-]+=)[^{}]*\}"  # {#id .class key=value}, {=html}; not math's \text{s}
    r"|<!--.*?-->"
    r"|</?[A-Za-z][^<>]*>",
    re.DOTALL,
)


def words(text: str) -> list[str]:
    """The words of rendered ``text`` (a value's published text, as the page shows it)."""
    return _WORD.findall(text.translate(_NOT_WORDS))


def prose_words(markdown: str) -> list[str]:
    """The words ``markdown`` prose renders to: :func:`words` once link targets, attribute
    blocks, HTML comments and tags are removed and entities are decoded."""
    return words(html.unescape(_NOT_RENDERED.sub(" ", markdown)))


def publications(text: str, path: Path, run: ChapterRun) -> tuple[Publication, ...]:
    """Every published inline value of ``run`` (the chapter ``text`` at ``path``) in source
    order, with its snapshot key and the ``CONTEXT_WORDS`` words on each side of it."""
    from invariants.golden import inline_keys
    from invariants.qmd import prose_pieces

    keys = inline_keys(run)
    texts = {value.expr.index: value.text or "" for value in run.inline}
    sequence: list[str] = []
    placed: list[tuple[InlineExpr, int, int]] = []  # expression, its words' start and stop
    for piece in prose_pieces(text, path):
        if isinstance(piece, InlineExpr):
            start = len(sequence)
            sequence += words(texts.get(piece.index, ""))
            placed.append((piece, start, len(sequence)))
        else:
            sequence += prose_words(piece)
    return tuple(
        Publication(
            key=keys[expr.index],
            text=texts[expr.index],
            line=expr.line,
            column=expr.column,
            before=tuple(sequence[max(0, start - CONTEXT_WORDS) : start]),
            after=tuple(sequence[stop : stop + CONTEXT_WORDS]),
        )
        for expr, start, stop in placed
        if expr.index in keys
    )
