"""A target her notebook computes: the raw columns its code names, read without running it,
and the column table of her raw rows with her target's values beside them."""

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from nbprod.errors import ConfigError
from nbprod.scaffold.notebook_source import read_notebook
from nbprod.scaffold.notebook_target import table_of, target_sources, where_made, with_her_target

HEADERS = ["Date", "Package", "Low Price", "High Price", "Variety", "Origin"]


def cells(tmp_path, *sources):
    path = tmp_path / "nb.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(s) for s in sources]), str(path))
    return read_notebook(path)


def test_the_columns_named_by_the_code_that_makes_the_target_are_found(tmp_path):
    nb = cells(tmp_path, "import pandas as pd\ndf = pd.read_csv('p.csv')",
               "mid = (df['Low Price'] + df['High Price']) / 2\nhalf = mid / 2",
               "new = pd.DataFrame({'Variety': df['Variety'], 'Price': half})\n"
               "new.loc[new['Package'] == 'x', 'Price'] = mid * 1.1",
               "X = pd.get_dummies(new['Variety'])\ny = new['Price']")
    assert target_sources(nb, "Price", HEADERS) == ["Low Price", "High Price"]
    assert where_made(nb, "Price", "High Price") == "cell 2, line 1"


def test_a_target_assigned_to_a_column_of_her_frame_is_followed(tmp_path):
    nb = cells(tmp_path, "import pandas as pd\ndf = pd.read_csv('p.csv')",
               "df['Price'] = df['Low Price'] * 2\ndf['Origin'] = df['Origin'].str.lower()")
    assert target_sources(nb, "Price", HEADERS) == ["Low Price"]


def test_a_target_that_is_a_raw_column_has_no_sources(tmp_path):
    nb = cells(tmp_path, "df['Origin'] = df['Low Price'] * 2")
    assert target_sources(nb, "Origin", HEADERS) == []
    assert target_sources(nb, "Price", HEADERS) == []  # nothing makes it


def test_her_target_goes_beside_her_raw_rows_without_its_sources():
    raw = pd.DataFrame({"lo": [1.0, 2.0, 3.0, 4.0], "hi": [3.0, 4.0, 5.0, 6.0],
                        "city": ["a", "b", "a", "c"]})
    out = with_her_target(raw, "Price", [[2, 4.0], [0, 2.0]], ["lo", "hi"])
    assert list(out.columns) == ["city", "Price"]
    assert out["Price"].tolist()[0] == 2.0 and out["Price"].tolist()[2] == 4.0
    assert out["Price"].isna().tolist() == [False, True, False, True]


def test_without_her_target_values_the_refusal_says_what_to_do():
    with pytest.raises(ConfigError, match="make y a column or a Series of her frame"):
        with_her_target(pd.DataFrame({"a": [1]}), "Price", [], [])


def test_the_table_declares_every_raw_row_and_her_target_from_her_rows():
    raw = pd.DataFrame({"City Name": ["a", "b", "c", "d"] * 25,
                        "Date": [f"{i % 4 + 9}/1/16" if i % 2 == 0 else f"1/{i}/17"
                                 for i in range(100)],
                        "size": [1.0, 2.0, 3.0, 4.0] * 25})
    price = [[i, i * 0.37] for i in range(0, 100, 2)]  # her notebook kept half the rows
    frame = with_her_target(raw, "Price", price, [])
    table = table_of(frame, "Price")
    assert table.kind == "regression" and table.target == "price"
    assert table.columns["price"]["source"] == "Price"
    # a city her notebook filtered out is still a value a record may carry
    assert table.columns["city_name"]["categories"] == ["a", "b", "c", "d"]
    assert table.columns["date"] == {"source": "Date", "kind": "text"}
    assert table.rows == 100
