"""The Prometheus folder workaround (nbprod.compat.bentoml_metrics): BentoML empties the
shared folder at every server start (the canary), and a worker given its server's own folder
keeps its files whatever another server starts. The two real servers: tests/service/hardening/
test_two_servers.py."""

from __future__ import annotations

import subprocess
import sys

from bentoml.serving import ensure_prometheus_dir

from nbprod.compat.bentoml_metrics import ENV, own_metrics_folder


def test_a_server_start_empties_the_folder_a_live_server_writes_to(tmp_path):
    """The canary: fails the day BentoML stops wiping the folder (drop the patch then)."""
    shared = tmp_path / "prometheus_multiproc_dir"
    shared.mkdir()
    (shared / "counter_4242.db").write_bytes(b"a live worker's counters")
    assert ensure_prometheus_dir(str(shared)) == str(shared)
    assert list(shared.iterdir()) == []


def test_a_worker_writes_to_its_servers_own_folder_which_a_new_server_leaves_alone(tmp_path):
    shared = tmp_path / "prometheus_multiproc_dir"
    shared.mkdir()
    environ = {ENV: str(shared)}
    own = own_metrics_folder(environ, ["worker", "--fd", "3"], server=4242)
    assert own == tmp_path / "prometheus_multiproc_dir.server-4242"
    assert environ[ENV] == str(own) and own.is_dir()
    (own / "counter_77.db").write_bytes(b"counters")
    ensure_prometheus_dir(str(shared))  # another server starts on the same store
    assert (own / "counter_77.db").read_bytes() == b"counters"
    assert own_metrics_folder(environ, ["worker", "--fd", "3"], server=9) == own  # idempotent


def test_folders_of_gone_servers_are_removed_and_a_live_ones_kept(tmp_path):
    shared = tmp_path / "prometheus_multiproc_dir"
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = tmp_path / f"prometheus_multiproc_dir.server-{gone.pid}"
    live = tmp_path / "prometheus_multiproc_dir.server-1"  # init: always running
    for folder in (stale, live):
        folder.mkdir()
        (folder / "counter_1.db").write_bytes(b"x")
    own_metrics_folder({ENV: str(shared)}, ["worker", "--fd", "3"], server=4242)
    assert not stale.exists()
    assert (live / "counter_1.db").exists()


def test_nothing_changes_outside_a_served_worker(tmp_path):
    environ = {ENV: str(tmp_path)}
    assert own_metrics_folder(environ, ["python", "-m", "pytest"]) is None
    assert environ == {ENV: str(tmp_path)}
    assert own_metrics_folder({}, ["worker", "--fd", "3"]) is None
