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
        ("Model Extra", "c_model_extra"),
        ("model_dump", "c_model_dump"),
        ("model config", "c_model_config"),
        ("json", "c_json"),
        ("Model", "model"),
    ],
)
def test_identifier(header, name):
    assert identifier(header) == name
    assert name.isidentifier()


def test_clashing_headers_get_numbered_names_in_order():
    assert identifiers(["Age", "age", "AGE "]) == {"Age": "age", "age": "age_2", "AGE ": "age_3"}


def test_no_name_is_one_pydantic_keeps_for_itself():
    """A record with every such name is a pydantic model that dumps each field back (the
    API's record; `Model Extra` made the API fail, `model config` broke `nbprod bento`)."""
    import warnings

    from pydantic import BaseModel, create_model

    reserved = [n for n in dir(BaseModel) if not n.startswith("_")]
    names = identifiers(reserved + ["Model Extra", "model config"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a field shadowing BaseModel warns
        record = create_model("Record", **{n: (int, ...) for n in names.values()})
    values = {n: i for i, n in enumerate(names.values())}
    assert record(**values).model_dump() == values
