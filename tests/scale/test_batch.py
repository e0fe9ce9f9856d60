"""Batch scoring streams a file through a registered model, chunk by chunk, with a
real BentoML store, real Parquet/CSV files and the real `nbprod score` command."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from nbprod import BatchInputError, ConfigError, DataFileError
from nbprod.cli import main
from nbprod.serving.batch import read_chunks, score_chunks, score_file
from projectkit import FEATURES, RAW, TABLE


def test_every_row_is_scored_as_the_model_scores_the_whole_frame(registered, trained, to_score, tmp_path):
    model, _ = trained
    parquet, _ = to_score
    seen = []
    result = score_file(registered, parquet, tmp_path / "out.parquet", chunk_rows=3_000,
                        progress=seen.append)
    assert result.rows == 20_000 and result.chunks == 7 and seen == [3_000] * 6 + [2_000]
    assert result.model == registered and result.threshold == 0.4  # the model's own threshold
    out = pd.read_parquet(result.output)
    expected = model.predict_proba(pd.read_parquet(parquet, columns=FEATURES))[:, 1]
    assert list(out.columns) == ["row", "probability", "label", "model"]
    assert (out["row"].to_numpy() == np.arange(20_000)).all()
    np.testing.assert_allclose(out["probability"], expected, rtol=1e-12)
    assert (out["label"] == (expected >= 0.4)).all() and result.positives == int(out["label"].sum())
    assert set(out["model"].astype(str)) == {registered}
    assert pq.read_schema(result.output).metadata[b"nbprod.model"] == registered.encode()


def test_csv_in_csv_out_gives_the_same_predictions(registered, to_score, tmp_path):
    parquet, csv = to_score
    a = score_file(registered, parquet, tmp_path / "a.parquet", chunk_rows=8_000)
    b = score_file(registered, csv, tmp_path / "b.csv.gz", chunk_rows=5_000, keep=["churn"],
                   threshold=0.5)
    pa_out, csv_out = pd.read_parquet(a.output), pd.read_csv(b.output)
    assert list(csv_out.columns) == ["row", "churn", "probability", "label", "model"]
    np.testing.assert_allclose(csv_out["probability"], pa_out["probability"], rtol=1e-9)
    assert (csv_out["label"] == (csv_out["probability"] >= 0.5)).all()
    assert set(csv_out["churn"]) == {"Yes", "No"}


def test_memory_follows_the_chunk_not_the_file(registered, real, tmp_path):
    """Peak allocations while scoring 4x more rows in the same chunks stay the same."""
    from nbprod import feature_schema, load_model
    from nbprod.data import synth

    model, schema = load_model(registered), feature_schema(registered)
    small = synth.write(real, TABLE, tmp_path / "small.parquet", 10_000, seed=1, chunk_rows=2_000)
    large = synth.write(real, TABLE, tmp_path / "large.parquet", 40_000, seed=1, chunk_rows=2_000)

    def peak(path) -> int:
        gc.collect()
        tracemalloc.start()
        score_chunks(model, schema, registered, path, tmp_path / "out.parquet", chunk_rows=2_000)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    peak(small)  # warm caches
    assert peak(large) < 1.3 * peak(small)
    # and a chunk never holds more than chunk_rows rows, whatever the row groups
    assert max(len(f) for f in read_chunks(large, FEATURES, 3_000)) == 3_000


def test_bad_rows_are_named_by_row_column_and_value(registered, real, tmp_path):
    rows = real.sample(12_000, replace=True, random_state=0).reset_index(drop=True)
    rows["payment_method"] = rows["payment_method"].astype(str)
    rows.loc[10_500, "payment_method"] = "Bitcoin"
    rows.loc[11_000, "tenure"] = 999
    rows.loc[10_700, "monthly_charges"] = np.nan
    path = tmp_path / "bad.parquet"
    rows.to_parquet(path)
    out = tmp_path / "out.parquet"
    with pytest.raises(BatchInputError) as err:
        score_file(registered, path, out, chunk_rows=4_000)
    message = str(err.value)
    assert "bad.parquet" in message
    assert "column 'payment_method' is not one of" in message and "row 10500: 'Bitcoin'" in message
    assert "column 'tenure' is not in [0, 120] in 1 row(s): row 11000: 999" in message
    assert "column 'monthly_charges' is missing in 1 row(s): row 10700" in message
    assert not out.exists(), "a partial output was left behind"


def test_a_non_numeric_csv_value_and_a_missing_column(registered, real, tmp_path):
    rows = real.head(50).copy()
    rows["tenure"] = rows["tenure"].astype(str)
    rows.loc[7, "tenure"] = "twelve"
    rows.to_csv(tmp_path / "text.csv", index=False)
    with pytest.raises(BatchInputError, match=r"column 'tenure' is not a number in 1 row\(s\): row 7: 'twelve'"):
        score_file(registered, tmp_path / "text.csv", tmp_path / "o.parquet")
    real.head(5).drop(columns=["contract"]).to_parquet(tmp_path / "no-contract.parquet")
    with pytest.raises(BatchInputError, match="column 'contract' is not in the file"):
        score_file(registered, tmp_path / "no-contract.parquet", tmp_path / "o.parquet")
    with pytest.raises(DataFileError, match="no such file"):
        score_file(registered, tmp_path / "absent.parquet", tmp_path / "o.parquet")
    with pytest.raises(ConfigError, match="unknown file format"):
        score_file(registered, tmp_path / "no-contract.parquet", tmp_path / "o.json")


def test_the_score_command(registered, to_score, tmp_path):
    parquet, _ = to_score
    out = tmp_path / "scores.parquet"
    result = CliRunner().invoke(main, ["score", str(parquet), str(out), "--model", registered,
                                       "--chunk-size", "6000"])
    assert result.exit_code == 0, result.output
    assert f"scored 20,000 rows in 4 chunk(s) with {registered}" in result.output
    assert len(pd.read_parquet(out)) == 20_000
    bad = CliRunner().invoke(main, ["score", str(tmp_path / "none.csv"), str(out),
                                    "--model", registered])
    assert bad.exit_code == 1 and "no such file" in bad.output


def test_the_synth_command(tmp_path):
    out = tmp_path / "s.parquet"
    result = CliRunner().invoke(main, ["synth", "2500", str(out), "--seed", "3",
                                       "--source", str(RAW), "--columns", str(TABLE.source)])
    assert result.exit_code == 0, result.output
    assert "wrote 2,500 synthetic rows (seed 3)" in result.output
    assert len(pd.read_parquet(out)) == 2_500


def test_the_score_command_shows_progress_from_the_start_with_rate_and_eta(registered, to_score, tmp_path):
    """On a real terminal (a pty), the first thing drawn says what is starting, before the
    slow imports and the model load; the bar then shows rows/s and the time left."""
    import os
    import pty
    import subprocess
    import sys
    import time
    from pathlib import Path

    parquet, _ = to_score
    nbprod = Path(sys.executable).with_name("nbprod")
    primary, secondary = pty.openpty()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(nbprod), "score", str(parquet), str(tmp_path / "out.parquet"), "--model", registered,
         "--chunk-size", "2000"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=secondary,
        env={**os.environ, "COLUMNS": "160"},
    )
    os.close(secondary)
    chunks: list[tuple[float, str]] = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append((time.perf_counter() - start, data.decode(errors="replace")))
    assert proc.wait(timeout=120) == 0
    os.close(primary)
    import re

    plain = [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", c).strip() for _, c in chunks]
    text = "\n".join(plain)
    first = next(p for p in plain if p)
    assert "scoring: starting" in first or "scoring: counting rows" in first, first
    assert "loading model" in text
    assert "rows/s" in text and "ETA" in text
    assert "20,000/20,000" in text or "20000/20000" in text


def test_score_without_model_uses_the_production_version(registered, trained, to_score,
                                                        tmp_path, monkeypatch):
    from nbprod import register_model
    from nbprod.registry.lifecycle import production, promote

    model, feature_schema = trained
    if production("telco_churn") is None:
        promote(registered)
    chosen = str(production("telco_churn").tag)
    latest = register_model("telco_churn", model, {"feature_schema": feature_schema.to_dict()})
    assert latest != chosen  # the latest version is a candidate nobody promoted
    monkeypatch.chdir(tmp_path)
    (tmp_path / "env.yaml").write_text("model_name: telco_churn\n")
    parquet, _ = to_score
    result = CliRunner().invoke(main, ["score", str(parquet), str(tmp_path / "s.parquet")])
    assert result.exit_code == 0, result.output
    assert f"using {chosen}: the production version" in result.output
    assert f"with {chosen}:" in result.output
    assert set(pd.read_parquet(tmp_path / "s.parquet")["model"].astype(str)) == {chosen}
