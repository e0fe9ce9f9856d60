"""Values passed between her tasks: a name that holds a frame at the end of her notebook
(so its product is Parquet) may hold an array in an earlier task, and comes back as it was."""

import numpy as np
import pandas as pd
import pytest

from nbprod.pipeline.adoption import load_value, save_value


@pytest.mark.parametrize("value", [np.arange(5.0), np.arange(6).reshape(-1, 2),
                                   np.array([[1.5], [2.5]])])
def test_an_array_kept_where_a_frame_is_kept_comes_back_as_that_array(tmp_path, value):
    path = str(tmp_path / "X.parquet")
    save_value(value, path)
    back = load_value(path)
    assert isinstance(back, np.ndarray) and back.shape == value.shape
    assert np.array_equal(back, value)


def test_a_frame_comes_back_as_a_frame(tmp_path):
    path = str(tmp_path / "X.parquet")
    frame = pd.DataFrame({"Month": [9, 10], "PIE TYPE": [True, False]}, index=[4, 7])
    save_value(frame, path)
    pd.testing.assert_frame_equal(load_value(path), frame)
