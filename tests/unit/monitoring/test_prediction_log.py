"""nbprod.monitoring.prediction_log: where the log may live, rotation, and a full disk (/dev/full)."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nbprod.errors import ConfigError
from nbprod.monitoring.prediction_log import (
    PredictionLog,
    check_log_dir,
    default_log_dir,
    instance_name,
)

LINES = [json.dumps({"request_id": str(i), "inputs": {"tenure": 1000 + i}}) for i in range(40)]


def test_the_default_folder_is_the_users_state_folder(tmp_path):
    assert default_log_dir({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "nbprod/predictions"
    assert default_log_dir({}) == Path.home() / ".local/state/nbprod/predictions"
    assert default_log_dir({"XDG_STATE_HOME": "relative"}) == default_log_dir({})


def test_a_folder_in_the_store_a_bento_or_relative_is_refused(tmp_path):
    store = tmp_path / "bentoml"
    with pytest.raises(ConfigError, match="must be an absolute path"):
        check_log_dir(Path("logs/predictions"), store)
    with pytest.raises(ConfigError, match="inside the BentoML home"):
        check_log_dir(store / "bentos/churn/v1/src/logs", store)
    bento = tmp_path / "exported"
    bento.mkdir()
    (bento / "bento.yaml").write_text("service: x\n")
    with pytest.raises(ConfigError, match="inside the bento"):
        check_log_dir(bento / "src/logs", store)
    assert check_log_dir(tmp_path / "logs", store) == (tmp_path / "logs").resolve()


def test_each_server_instance_has_its_own_file():
    started = datetime(2026, 12, 1, 21, 0, 5, tzinfo=UTC)
    assert instance_name(started, 41) == "predictions-20261201T210005Z-41.jsonl"
    assert instance_name(started, 41) != instance_name(started, 42)
    assert str(os.getpid()) in instance_name()


def test_rotates_by_size_and_loses_nothing(tmp_path):
    log = PredictionLog(tmp_path, max_bytes=4000, backups=100)
    lines = [json.dumps({"request_id": str(i), "pad": "x" * 80}) for i in range(100)]
    log.write(lines)
    log.close()
    files = sorted(tmp_path.glob(f"{log.path.name}*"))
    assert len(files) > 2 and all(f.stat().st_size <= 4000 for f in files)
    written = {json.loads(line)["request_id"] for f in files for line in f.read_text().splitlines()}
    assert written == {str(i) for i in range(100)}
    assert log.lost == 0


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_counts_lost_lines_and_never_prints_them(tmp_path, caplog, capfd):
    lost = []
    log = PredictionLog(tmp_path, max_bytes=10_000, backups=3, on_lost=lost.append)
    log.path.symlink_to("/dev/full")  # every write: ENOSPC, "No space left on device"
    with caplog.at_level(logging.WARNING, logger="nbprod.monitoring.prediction_log"):
        log.write(LINES)
        log.write(LINES[:5])
    assert log.lost == 45 and sum(lost) == 45
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1, "one warning per WARN_EVERY seconds, not one per write"
    assert "16 line(s) lost" in warnings[0] and "No space left on device" in warnings[0]
    out, err = capfd.readouterr()
    assert "tenure" not in out + err + caplog.text and "request_id" not in caplog.text
    # the disk has room again: writing goes on where it was
    log.path.unlink()
    log.write(LINES[:2])
    log.close()
    assert [json.loads(x)["request_id"] for x in log.path.read_text().splitlines()] == ["0", "1"]
