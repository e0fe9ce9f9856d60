"""Free text and dates in public files nobody here wrote (``tests/fixtures/public_data/ztdl``,
its README says their source, licence and cut): `nbprod new` infers the text column of the
SMS spam collection and the ISO timestamps (with their range) of Italy's COVID-19 figures,
`ploomber build` builds each, and the served API answers a record as the evaluation did and
refuses an over-long text, a date that is not ISO and a date out of its range with a 400
naming the field. The COVID project also declares a group split by region, and
`ploomber build --env--split_seed 7` draws other regions for its test set; then her own
split function, written in her package, places the test rows (and a wrong answer stops the
build naming the function).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from projectkit import BIN, SERVED, bentoml_serve, generated_env, tasks_that_ran

pytestmark = pytest.mark.pipeline

PUBLIC = Path(__file__).parents[1] / "fixtures" / "public_data" / "ztdl"


@dataclass
class Project:
    path: Path
    home: Path
    new_output: str

    @property
    def spec(self) -> dict:
        return yaml.safe_load((self.path / "columns.yaml").read_text())

    def env(self) -> dict[str, str]:
        return generated_env(self.path, self.home)

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / args[0]), *args[1:]], cwd=self.path, env=self.env(),
                              capture_output=True, text=True, timeout=900)

    def product(self, rel: str) -> Path:
        return self.path / "products-smoke" / rel

    def build(self, *args: str) -> subprocess.CompletedProcess:
        result = self.run("ploomber", "build", *args)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        return result

    def features(self) -> list[str]:
        spec = self.spec
        return [c for c in spec["columns"] if c != spec["target"]]


def new_project(tmp: Path, data: str, target: str) -> Project:
    shutil.copy(PUBLIC / data, tmp / data)
    result = subprocess.run([str(BIN / "nbprod"), "new", str(tmp / "project"), "--data",
                             str(tmp / data), "--target", target], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return Project(tmp / "project", tmp / "bentoml-home", result.stdout)


@pytest.fixture(scope="module")
def sms(tmp_path_factory):
    project = new_project(tmp_path_factory.mktemp("sms"), "sms.csv", "label")
    project.build()
    yield project


@pytest.fixture(scope="module")
def covid(tmp_path_factory):
    project = new_project(tmp_path_factory.mktemp("covid"), "dpc-covid19-ita-regioni.csv",
                          "nuovi_positivi")
    declare_split(project, {"group": "denominazione_regione", "test_size": 0.25})
    project.build()
    yield project


def served(project: Project):
    # where `make run` leaves the registration, so `nbprod bento` finds the model
    (project.path / "products/model").mkdir(parents=True, exist_ok=True)
    (project.path / "products/model/registration.json").write_text(
        project.product("model/registration.json").read_text())
    bento = project.run("nbprod", "bento")
    assert bento.returncode == 0, bento.stderr[-3000:]
    return bentoml_serve(bento.stdout.strip().splitlines()[-1], project.path, project.env(),
                         timeout=180)


def records(project: Project, n: int) -> list[dict]:
    test = pd.read_parquet(project.product("data/test.parquet"))
    rows = test[project.features()].head(n).astype(object).to_dict("records")
    return [{k: (None if pd.isna(v) else (v.isoformat() if hasattr(v, "isoformat") else v))
             for k, v in r.items()} for r in rows]


def bad_request(client, record: dict, field: str) -> str:
    resp = client.post("/predict", json={"record": record})
    assert resp.status_code == 400, resp.text
    locs = [d["loc"] for d in resp.json()["detail"]]
    assert locs and all(loc[:2] == ["record", field] for loc in locs), locs
    return resp.text


def test_nbprod_new_infers_text_and_a_dated_range_on_public_files(sms, covid):
    assert sms.spec["columns"]["msg"] == {"kind": "text", "max_length": 800}
    assert "tab-separated" in sms.new_output
    assert covid.spec["columns"]["data"] == {"kind": "datetime", "min": "2020-01-01",
                                             "max": "2030-12-31"}
    assert covid.spec["kind"] == "regression" and "stato" in covid.spec["dropped"]


def test_the_sms_model_answers_as_evaluated_and_refuses_an_over_long_text(sms):
    expected = pd.read_parquet(sms.product("model/test_predictions.parquet"))
    with served(sms) as client:
        for i, record in enumerate(records(sms, 5)):
            resp = client.post("/predict", json={"record": record})
            assert resp.status_code == 200, resp.text
            assert resp.json()["probability"] == pytest.approx(
                expected["probability"].iloc[i], abs=SERVED)
        text = bad_request(client, {"msg": "x" * 801}, "msg")
        assert "800" in text
        bad_request(client, {"msg": 42}, "msg")
    metrics = json.loads(sms.product("model/metrics.json").read_text())
    assert metrics["roc_auc"] > 0.9  # the words tell spam from ham


def test_the_covid_model_answers_and_refuses_a_bad_or_out_of_range_date(covid):
    expected = pd.read_parquet(covid.product("model/test_predictions.parquet"))
    record = records(covid, 1)[0]
    with served(covid) as client:
        resp = client.post("/predict", json={"record": record})
        assert resp.status_code == 200, resp.text
        assert resp.json()["prediction"] == pytest.approx(expected["prediction"].iloc[0],
                                                          rel=SERVED, abs=SERVED)
        bad_request(client, {**record, "data": "24/02/2020"}, "data")
        text = bad_request(client, {**record, "data": "2031-01-01T18:00:00"}, "data")
        assert "from 2020-01-01 to 2030-12-31" in text


def regions(project: Project) -> tuple[set, set]:
    sides = [pd.read_parquet(project.product(f"data/{s}.parquet"))["denominazione_regione"]
             for s in ("train", "test")]
    return set(sides[0].astype(str)), set(sides[1].astype(str))


def test_a_group_split_keeps_regions_apart_and_the_split_seed_redraws_them(covid):
    train, test = regions(covid)
    assert train and test and not train & test
    result = covid.build("--env--split_seed", "7")
    assert {"ingest", "features"} <= tasks_that_ran(result.stdout)
    train7, test7 = regions(covid)
    assert not train7 & test7 and test7 != test


#: her own split, in her package: the last seven days are the test set
SPLITS = '''"""How this project splits its rows."""

import pandas as pd


def last_week(df):
    day = pd.to_datetime(df["data"])
    return (day >= day.max() - pd.Timedelta(days=6)).to_numpy()


def numbers(df):
    return list(range(len(df)))
'''


def declare_split(project: Project, split: dict) -> None:
    spec = project.spec
    spec["split"] = split
    (project.path / "columns.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))


def test_her_split_function_in_her_package_places_the_test_rows(covid):
    package = next(p for p in (covid.path / "src").iterdir() if (p / "__init__.py").is_file())
    (package / "splits.py").write_text(SPLITS)
    declare_split(covid, {"function": f"{package.name}.splits:last_week"})
    covid.build()
    days = [pd.to_datetime(pd.read_parquet(covid.product(f"data/{s}.parquet"))["data"])
            for s in ("train", "test")]
    assert days[0].max() < days[1].min() and (days[1].max() - days[1].min()).days <= 6
    reference = f"{package.name}.splits:numbers"
    declare_split(covid, {"function": reference})
    failed = covid.run("ploomber", "build")
    assert failed.returncode != 0
    assert f"split.function {reference}: returned int64 values" in failed.stdout + failed.stderr
