"""The gate compares like with like: production is re-scored on the candidate's held-out
rows before the comparison (:mod:`nbprod.registry.rescoring`), through the real register
step (:func:`nbprod.register_run`) and a real model store. The held-out rows' fingerprint
is in each version's lineage, in ``nbprod models show`` and in ``compare``."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from nbprod.cli import main
from nbprod.data.schema import Feature, FeatureSchema
from nbprod.data.test_set import fingerprint
from nbprod.model.artifacts import save_model
from nbprod.model.evaluation import score
from nbprod.model.predictions import predictions_frame
from nbprod.pipeline.registration import register_run
from nbprod.registry.compare import compare
from nbprod.registry.store import get_model, read_info

GATE = {"metric": "roc_auc", "tolerance": 0.01, "floor": 0.5, "margin": 0.0}
ROWS = 400


def data(seed: int = 0) -> pd.DataFrame:
    """Rows whose label is clear on the first half and noisy on the second: two test sets
    drawn from either half give very different scores to the same model."""
    rng = np.random.default_rng(seed)
    n = 3 * ROWS
    frame = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n),
                          "x3": rng.normal(size=n)})
    noise = np.where(np.arange(n) < 2 * ROWS, 0.2, 2.5)
    frame["y"] = (frame["x1"] + 0.5 * frame["x2"] + rng.normal(0, 1, n) * noise > 0).astype(int)
    return frame


def notebook(path: Path) -> str:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(f'product = {{"nb": "{path.name}"}}\nseed = 42')
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells = [cell]
    nbformat.write(nb, path)
    return str(path)


def run(folder: Path, frame: pd.DataFrame, test_rows: slice, columns=("x1", "x2"),
        C: float = 1.0):
    """The upstream products of one build: a model on rows 0..ROWS, scored on ``test_rows``
    (written with their row numbers, as the features step writes them); (upstream, model)."""
    folder.mkdir(parents=True)
    train, test = frame.iloc[:ROWS], frame.iloc[test_rows]
    model = LogisticRegression(C=C).fit(train[list(columns)], train["y"])
    held = predictions_frame(model, test[list(columns)], test["y"], "binary")
    metrics = score("binary", test["y"].to_numpy(), held, [])
    schema = FeatureSchema([Feature(c, "number") for c in columns], target="y",
                           classes=["0", "1"], model_kind="binary")
    schema.save(folder / "schema.json")
    save_model(model, folder / "model.skops")
    held.to_parquet(folder / "predictions.parquet")
    test.to_parquet(folder / "test.parquet")
    (folder / "metrics.json").write_text(json.dumps(metrics))
    (folder / "reference.json").write_text(json.dumps({"_rows": ROWS}))
    upstream = {
        "train": {"model": str(folder / "model.skops"), "nb": notebook(folder / "train.ipynb")},
        "features": {"schema": str(folder / "schema.json"), "test": str(folder / "test.parquet"),
                     "reference": str(folder / "reference.json")},
        "evaluate": {"metrics": str(folder / "metrics.json"),
                     "predictions": str(folder / "predictions.parquet"),
                     "nb": notebook(folder / "evaluate.ipynb")},
    }
    return upstream, model


def test_production_is_rescored_on_the_candidates_rows(model_name, tmp_path):
    frame = data()
    easy, hard = slice(ROWS, 2 * ROWS), slice(2 * ROWS, 3 * ROWS)
    upstream, production = run(tmp_path / "first", frame, easy)
    first = register_run(model_name, upstream, GATE, root=tmp_path)
    assert first.promoted

    # the same model, scored on other (harder) rows, as after a change of test_size or seed
    upstream, candidate = run(tmp_path / "second", frame, hard)
    recorded = first.metrics["roc_auc"]
    theirs = roc_auc_score(frame["y"].iloc[hard],
                           production.predict_proba(frame[["x1", "x2"]].iloc[hard])[:, 1])
    ours = json.loads(Path(upstream["evaluate"]["metrics"]).read_text())["roc_auc"]
    assert recorded - ours > 2 * GATE["tolerance"]  # against the recorded number it would fail

    second = register_run(model_name, upstream, GATE, root=tmp_path)
    assert second.promoted, second.reason
    assert "production re-scored on the candidate's test set" in second.reason
    assert f"production roc_auc={theirs:.4f}" in second.reason
    assert f"production roc_auc={recorded:.4f}" not in second.reason
    hard_print = fingerprint(frame.iloc[hard])
    assert read_info(get_model(second.tag)).metadata["test_set"] == hard_print
    assert hard_print["sha256"][:12] in second.reason

    # the same rows again: production's recorded metrics are already on them
    upstream, _ = run(tmp_path / "third", frame, hard, C=0.5)
    third = register_run(model_name, upstream, GATE, root=tmp_path)
    assert "same test set as production" in third.reason, third.reason


def test_production_that_cannot_answer_the_rows_is_compared_as_recorded(model_name, tmp_path):
    frame = data(1)
    upstream, _ = run(tmp_path / "first", frame, slice(ROWS, 2 * ROWS))
    first = register_run(model_name, upstream, GATE, root=tmp_path)
    # the candidate's rows lack production's column x2
    upstream, _ = run(tmp_path / "second", frame.drop(columns="x2"), slice(2 * ROWS, 3 * ROWS),
                      columns=("x1", "x3"))
    second = register_run(model_name, upstream, {**GATE, "tolerance": 1.0}, root=tmp_path)
    assert "production could not be re-scored on the candidate's test set" in second.reason
    assert "the test rows lack ['x2']" in second.reason
    assert "compared with its recorded metrics on its own test set" in second.reason
    assert f"production roc_auc={first.metrics['roc_auc']:.4f}" in second.reason


def test_show_and_compare_print_the_test_sets(model_name, tmp_path):
    frame = data(2)
    tags = []
    for i, rows in enumerate((slice(ROWS, 2 * ROWS), slice(2 * ROWS, 3 * ROWS))):
        upstream, _ = run(tmp_path / f"run{i}", frame, rows)
        tags.append(register_run(model_name, upstream, {**GATE, "tolerance": 1.0},
                                 root=tmp_path).tag)
    prints = [fingerprint(frame.iloc[ROWS:2 * ROWS]), fingerprint(frame.iloc[2 * ROWS:])]
    assert prints[0]["sha256"] != prints[1]["sha256"]

    shown = CliRunner().invoke(main, ["models", "show", tags[1], "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["test_set"] == prints[1]

    comparison = compare(model_name, tags[0], tags[1])
    assert any(d.section == "test set" and d.key == "sha256"
               and (d.a, d.b) == (prints[0]["sha256"], prints[1]["sha256"])
               for d in comparison.differences)
    assert any("different rows" in n for n in comparison.notes)
    same = compare(model_name, tags[1], tags[1])
    assert any(f"the same rows for both ({prints[1]['sha256'][:12]}" in n for n in same.notes)
