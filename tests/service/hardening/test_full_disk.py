"""A disk that fills up under a running server: `/feedback` answers 503 with `Retry-After`,
records nothing, and takes the same labels once there is room again (it was a 500 with a
traceback).

The full disk is real to the server's worker: after start, the test lowers the worker's
file-size limit (RLIMIT_FSIZE, set with prlimit(2) on the running process) to the size the
feedback ledger's write-ahead log has reached, so the next label's write fails in the kernel
(EFBIG) as a write to a full disk fails (ENOSPC): SQLite reports an I/O error either way. A
real full filesystem needs a mount, which a test cannot make without root.
"""

from __future__ import annotations

import resource

import psutil

from projectkit import wait_for_text

from ..conftest import bentoml_serve

SERVICE = "nbprod.serving.service:ModelService"


def limit_file_size(server_pid: int, size: int) -> None:
    """Set the soft file-size limit of the server's workers (the hard one stays)."""
    for worker in psutil.Process(server_pid).children(recursive=True):
        _, hard = resource.prlimit(worker.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(worker.pid, resource.RLIMIT_FSIZE, (size, hard))


def test_a_full_disk_gives_feedback_a_503_with_retry_after_and_records_nothing(
        project, customer, tmp_path):
    logs = tmp_path / "logs"
    env = project.env(NBPROD_PREDICTION_LOG_DIR=str(logs))
    with bentoml_serve(SERVICE, project.path, env) as client:
        answers = client.post("/predict_batch", json={"customers": [customer] * 3}).json()
        first, second, third = (a["request_id"] for a in answers)
        ok = client.post("/feedback", json={"labels": [{"request_id": first, "churn": 1}]})
        assert ok.status_code == 200, ok.text
        (wal,) = logs.rglob("feedback.sqlite-wal")  # in the model's own folder of the log
        limit_file_size(client.proc.pid, wal.stat().st_size)  # the disk is full from here

        full = client.post("/feedback", json={"labels": [{"request_id": second, "churn": 0},
                                                         {"request_id": third, "churn": 1}]})
        assert full.status_code == 503, full.text
        assert int(full.headers["retry-after"]) > 0
        assert "no label was recorded" in full.json()["error"]
        assert client.get("/readyz").status_code == 200

        limit_file_size(client.proc.pid, resource.RLIM_INFINITY)  # room again
        again = client.post("/feedback", json={"labels": [{"request_id": second, "churn": 0},
                                                          {"request_id": third, "churn": 1}]})
        assert again.status_code == 200, again.text
        assert again.json()["accepted"] == 2
        log = wait_for_text(client.log, "feedback ledger")
    assert "Traceback" not in log, log[-3000:]
    assert log.count("cannot be written") == 1, log[-3000:]
