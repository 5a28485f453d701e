"""docs/authoring.md stays true: its schema, its example payloads and its formatter table."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import mlsysim.viz as viz
from invariants.protocol import CHECK_SCHEMA, CheckRecord
from mlsysim import Q_, check, fmt

DOC = (Path(__file__).parents[2] / "docs" / "authoring.md").read_text(encoding="utf-8")


def _block(name: str) -> str:
    match = re.search(rf"<!-- {name}:begin -->\n```json\n(.*?)```\n<!-- {name}:end -->", DOC, re.S)
    assert match, f"docs/authoring.md lost its {name} block"
    return match.group(1)


def test_documented_schema_is_the_protocol_schema():
    assert json.loads(_block("schema")) == CHECK_SCHEMA


def test_documented_payloads_are_what_check_publishes():
    documented = json.loads(_block("example"))
    ai, ridge = Q_(1.9, "flop/byte"), Q_(295.3, "flop/byte")
    with check.collecting() as records:
        check(ai > ridge, "H100 decode is compute-bound", intensity=fmt(ai), ridge=ridge)
        check.golden("h100_ridge", fmt(Q_(295.34, "flop/byte")), rtol=1e-3)
    for payload, record in zip(documented, records, strict=True):
        parsed = CheckRecord.from_json(payload)
        assert parsed.values == record.values
        assert parsed.golden == record.golden
        assert (parsed.kind, parsed.name, parsed.message, parsed.passed) == (
            record.kind,
            record.name,
            record.message,
            record.passed,
        )


_ROWS = re.findall(r"^\| `(fmt\w*)\(.*?\| `(.+?)` \| `(.+?)`(?:, `(.+?)`)? \|$", DOC, re.M)


def test_formatter_table_lists_every_helper():
    documented = {row[0] for row in _ROWS}
    exported = {name for name in viz.__all__ if name.startswith("fmt")}
    assert documented == exported


@pytest.mark.parametrize("row", _ROWS, ids=[row[0] for row in _ROWS])
def test_formatter_table_examples_print_what_the_doc_says(row):
    _, examples, first, second = row
    namespace = {"Q_": Q_, **{name: getattr(viz, name) for name in viz.__all__ if "fmt" in name}}
    calls = [c.strip().strip("`") for c in examples.split("`, `")]
    expected = [first] + ([second] if second else [])
    assert [str(eval(call, namespace)) for call in calls] == expected
