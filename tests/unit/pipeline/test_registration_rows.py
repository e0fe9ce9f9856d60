"""A version registered through the register step (:func:`nbprod.register_run`) keeps its
evaluation curves as aggregates and no held-out row, in its metadata or in any file of its
store folder; the comparison page still draws both versions' curves from them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from rowless import per_row_data
from sklearn.linear_model import LinearRegression, LogisticRegression

from nbprod.data.schema import Feature, FeatureSchema
from nbprod.model.artifacts import save_model
from nbprod.model.curves import MIN_ROWS
from nbprod.model.predictions import predictions_frame
from nbprod.pipeline.compare_page import write_page
from nbprod.pipeline.registration import register_run
from nbprod.registry.compare import CURVES_FILE, compare
from nbprod.registry.store import get_model, read_info

ROWS = 300  # held-out rows
GATES = {"binary": {"metric": "roc_auc", "tolerance": 0.5, "floor": 0.0},
         "multiclass": {"metric": "accuracy", "tolerance": 0.5, "floor": 0.0},
         "regression": {"metric": "r2", "tolerance": 5.0, "floor": -10.0}}


def notebook(path: Path, task: str) -> str:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(f'product = {{"nb": "{task}.ipynb"}}\nseed = 42')
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell("print('done')")]
    nbformat.write(nb, path)
    return str(path)


def products(folder: Path, kind: str, seed: int) -> tuple[dict, pd.DataFrame]:
    """The upstream products of a register task for a model of ``kind`` trained on
    synthetic rows: (upstream, the held-out predictions frame)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x1": rng.normal(size=2 * ROWS), "x2": rng.normal(size=2 * ROWS)})
    signal = X["x1"] + 0.5 * X["x2"] + rng.normal(0, 0.8, 2 * ROWS)
    classes: list[str] = []
    if kind == "binary":
        y, model = (signal > 0).astype(int), LogisticRegression()
    elif kind == "multiclass":
        classes = ["low", "mid", "high"]
        y, model = pd.Series(np.digitize(signal, [-0.5, 0.5])), LogisticRegression()
    else:
        y, model = signal * 10 + 3, LinearRegression()
    y = y.rename("y")
    train, test = slice(0, ROWS), slice(ROWS, 2 * ROWS)
    model.fit(X[train], y[train])
    held = predictions_frame(model, X[test], y[test], kind, classes or None)
    schema = FeatureSchema([Feature("x1", "number"), Feature("x2", "number")], target="y",
                           classes=classes, model_kind=kind)
    schema.save(folder / "schema.json")
    save_model(model, folder / "model.skops")
    held.to_parquet(folder / "predictions.parquet")
    metric = GATES[kind]["metric"]
    (folder / "metrics.json").write_text(json.dumps({metric: 0.8 + seed / 100, "n": ROWS}))
    (folder / "reference.json").write_text(json.dumps({"x1": {"type": "numeric"}}))
    upstream = {
        "train": {"model": str(folder / "model.skops"), "nb": notebook(folder / "train.ipynb", "train")},
        "features": {"schema": str(folder / "schema.json"), "reference": str(folder / "reference.json")},
        "evaluate": {"metrics": str(folder / "metrics.json"),
                     "predictions": str(folder / "predictions.parquet"),
                     "nb": notebook(folder / "evaluate.ipynb", "evaluate")},
    }
    return upstream, held


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_a_registered_version_keeps_curves_and_no_held_out_row(kind, model_name, tmp_path):
    registered = {}
    for seed in (1, 2):
        upstream, held = products(tmp_path / f"run{seed}", kind, seed)
        result = register_run(model_name, upstream, GATES[kind], root=tmp_path)
        registered[seed] = (result.tag, held)

    for tag, held in registered.values():
        stored = get_model(tag)
        folder = Path(stored.path)
        values = held.drop(columns=["row", "y"]).select_dtypes("number").to_numpy().ravel()
        metadata = read_info(stored).metadata
        # known, and not this change's: a regression's prediction reference (the drift of
        # the served predictions) has the held-out predictions' lowest and highest as its
        # outer bin edges, which its binning does not use
        edges = metadata["prediction_reference"].get("bin_edges") or []
        outer = (edges[0], edges[-1]) if kind == "regression" else ()
        assert per_row_data(folder, metadata, len(held), values, allowed=outer) == []
        assert not any(p.suffix == ".parquet" for p in folder.rglob("*"))
        curves = json.loads((folder / "files" / CURVES_FILE).read_text())
        assert curves["kind"] == kind
        if kind == "regression":
            assert sum(curves["bins"]["rows"]) == ROWS and min(curves["bins"]["rows"]) >= MIN_ROWS
            assert curves["residual_quantiles"]
        else:
            assert sorted(curves["classes"]) == sorted({"binary": ["1"]}.get(kind, ["low", "mid", "high"]))
            for per_class in curves["classes"].values():
                assert len(per_class["roc"]["fpr"]) > 10
                assert min(per_class["calibration"]["rows"]) >= MIN_ROWS

    # the comparison page draws both versions' curves from the aggregates
    (a, _), (b, _) = registered[2], registered[1]
    comparison = compare(model_name, a, b)
    page = write_page(model_name, comparison, tmp_path / "compare.html").read_text()
    assert page.count('src="data:image/png;base64,') == 2
    assert "No evaluation curves" not in page
    assert not re.search(r"<script|<link|https?://|src=\"(?!data:)", page)


def test_the_checker_finds_rows_where_they_would_be(tmp_path):
    """The check above is not vacuous: a kept predictions file or a list as long as the
    held-out rows is found."""
    folder = tmp_path / "version"
    (folder / "files").mkdir(parents=True)
    held = pd.DataFrame({"row": range(40), "y": [0, 1] * 20, "probability": np.linspace(0.01, 0.99, 40) / 1.7})
    held.to_parquet(folder / "files" / "predictions.parquet")
    (folder / "files" / "p.json").write_text(json.dumps({"p": list(held["probability"][:3])}))
    found = per_row_data(folder, {"probabilities": list(range(40))}, 40, held["probability"])
    assert any("a table file" in f for f in found)
    assert any("list of 40 entries" in f for f in found)
    assert any("p.json: 3 held-out predictions" in f for f in found)
    nb = nbformat.v4.new_notebook()
    shown = nbformat.v4.new_code_cell("held")
    shown.outputs = [nbformat.v4.new_output("execute_result", {"text/html": held.to_html()})]
    nb.cells = [shown]
    nbformat.write(nb, folder / "files" / "evaluate.ipynb")
    found = per_row_data(folder, {}, 40, [])
    assert any("evaluate.ipynb: cell 0 shows a text/html table of 41 lines" in f for f in found)
