"""The JSON report's schema (JSON Schema 2020-12): what ``<book>/.invariants/report.json`` holds.

``invariants.report.BookReport.to_json`` writes it; the Quarto filter checks ``schema`` and
``version`` before it trusts a report. Version 2 added each chapter's ``publications`` (where
every inline value was published, and the words around it) and ``source_sha1``, which the
filter needs for review spans. Optional keys added within a version (``wall_s``,
``errors[].follows``) keep older reports of that version valid.
``docs/invariants.md`` prints this schema (a test keeps the two equal).
"""

from __future__ import annotations

from typing import Any

REPORT_SCHEMA_ID = "mlsysim-invariants-report"
REPORT_VERSION = 2
SUMMARY_KEYS = (
    "chapters", "cells", "checks_passed", "checks_failed", "shifts", "new", "missing", "errors",
    "cached",
)  # fmt: skip

_NULLABLE_INT = {"type": ["integer", "null"]}
_NULLABLE_STR = {"type": ["string", "null"]}
_WORDS = {"type": "array", "items": {"type": "string"}}
REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": REPORT_SCHEMA_ID,
    "type": "object",
    "required": ["schema", "version", "generated_by", "book", "ok", "exit_code", "summary",
                 "chapters"],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": REPORT_SCHEMA_ID},
        "version": {"const": REPORT_VERSION},
        "generated_by": {"type": "string"},
        "book": {"type": "string", "description": "absolute path of the book root"},
        "ok": {"type": "boolean", "description": "exit_code == 0"},
        "exit_code": {"enum": [0, 1, 2]},
        "wall_s": {"type": ["number", "null"], "minimum": 0,
                   "description": "wall time of the check in seconds (chapters run concurrently:"
                                  " less than the sum of their duration_s); null when unknown"},
        "summary": {
            "type": "object",
            "required": list(SUMMARY_KEYS),
            "additionalProperties": False,
            "properties": {key: {"type": "integer", "minimum": 0} for key in SUMMARY_KEYS},
        },
        "chapters": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "status", "cached", "duration_s", "cells", "checks",
                             "golden", "errors", "source_sha1", "publications"],
                "additionalProperties": False,
                "properties": {
                    "path": {"type": "string", "description": "relative to the book, POSIX"},
                    "status": {"enum": ["passed", "failed", "error"]},
                    "cached": {"type": "boolean"},
                    "duration_s": {"type": "number", "minimum": 0},
                    "cells": {"type": "integer", "minimum": 0},
                    "checks": {"type": "array", "items": {
                        "type": "object",
                        "required": ["kind", "name", "message", "passed", "line", "cell",
                                     "values"],
                        "additionalProperties": False,
                        "properties": {
                            "kind": {"enum": ["check", "golden"]},
                            "name": _NULLABLE_STR,
                            "message": {"type": "string"},
                            "passed": {"type": "boolean"},
                            "line": _NULLABLE_INT,
                            "cell": _NULLABLE_STR,
                            "source": {"type": ["object", "null"],
                                       "description": "a check written in a module, not a "
                                                      "cell: its file (relative to the "
                                                      "chapter's folder) and line; `line` is "
                                                      "then the chapter's call into it",
                                       "required": ["file", "line"],
                                       "additionalProperties": False,
                                       "properties": {"file": {"type": "string"},
                                                      "line": {"type": "integer",
                                                               "minimum": 0}}},
                            "values": {"type": "object", "additionalProperties": {
                                "type": "object",
                                "required": ["magnitude", "unit", "text"],
                                "properties": {
                                    "magnitude": {"type": ["number", "array", "null"],
                                                  "items": {"type": "number"}},
                                    "unit": _NULLABLE_STR,
                                    "text": {"type": "string"},
                                },
                            }},
                        },
                    }},
                    "golden": {"type": "array", "items": {
                        "type": "object",
                        "required": ["key", "kind", "status", "old", "new", "rel_change", "line",
                                     "message"],
                        "additionalProperties": False,
                        "properties": {
                            "key": {"type": "string"},
                            "kind": {"enum": ["inline", "golden"]},
                            "status": {"enum": ["ok", "shifted", "out_of_tolerance", "new",
                                                "missing", "unit_error", "updated", "removed"]},
                            "old": _NULLABLE_STR,
                            "new": _NULLABLE_STR,
                            "rel_change": {"type": ["number", "null"]},
                            "line": _NULLABLE_INT,
                            "message": {"type": "string"},
                        },
                    }},
                    "errors": {"type": "array", "items": {
                        "type": "object",
                        "required": ["kind", "message", "line", "cell", "traceback"],
                        "additionalProperties": False,
                        "properties": {
                            "kind": {"enum": ["exception", "timeout", "kernel_died", "no_kernel",
                                              "reader", "golden"]},
                            "message": {"type": "string"},
                            "line": _NULLABLE_INT,
                            "cell": _NULLABLE_STR,
                            "traceback": {"type": "string"},
                            "follows": {"type": ["integer", "null"],
                                        "description": "a NameError for a name of a cell "
                                                       "that failed earlier: the .qmd line of "
                                                       "that failure (a follow-on error)"},
                        },
                    }},
                    "source_sha1": {"type": ["string", "null"], "pattern": "^[0-9a-f]{40}$",
                                    "description": "SHA-1 of the chapter file that was checked "
                                                   "(null when unreadable): a filter that finds "
                                                   "another file knows the report is stale"},
                    "publications": {"type": "array",
                                     "description": "every inline value the chapter published, "
                                                    "in source order (an expression published "
                                                    "twice is two)",
                                     "items": {
                        "type": "object",
                        "required": ["key", "text", "line", "column", "before", "after"],
                        "additionalProperties": False,
                        "properties": {
                            "key": {"type": "string",
                                    "description": "its golden[] entry (kind inline)"},
                            "text": {"type": "string", "description": "the published text"},
                            "line": {"type": "integer", "minimum": 1},
                            "column": {"type": "integer", "minimum": 1,
                                       "description": "of the opening backtick"},
                            "before": {**_WORDS, "maxItems": 5,
                                       "description": "the prose words just before it, "
                                                      "neighbouring values as their text"},
                            "after": {**_WORDS, "maxItems": 5,
                                      "description": "the prose words just after it"},
                        },
                    }},
                },
            },
        },
    },
}  # fmt: skip
