"""Apache Airflow 3 (its own environment, build/engines/airflow) imports the DAG that
`nbprod export airflow` writes and runs it with `airflow dags test` on the smoke data:
a temporary AIRFLOW_HOME with SQLite, no example DAGs, no server, each task running the
pipeline task in this project's environment with a temporary BENTOML_HOME."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
import yaml

from enginekit import engine_bin, upstream_of_pipeline
from projectkit import BIN, copy_project, models_in

# Each run takes minutes on a loaded 2-core machine (every task renders the whole pipeline).
pytestmark = [pytest.mark.engines, pytest.mark.pipeline, pytest.mark.timeout(3600)]

FIXTURES = Path(__file__).parent / "fixtures"
# retries as configured in export.yaml; a short delay keeps the test quick
EXPORT = {"name": "nbprod", "retries": 1, "retry_delay_seconds": 1}


def airflow_project(dest: Path, broken_estimator: bool = False) -> Path:
    """A copy of the project with the `flaky` task added, exported with `--local`."""
    project = copy_project(dest)
    shutil.copy2(FIXTURES / "flaky.py", project / "notebooks" / "flaky.py")
    spec = yaml.safe_load((project / "pipeline.yaml").read_text())
    spec["tasks"].append({
        "source": "notebooks/flaky.py", "name": "flaky", "executor": "{{executor}}",
        "product": {"nb": "{{products}}/reports/flaky.ipynb"},
        "params": {"marker": str(dest / "flaky-failed-once")},
    })
    (project / "pipeline.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    if broken_estimator:  # train fails on every try
        env = yaml.safe_load((project / "env.smoke.yaml").read_text())
        env["estimator"] = "no_such_estimator"
        (project / "env.smoke.yaml").write_text(yaml.safe_dump(env, sort_keys=False))
    (project / "export.yaml").write_text(yaml.safe_dump(EXPORT))
    result = subprocess.run([str(BIN / "nbprod"), "export", "airflow", "--local"], cwd=project,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return project


def airflow_env(home: Path, project: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NBPROD_"))}
    env.update(
        AIRFLOW_HOME=str(home / "airflow"),
        AIRFLOW__CORE__DAGS_FOLDER=str(project / "airflow"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow' / 'airflow.db'}",
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        BENTOML_HOME=str(home / "bentoml"),
        PLOOMBER_ENV_FILENAME="env.smoke.yaml",
        BENTOML_DO_NOT_TRACK="true",
        PLOOMBER_STATS_ENABLED="false",
        SCARF_ANALYTICS="false",
        AIRFLOW__CORE__ANALYTICS_TELEMETRY="False",
    )
    return env


def airflow(env: dict[str, str], *args: str, timeout: int = 1200) -> subprocess.CompletedProcess:
    return subprocess.run([str(engine_bin("airflow", "airflow")), *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def run_states(env: dict[str, str]) -> list[tuple[str, dict[str, tuple[str, int]]]]:
    """Each DAG run's state and its tasks' (state, try number), oldest first, from Airflow's DB."""
    with sqlite3.connect(Path(env["AIRFLOW_HOME"]) / "airflow.db") as db:
        runs = db.execute("SELECT run_id, state FROM dag_run WHERE dag_id = 'nbprod' "
                          "ORDER BY id").fetchall()
        return [(state, {task: (ti_state, tries) for task, ti_state, tries in db.execute(
            "SELECT task_id, state, try_number FROM task_instance WHERE run_id = ?", (run_id,))})
            for run_id, state in runs]


def dag_test(env: dict[str, str]) -> subprocess.CompletedProcess:
    result = airflow(env, "dags", "test", "nbprod")
    (Path(env["AIRFLOW_HOME"]) / f"dags-test-{len(run_states(env))}.log").write_text(
        result.stdout + result.stderr)
    return result


@pytest.fixture(scope="module")
def airflow_runs(tmp_path_factory):
    """Two `airflow dags test` runs of the DAG: (project, env, result of each run)."""
    home = tmp_path_factory.mktemp("airflow-ok")
    project = airflow_project(home / "nbprod")
    env = airflow_env(home, project)
    migrated = airflow(env, "db", "migrate", timeout=600)
    assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
    first = dag_test(env)
    notebooks = {p.name: p.stat().st_mtime_ns for p in (project / "products-smoke/reports").glob("*.ipynb")}
    second = dag_test(env)
    return project, env, (first, second), notebooks


def test_airflow_imports_the_dag_in_both_modes_without_warnings(tmp_path):
    """Airflow's own DagBag loads the exported file (warnings are errors): one task per
    pipeline task, with the pipeline's dependencies, as BashOperator or KubernetesPodOperator."""
    project = airflow_project(tmp_path / "nbprod")
    env = airflow_env(tmp_path, project)
    script = (
        "import json, sys, warnings\n"
        "warnings.simplefilter('error')\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        "bag = DagBag(dag_folder=sys.argv[1])\n"
        "dag = bag.dags['nbprod']\n"
        "print(json.dumps({'errors': {str(k): str(v) for k, v in bag.import_errors.items()},\n"
        "  'warnings': {str(k): list(v) for k, v in bag.captured_warnings.items()},\n"
        "  'tasks': {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks},\n"
        "  'kinds': sorted({type(t).__name__ for t in dag.tasks}),\n"
        "  'retries': sorted({t.retries for t in dag.tasks}),\n"
        "  'images': sorted({str(getattr(t, 'image', '')) for t in dag.tasks})}))\n"
    )
    expected = {name: sorted(up) for name, up in upstream_of_pipeline(project).items()}
    assert "flaky" in expected and expected["evaluate"] == ["features", "train"]
    for run, kind in (("local", "BashOperator"), ("kubernetes", "KubernetesPodOperator")):
        result = subprocess.run(
            [str(engine_bin("airflow", "python")), "-W", "error", "-c", script,
             str(project / "airflow")],
            env={**env, "NBPROD_AIRFLOW_RUN": run}, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        seen = json.loads(result.stdout.strip().splitlines()[-1])
        assert seen["errors"] == {} and seen["warnings"] == {}, run
        assert seen["tasks"] == expected and seen["kinds"] == [kind], run
        assert seen["retries"] == [EXPORT["retries"]]
        if run == "kubernetes":
            assert seen["images"] == ["nbprod:latest"]


def test_airflow_runs_every_task_and_registers_the_model(airflow_runs):
    project, env, (first, _), _ = airflow_runs
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    (state, tasks), _ = run_states(env)
    assert state == "success"
    assert set(tasks) == set(upstream_of_pipeline(project))
    assert {name: s for name, (s, _) in tasks.items()} == dict.fromkeys(tasks, "success")
    # the flaky task failed its first try and Airflow retried it as configured (retries: 1)
    assert tasks["flaky"][1] == 2 and (Path(env["AIRFLOW_HOME"]).parent / "nbprod/flaky-failed-once").exists()
    assert {t for t, (_, tries) in tasks.items() if tries != 1} == {"flaky"}
    assert "flaky: failing on purpose on the first try" in first.stdout + first.stderr
    registered = models_in(Path(env["BENTOML_HOME"]))
    assert len(registered) == 1
    registration = json.loads((project / "products-smoke/model/registration.json").read_text())
    assert registration["tag"] == registered[0]
    # the smoke parameters reached the tasks (600-row sample)
    ingest = json.loads((project / "products-smoke/reports/ingest.ipynb").read_text())
    assert any("sample_rows = 600" in "".join(c["source"]) for c in ingest["cells"])


def test_a_second_airflow_run_skips_what_is_up_to_date(airflow_runs):
    project, env, (_, second), before = airflow_runs
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-4000:]
    _, (state, tasks) = run_states(env)
    assert state == "success"
    assert {s for s, _ in tasks.values()} == {"success"}
    after = {p.name: p.stat().st_mtime_ns for p in (project / "products-smoke/reports").glob("*.ipynb")}
    assert after == before and len(after) == len(tasks)  # no notebook ran again
    assert len(models_in(Path(env["BENTOML_HOME"]))) == 1  # and no second model


def test_a_task_failing_on_every_try_stops_its_downstream_and_registers_nothing(tmp_path):
    project = airflow_project(tmp_path / "nbprod", broken_estimator=True)
    env = airflow_env(tmp_path, project)
    migrated = airflow(env, "db", "migrate", timeout=600)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    result = dag_test(env)
    ((state, tasks),) = run_states(env)
    assert state == "failed", result.stdout[-3000:]
    assert tasks["train"] == ("failed", 2)  # the first try and the one retry
    assert "no_such_estimator" in result.stdout + result.stderr
    for downstream in ("evaluate", "register", "score"):
        assert tasks[downstream] == ("upstream_failed", 0), downstream
    assert tasks["ingest"][0] == tasks["features"][0] == "success"
    assert models_in(Path(env["BENTOML_HOME"])) == []
    assert not (project / "products-smoke/model/registration.json").exists()
    assert not (project / "products-smoke/reports/register.ipynb").exists()
