"""The raw columns her adopted model reads, declared in ``columns.yaml`` even where the
inference of a data file leaves them out.

``nbprod new --data`` leaves out a text column with too many categories or an id-like one:
nbprod's own features would make nothing of it. Her notebook may: a transformer of hers
takes the first letter of a cabin number. The service only accepts the declared columns, so
such a column, left out, reaches her model blank on every record, and her answers change.
The adoption run finds the columns her served path reads
(:func:`nbprod.scaffold.notebook_run.reads`); this module declares them
(:func:`nbprod.scaffold.column_rules.declared_anyway`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import pandas as pd

from .column_rules import declared_anyway
from .infer import Inferred
from .names import identifiers

__all__ = ["declare_read_columns"]


def declare_read_columns(table: Inferred, df: pd.DataFrame,
                         reads: Iterable[str]) -> tuple[Inferred, list[str]]:
    """``table`` with every raw column of ``df`` in ``reads`` that it left out declared, in
    the file's order; and one line per such column, saying why it was left out."""
    wanted = {str(h) for h in reads}
    kept = [h for h in table.dropped if h in wanted]
    if not kept:
        return table, []
    headers = [str(h) for h in df.columns]
    names = identifiers(headers)
    declared = {str(spec.get("source", name)): name for name, spec in table.columns.items()}
    columns = {}
    for header in headers:
        if header in kept:
            spec = declared_anyway(df.set_axis(headers, axis=1)[header])
            columns[names[header]] = ({"source": header, **spec} if names[header] != header
                                      else spec)
        elif header in declared:
            columns[declared[header]] = table.columns[declared[header]]
    lines = [f"{header}: her model reads it, declared as {columns[names[header]]['kind']} "
             f"(nbprod new --data would leave it out: {table.dropped[header]})"
             for header in kept]
    dropped = {h: why for h, why in table.dropped.items() if h not in kept}
    return dataclasses.replace(table, columns=columns, dropped=dropped), lines
