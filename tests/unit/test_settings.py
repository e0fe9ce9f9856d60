"""nbprod.settings: positive numbers from environment variables."""

from __future__ import annotations

import pytest

from nbprod.errors import ConfigError
from nbprod.settings import env_positive, positive


def test_positive_numbers_are_read_and_bad_ones_name_the_variable():
    assert positive("N", " 12 ", int) == 12 and positive("T", "0.5", float) == 0.5
    with pytest.raises(ConfigError, match=r"\$NBPROD_WORKERS='two' is not an int"):
        positive("NBPROD_WORKERS", "two", int)
    with pytest.raises(ConfigError, match=r"\$T='-1' must be positive"):
        positive("T", "-1", float)


def test_unset_or_empty_variables_keep_the_default():
    assert env_positive("N", int, 7, {}) == 7
    assert env_positive("N", int, 7, {"N": "  "}) == 7
    assert env_positive("N", int, 7, {"N": "3"}) == 3
    with pytest.raises(ConfigError, match=r"\$N='0' must be positive"):
        env_positive("N", int, 7, {"N": "0"})
