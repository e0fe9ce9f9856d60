"""skl2onnx 1.20 cannot convert HistGradientBoosting and drops SimpleImputer's indicator
columns; nbprod.compat.skl2onnx fixes both. The bugs are shown in a fresh interpreter, where
nothing is patched."""

import subprocess
import sys
import textwrap

import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer

from nbprod.compat import skl2onnx as fixes

DATA = """
import numpy as np
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 3)).astype(np.float32)
X[::5, 1] = np.nan
y = (X[:, 0] > 0).astype(int)
"""


def _unpatched(code: str) -> str:
    run = subprocess.run([sys.executable, "-c", DATA + textwrap.dedent(code)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def _run(model, X):
    session = ort.InferenceSession(to_onnx(model, X[:1], options={id(model): {"zipmap": False}}
                                           if hasattr(model, "classes_") else None)
                                   .SerializeToString())
    return session.run(None, {session.get_inputs()[0].name: X})


def test_skl2onnx_alone_cannot_convert_hist_gradient_boosting():
    out = _unpatched("""
        from sklearn.ensemble import HistGradientBoostingClassifier
        from skl2onnx import to_onnx
        model = HistGradientBoostingClassifier(max_iter=5).fit(X, y)
        try:
            to_onnx(model, X[:1])
        except Exception as exc:
            print(type(exc.__cause__ or exc.__context__).__name__, "|", str(exc)[:60])
        """)
    assert out.startswith("TypeError | Unable to create node 'TreeEnsembleClassifier'"), out


def test_skl2onnx_alone_drops_the_imputers_indicator_columns():
    out = _unpatched("""
        import onnxruntime as ort
        from sklearn.impute import SimpleImputer
        from skl2onnx import to_onnx
        imputer = SimpleImputer(strategy="median", add_indicator=True).fit(X)
        session = ort.InferenceSession(to_onnx(imputer, X[:1]).SerializeToString())
        got = session.run(None, {session.get_inputs()[0].name: X})[0]
        print(imputer.transform(X).shape[1], got.shape[1])
        """)
    assert out == "4 3", out  # scikit-learn: 3 imputed + 1 indicator; the graph: 3


def test_patched_both_convert_and_answer_as_scikit_learn():
    import warnings

    fixes.patch()
    fixes.patch()  # idempotent

    exec(DATA, scope := {})
    X, y = scope["X"], scope["y"]
    imputer = SimpleImputer(strategy="median", add_indicator=True).fit(X)
    np.testing.assert_allclose(_run(imputer, X)[0], imputer.transform(X), rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = HistGradientBoostingClassifier(max_iter=5).fit(X, y)
    np.testing.assert_allclose(_run(model, X)[1], model.predict_proba(X), atol=1e-5)
