"""Raw headers -> identifiers (nbprod.scaffold.names)."""

import pytest

from nbprod.scaffold.names import identifier, identifiers


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Customer ID", "customer_id"),
        ("CustomerID", "customer_id"),
        ("DebtRatio", "debt_ratio"),
        ("Annual Income ($)", "annual_income"),
        ("Temperature (C)", "temperature_c"),
        ("mean radius", "mean_radius"),
        ("  Vibration RMS ", "vibration_rms"),
        ("2nd Line", "c_2nd_line"),
        ("class", "class_"),
        ("Café Größe", "cafe_groe"),
        ("???", "column"),
        ("already_fine", "already_fine"),
    ],
)
def test_identifier(header, name):
    assert identifier(header) == name
    assert name.isidentifier()


def test_clashing_headers_get_numbered_names_in_order():
    assert identifiers(["Age", "age", "AGE "]) == {"Age": "age", "age": "age_2", "AGE ": "age_3"}
