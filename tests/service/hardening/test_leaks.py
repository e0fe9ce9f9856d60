"""Customer data stays out of bentos, the model store and the server's log: the prediction
log's folder, one file per server instance, and a full disk."""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
from pathlib import Path

import httpx

from projectkit import BIN, free_port, wait_until

from ..conftest import bentoml_serve

STARTUP = re.compile(r"prediction log of worker \d+: (\S+\.jsonl)")


def log_file(client: httpx.Client, timeout: float = 30) -> Path:
    """The prediction log the server said, at start-up, it writes."""
    found = wait_until(lambda: STARTUP.search(client.log.read_text()), timeout,
                       lambda: "no prediction log named:\n" + client.log.read_text()[-3000:],
                       interval=0.1)
    return Path(found.group(1))


def request_ids(path: Path) -> set[str]:
    files = sorted(path.parent.glob(path.name + "*"))
    return {json.loads(line)["request_id"] for f in files for line in f.read_text().splitlines()}


def wait_logged(path: Path, ids: set[str], timeout: float = 20) -> set[str]:
    def logged() -> set[str]:
        return request_ids(path) if path.exists() else set()

    wait_until(lambda: ids <= logged(), timeout,
               lambda: f"{len(ids - logged())} predictions missing in {path}", interval=0.1)
    return logged()


def predict(client: httpx.Client, rows: list[dict]) -> set[str]:
    answer = client.post("/predict_batch", json={"customers": rows})
    assert answer.status_code == 200, answer.text
    return {a["request_id"] for a in answer.json()}


def test_two_servers_of_a_bento_log_outside_it_and_its_export_holds_no_log(
        project, bento, tmp_path):
    rows, _ = project.test_rows()
    state = tmp_path / "state"  # the default folder: $XDG_STATE_HOME/nbprod/predictions
    env = project.env(XDG_STATE_HOME=str(state))
    env.pop("NBPROD_PREDICTION_LOG_DIR", None)
    with bentoml_serve(bento, tmp_path, env) as first, bentoml_serve(bento, tmp_path, env) as second:
        paths = log_file(first), log_file(second)
        ids = predict(first, rows[:20]), predict(second, rows[20:50])
        logged = [wait_logged(p, i) for p, i in zip(paths, ids, strict=True)]
    default = state / "nbprod" / "predictions"
    own = default / project.tag.partition(":")[0]  # the model's own folder in the shared one
    assert paths[0] != paths[1] and {p.parent for p in paths} == {own}
    assert logged == list(ids), "each server writes its own file, and only its predictions"
    # nothing in the store, the bento or its export
    assert not list(project.home.rglob("predictions*.jsonl*")), "a log in the BentoML home"
    archive = tmp_path / "churn.bento"
    subprocess.run([str(BIN / "bentoml"), "export", bento, str(archive)], env=env, check=True,
                   capture_output=True, timeout=120)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert not [n for n in names if "predictions" in n and ".jsonl" in n or "/logs" in n], names
    # `nbprod drift FOLDER` on the shared folder reads every server's file in the model's own
    drift = subprocess.run(
        [str(BIN / "nbprod"), "drift", str(default), "--model", project.tag, "--min-rows", "1000",
         "--output", str(tmp_path / "drift.html")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert drift.returncode == 0, drift.stdout + drift.stderr
    assert (tmp_path / "drift.html").stat().st_size > 0


def test_a_log_folder_that_is_relative_or_in_the_store_stops_the_server(project, tmp_path):
    (tmp_path / "a-file").write_text("")
    cases = {
        "logs/predictions": "must be an absolute path",
        str(project.home / "logs"): "is inside the BentoML home",
        # once a crash loop of every worker (sqlite could not open its file), /readyz hanging
        str(tmp_path / "a-file" / "logs"): "cannot be written (Not a directory)",
    }
    for folder, message in cases.items():
        result = subprocess.run(
            [str(BIN / "bentoml"), "serve", "nbprod.serving.service:ModelService", "--host", "127.0.0.1",
             "--port", str(free_port())],
            cwd=project.path, env=project.env(NBPROD_PREDICTION_LOG_DIR=folder),
            capture_output=True, text=True, timeout=180)
        assert result.returncode != 0, folder
        assert f"$NBPROD_PREDICTION_LOG_DIR={folder!r} {message}" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and "startup failed" not in result.stderr


def lost_lines(client: httpx.Client) -> float:
    found = re.findall(r"^nbprod_prediction_log_lost_lines_total\{[^}]*\} (\S+)$",
                       client.get("/metrics").text, re.M)
    return sum(map(float, found))


def test_a_full_disk_loses_lines_counted_on_metrics_never_printed(project, customer, tmp_path):
    rows, _ = project.test_rows()
    env = project.env(NBPROD_PREDICTION_LOG_DIR=str(tmp_path / "logs"))
    with bentoml_serve("nbprod.serving.service:ModelService", project.path, env) as client:
        path = log_file(client)
        assert not path.exists(), "the file opens with the first prediction"
        path.symlink_to("/dev/full")  # every write fails: ENOSPC, as on a full disk
        answers = [client.post("/predict_batch", json={"customers": rows[:40]})
                   for _ in range(10)]
        answers += [client.post("/predict", json={"customer": customer}) for _ in range(20)]
        assert [a.status_code for a in answers] == [200] * 30, "serving goes on"
        wait_until(lambda: lost_lines(client) >= 420, 20,
                   lambda: f"{lost_lines(client)} lost lines on /metrics", interval=0.1)
        assert lost_lines(client) == 420
        path.unlink()  # room again: the log goes on
        later = predict(client, rows[:3])
        wait_logged(path, later)
        server_log = client.log.read_text()
    warnings = [line for line in server_log.splitlines() if "line(s) lost" in line]
    assert 1 <= len(warnings) <= 3 and "No space left on device" in warnings[0], warnings
    assert "Traceback" not in server_log and '"inputs"' not in server_log
    assert customer["payment_method"] not in server_log.replace("payment_method", "")
