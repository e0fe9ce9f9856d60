import pytest

from nbprod.data.model_kinds import MODEL_KINDS, is_classifier, prediction_columns
from nbprod.errors import ConfigError


def test_prediction_columns_per_kind():
    assert prediction_columns("binary") == ["probability"]
    assert prediction_columns("multiclass", ["a", "b", "c"]) == [
        "label", "probability:a", "probability:b", "probability:c"]
    assert prediction_columns("regression") == ["prediction"]
    assert [is_classifier(k) for k in MODEL_KINDS] == [True, True, False]


def test_an_unknown_kind_or_classless_multiclass_is_refused():
    with pytest.raises(ConfigError, match="'ordinal' is not one of binary, multiclass, regression"):
        prediction_columns("ordinal")
    with pytest.raises(ConfigError, match="needs its classes"):
        prediction_columns("multiclass", [])
