"""Files `nbprod new` met in the third red-team round: a Parquet file with list and struct
columns (a traceback), a 5,000-character header (a columns.yaml PyYAML could not read), headers
pydantic keeps for itself (an API that failed), and 10,000 columns (accepted without a word,
then a build that stalled in permutation importance)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import yaml

from nbprod import ColumnTable, read_table, validate
from nbprod.errors import ConfigError
from nbprod.scaffold.infer import MANY_COLUMNS, infer_table
from nbprod.scaffold.project import create_project


def frame(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"amount": rng.random(n) * 100,
                         "plan": rng.choice(["basic", "pro"], n),
                         "outcome": rng.choice(["Yes", "No"], n)})


def test_list_and_struct_columns_are_left_out_with_the_reason_and_the_rest_validates(tmp_path):
    data = frame()
    data["tags"] = [["a", "b"][: i % 3] for i in range(len(data))]
    data["address"] = [{"city": f"c{i % 4}", "zip": i} for i in range(len(data))]
    path = tmp_path / "nested.parquet"
    data.to_parquet(path)
    created = create_project(tmp_path / "proj", path, "outcome", wheel=False)
    table_text = (created.path / "columns.yaml").read_text()
    dropped = yaml.safe_load(table_text)["dropped"]
    assert set(dropped) == {"tags", "address"}
    assert all("nested values" in why for why in dropped.values())
    table = ColumnTable.load(created.path / "columns.yaml")
    clean = validate(read_table(created.path / "data" / "raw" / created.raw_file), table)
    assert list(clean.columns) == ["amount", "plan", "outcome"]


def test_a_header_too_long_to_be_a_name_is_refused_in_one_line():
    data = frame().rename(columns={"plan": "p" * 5000})
    with pytest.raises(ConfigError) as err:
        infer_table(data, "outcome")
    message = str(err.value)
    assert "longer than 128 characters" in message and "5,000 characters" in message
    assert "\n" not in message and len(message) < 300


def test_headers_pydantic_keeps_become_other_names_in_a_readable_table(tmp_path):
    data = frame()
    for header in ("Model Extra", "model_dump", "model config", "json"):
        data[header] = np.arange(len(data)) % 5
    table = infer_table(data, "outcome")
    names = set(table.columns)
    assert {"c_model_extra", "c_model_dump", "c_model_config", "c_json"} <= names
    assert not any(n.startswith("model_") for n in names)


def test_a_very_wide_file_is_accepted_with_a_warning_naming_the_cost(caplog):
    rng = np.random.default_rng(2)
    data = pd.DataFrame(rng.random((40, MANY_COLUMNS + 1)),
                        columns=[f"x{i}" for i in range(MANY_COLUMNS + 1)])
    data["outcome"] = ["Yes", "No"] * 20
    with caplog.at_level(logging.WARNING, logger="nbprod.scaffold.infer"):
        table = infer_table(data, "outcome")
    assert len(table.columns) == MANY_COLUMNS + 2
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"{MANY_COLUMNS + 2:,} columns" in warning and "permutation importance" in warning


def test_a_narrow_file_gets_no_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="nbprod.scaffold.infer"):
        infer_table(frame(), "outcome")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
