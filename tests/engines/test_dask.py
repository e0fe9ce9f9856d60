"""Batch scoring of a partitioned data set on a real Dask cluster (distributed.LocalCluster,
two worker processes), against the local scoring of the same files."""

from __future__ import annotations

import distributed  # the dask extra, installed by make dev
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from nbprod import BatchInputError, ConfigError, DataFileError
from nbprod.cli import main
from nbprod.serving.batch import score_file
from nbprod.serving.dataset_scoring import partitions, score_dataset

pytestmark = pytest.mark.engines

PARTS = {"region=north/part-0.parquet": 5_000, "region=north/part-1.parquet": 3_000,
         "region=south/part-0.parquet": 7_000, "region=south/part-1.parquet": 1,
         "region=west/part-0.parquet": 4_000}


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0") as cluster:
        with distributed.Client(cluster) as client:
            yield client


@pytest.fixture(scope="module")
def dataset(real, tmp_path_factory):
    """A hive-partitioned Parquet data set of real customers (19,001 rows, 5 files)."""
    root = tmp_path_factory.mktemp("dataset") / "customers"
    for i, (name, rows) in enumerate(PARTS.items()):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        real.sample(rows, replace=True, random_state=i).reset_index(drop=True).to_parquet(root / name)
    return root


def test_the_cluster_scores_every_partition_as_local_scoring_does(
    cluster, dataset, registered, tmp_path,
):
    seen: list[int] = []
    result = score_dataset(registered, dataset, tmp_path / "scores", scheduler=cluster,
                           chunk_rows=2_000, progress=seen.append)
    assert result.rows == sum(PARTS.values()) and result.partitions == len(PARTS)
    assert result.scheduler == cluster.scheduler.address and result.threshold == 0.4
    assert sorted(seen) == sorted(PARTS.values())
    written = sorted(str(p.relative_to(result.output)) for p in result.output.rglob("*.parquet"))
    assert written == sorted(PARTS)  # the same layout as the input
    positives = 0
    for name in PARTS:
        local = score_file(registered, dataset / name, tmp_path / "local.parquet", chunk_rows=2_000)
        here, there = pd.read_parquet(local.output), pd.read_parquet(result.output / name)
        assert list(there.columns) == ["row", "probability", "label", "model"]
        assert (there["row"] == here["row"]).all() and (there["label"] == here["label"]).all()
        np.testing.assert_allclose(there["probability"], here["probability"], rtol=1e-12, atol=0)
        positives += local.positives
    assert result.positives == positives
    # each worker process loaded (and checked) the model at most once, for all its partitions
    loads = cluster.run(
        lambda: __import__("nbprod.serving.dataset_scoring").serving.dataset_scoring.LOADS)
    assert len(loads) == 2 and all(v in ([], [registered]) for v in loads.values())
    assert sum(map(len, loads.values())) >= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["local.parquet", "scores"]


def test_a_bad_row_is_the_local_error_and_nothing_is_left(cluster, dataset, registered, tmp_path):
    bad = tmp_path / "bad"
    for name in PARTS:
        (bad / name).parent.mkdir(parents=True, exist_ok=True)
        (bad / name).write_bytes((dataset / name).read_bytes())
    frame = pd.read_parquet(bad / "region=south/part-0.parquet")
    frame["tenure"] = frame["tenure"].astype("float64")
    frame.loc[4_321, "tenure"] = 999
    frame.to_parquet(bad / "region=south/part-0.parquet")
    with pytest.raises(BatchInputError) as local:
        score_file(registered, bad / "region=south/part-0.parquet", tmp_path / "one.parquet")
    out = tmp_path / "scores"
    with pytest.raises(BatchInputError) as remote:
        score_dataset(registered, bad, out, scheduler=cluster.scheduler.address)
    assert str(remote.value) == str(local.value)
    assert "region=south/part-0.parquet" in str(remote.value)
    assert "column 'tenure' is not in [0, 120] in 1 row(s): row 4321: 999" in str(remote.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad"], "a partial output was left"


def test_the_score_command_on_the_scheduler_and_here(cluster, dataset, registered, tmp_path):
    address = cluster.scheduler.address
    result = CliRunner().invoke(main, ["score", str(dataset), str(tmp_path / "dask"),
                                       "--model", registered, "--scheduler", address])
    assert result.exit_code == 0, result.output
    assert f"scored 19,001 rows in 5 partition(s) on Dask at {address} with {registered}" in result.output
    pattern = str(dataset / "region=*" / "part-0.parquet")
    here = CliRunner().invoke(main, ["score", pattern, str(tmp_path / "here"), "--model", registered])
    assert here.exit_code == 0, here.output
    assert "scored 16,000 rows in 3 partition(s) with" in here.output
    a = pd.read_parquet(tmp_path / "dask/region=west/part-0.parquet")
    b = pd.read_parquet(tmp_path / "here/region=west/part-0.parquet")
    np.testing.assert_allclose(a["probability"], b["probability"], rtol=1e-12, atol=0)
    again = CliRunner().invoke(main, ["score", str(dataset), str(tmp_path / "dask"),
                                      "--model", registered, "--scheduler", address])
    assert again.exit_code == 1 and "already exists" in again.output


def test_bad_data_sets_and_schedulers_are_one_clear_error(dataset, registered, tmp_path):
    with pytest.raises(DataFileError, match="no such file, folder or glob match"):
        partitions(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFileError, match="no data file"):
        partitions(tmp_path / "empty")
    with pytest.raises(ConfigError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        score_dataset(registered, dataset, tmp_path / "out", scheduler="tcp://127.0.0.1:9")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["empty"]


def test_the_compiled_graph_answers_on_the_workers_and_the_artifact_when_turned_off(
    cluster, dataset, compiled, tmp_path, monkeypatch,
):
    def forms():  # the forms of the model that the worker processes hold
        held = cluster.run(lambda tag: sorted(type(m).__name__ for key, (m, _) in __import__(
            "nbprod.serving.dataset_scoring").serving.dataset_scoring._MODELS.items()
            if key[1] == tag), compiled)
        return set(sum(held.values(), []))

    north = dataset / "region=north"  # two partitions, 8,000 rows
    fast = score_dataset(compiled, north, tmp_path / "graph", scheduler=cluster)
    assert fast.served_from == "compiled" and fast.rows == 8_000
    assert forms() == {"OnnxModel"}
    monkeypatch.setenv("NBPROD_COMPILED", "0")  # here, not on the workers: it still reaches them
    slow = score_dataset(compiled, north, tmp_path / "artifact", scheduler=cluster)
    assert slow.served_from == "artifact" and slow.rows == 8_000
    assert forms() == {"OnnxModel", "Pipeline"}
    for name in ("part-0.parquet", "part-1.parquet"):
        graph = pd.read_parquet(fast.output / name)
        artifact = pd.read_parquet(slow.output / name)
        assert (graph["row"] == artifact["row"]).all()
        np.testing.assert_allclose(graph["probability"], artifact["probability"], atol=1e-5)
        assert not np.array_equal(graph["probability"], artifact["probability"])  # two forms
