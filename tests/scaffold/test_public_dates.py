"""Dates as she writes them, in a public file nobody here wrote (the US pumpkins prices of
``tests/fixtures/adopt/pumpkins``, MIT, whose ``Date`` reads ``4/29/17``): `nbprod new`
infers the column as a datetime in the format ``%m/%d/%y`` and says so, `ploomber build`
builds the project, and the served API answers a record dated her way and refuses an ISO
date or an impossible one with a 400 naming the field and the format.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from test_public_free_kinds import Project, bad_request, records, served

from projectkit import BIN, SERVED

pytestmark = pytest.mark.pipeline

PUMPKINS = (Path(__file__).parents[1] / "fixtures" / "adopt" / "pumpkins" / "2-Regression"
            / "data" / "US-pumpkins.csv")


@pytest.fixture(scope="module")
def pumpkins(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pumpkins")
    shutil.copy(PUMPKINS, tmp / PUMPKINS.name)
    result = subprocess.run([str(BIN / "nbprod"), "new", str(tmp / "project"), "--data",
                             str(tmp / PUMPKINS.name), "--target", "Low Price"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    project = Project(tmp / "project", tmp / "bentoml-home", result.stdout)
    project.build()
    yield project


def test_nbprod_new_infers_her_date_format_and_says_so(pumpkins):
    assert pumpkins.spec["columns"]["date"] == {
        "source": "Date", "kind": "datetime", "format": "%m/%d/%y", "min": "2016-01-01",
        "max": "2027-12-31"}
    assert pumpkins.spec["kind"] == "regression"
    assert "date: format %m/%d/%y" in pumpkins.new_output


def test_the_served_model_reads_her_dates_and_refuses_others_naming_the_format(pumpkins):
    expected = pd.read_parquet(pumpkins.product("model/test_predictions.parquet"))
    record = records(pumpkins, 1)[0]
    assert "/" in record["date"]  # her format, as the raw file has it
    with served(pumpkins) as client:
        resp = client.post("/predict", json={"record": record})
        assert resp.status_code == 200, resp.text
        assert resp.json()["prediction"] == pytest.approx(expected["prediction"].iloc[0],
                                                          rel=SERVED, abs=SERVED)
        for value in ("2017-13-45", "2017-04-29"):
            text = bad_request(client, {**record, "date": value}, "date")
            assert "%m/%d/%y" in text
        schema = client.get("/docs.json").json()
        described = str(schema)
        assert "a date in the format %m/%d/%y" in described


def test_nbprod_score_reads_her_dates_and_names_the_rows_in_another_format(pumpkins, tmp_path):
    rows = pd.DataFrame(records(pumpkins, 3))
    rows.to_csv(tmp_path / "good.csv", index=False)
    scored = pumpkins.run("nbprod", "score", str(tmp_path / "good.csv"), str(tmp_path / "out.parquet"))
    assert scored.returncode == 0, scored.stderr[-3000:]
    assert len(pd.read_parquet(tmp_path / "out.parquet")) == 3
    rows.loc[1, "date"] = "2017-04-29"
    rows.to_csv(tmp_path / "bad.csv", index=False)
    refused = pumpkins.run("nbprod", "score", str(tmp_path / "bad.csv"), str(tmp_path / "no.parquet"))
    assert refused.returncode != 0
    assert "date" in refused.stderr and "%m/%d/%y" in refused.stderr and "row 1" in refused.stderr
