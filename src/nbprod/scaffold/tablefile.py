"""The proposed column table as the commented ``columns.yaml`` a person reviews."""

from __future__ import annotations

from typing import Any

from ..compat.pyyaml import safe_dump
from ..data.model_kinds import BINARY
from .infer import Inferred

__all__ = ["render_columns"]

_HEADER = """\
# columns.yaml: the declared column table, the contract of the data, the pipeline and the API.
# Written by `nbprod new` from {source}; review it: every kind, category and range here is
# checked on every build (ingest) and on every request the service answers.
# kind: binary (0/1) | categorical | integer | number | datetime (ISO dates, or text in its
# strftime format such as "%m/%d/%y"; min to max in ISO) | text (free text, max_length
# characters); nullable: true means it may be blank;
# missing: the strings that stand for a blank in the raw file (read as blank, file untouched);
# source: the header in the raw file, when it differs from the name.
# split: {{column: fold}} (train/test), {{column: day, test_from: 2024-07-01}},
# {{group: customer_id, test_size: 0.2}} or {{function: "pkg.splits:my_split"}} declares your
# own test set (docs/pipeline.md); without it, test_size of the rows at random.
"""


_COMMENT_AT = 26


def _flow(value: Any) -> str:
    """One YAML value on one line (flow style)."""
    text = safe_dump(value, default_flow_style=True, sort_keys=False, width=10**9)
    return text.strip().removesuffix("...").strip()


def render_columns(table: Inferred, source: str) -> str:
    """The text of ``columns.yaml`` for ``table`` inferred from the file named ``source``."""
    lines = [_HEADER.format(source=source).rstrip("\n")]
    how = "given with --positive" if table.positive_given else "the minority class; change it here"
    head: list[tuple[str, Any, str]] = [("target", table.target, "the column the model predicts")]
    if table.kind == BINARY:
        head.append(("positive", table.positive, f"the positive class ({how})"))
    else:
        head.insert(0, ("kind", table.kind, f"what the model predicts ({table.kind_reason})"))
    head.append(("record", table.record,
                 'one input record of the API: {"record": {...}}; rename at will'))
    for key, value, comment in head:
        lines.append(f"{key}: {_flow(value)}".ljust(_COMMENT_AT) + f"# {comment}")
    lines.append("columns:".ljust(_COMMENT_AT)
                 + "# every column the model uses, the target included, in order")
    for name, spec in table.columns.items():
        line = f"  {_flow(name)}: {_flow(spec)}"
        lines.append(f"{line}  # {table.notes[name]}" if name in table.notes else line)
    if table.dropped:
        lines.append("dropped:".ljust(_COMMENT_AT) + "# raw columns left out, each with the reason")
        for header, reason in table.dropped.items():
            lines.append(f"  {_flow(header)}: {_flow(reason)}")
    return "\n".join(lines) + "\n"
