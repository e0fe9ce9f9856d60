"""What batch scoring writes (:mod:`nbprod.serving.batch`): each scored chunk as a table of
output rows, appended to one Parquet file (the model's tag in its metadata) or CSV file
(gzip-compressed when its name ends with ``.gz``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

__all__ = ["OutputWriter", "prediction_table"]


def prediction_table(
    frame: pd.DataFrame, keep: list[str], predicted: pd.DataFrame, threshold: float,
    first_row: int, tag: str,
) -> pa.Table:
    """The output rows of one scored chunk: ``row`` (numbered from ``first_row``), the
    ``keep`` columns, the predictions (a binary label at ``threshold``) and ``model``."""
    n = len(frame)
    data: dict[str, Any] = {"row": pa.array(np.arange(first_row, first_row + n, dtype="int64"))}
    for name in keep:
        data[name] = pa.Array.from_pandas(frame[name])
    for name in predicted.columns:
        values = predicted[name].to_numpy()
        data[name] = pa.array(values if name == "label" else values.astype("float64", copy=False))
    if "probability" in predicted.columns:  # binary: the label at the threshold
        data["label"] = pa.array((predicted["probability"].to_numpy() >= threshold).astype("int8"))
    data["model"] = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(n, dtype="int32")), pa.array([tag])
    )
    return pa.table(data)


class OutputWriter:
    """Appends prediction tables to one Parquet or CSV file."""

    def __init__(self, path: Path, kind: str, tag: str) -> None:
        self.path, self.kind, self.tag = path, kind, tag
        self._parquet: pq.ParquetWriter | None = None
        self._csv: pacsv.CSVWriter | None = None
        self._stream: pa.NativeFile | None = None

    def write(self, table: pa.Table) -> None:
        if self.kind == "parquet":
            if self._parquet is None:
                schema = table.schema.with_metadata({"nbprod.model": self.tag})
                self._parquet = pq.ParquetWriter(self.path, schema, compression="zstd")
            self._parquet.write_table(table.replace_schema_metadata({"nbprod.model": self.tag}))
        else:
            table = table.set_column(
                table.schema.get_field_index("model"), "model", table["model"].cast(pa.string())
            )
            if self._csv is None:
                gzip = self.path.name.lower().endswith(".gz")
                self._stream = pa.CompressedOutputStream(str(self.path), "gzip") if gzip else None
                self._csv = pacsv.CSVWriter(self._stream or str(self.path), table.schema)
            self._csv.write_table(table)

    def close(self) -> None:
        for writer in (self._parquet, self._csv, self._stream):
            if writer is not None:
                writer.close()
        self._parquet = self._csv = self._stream = None
