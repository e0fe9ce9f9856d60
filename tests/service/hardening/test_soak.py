"""The soak benchmark's short version (README "Reliability"; `make soak` runs 60 s)."""

from __future__ import annotations

import json
import subprocess

from projectkit import BIN, ROOT


def test_ten_second_soak_at_64_clients(server):
    result = subprocess.run(
        [str(BIN / "python"), str(ROOT / "benchmarks/soak.py"), "--url", str(server.base_url),
         "--pid", str(server.proc.pid), "--seconds", "10", "--warmup", "3", "--clients", "64"],
        capture_output=True, text=True, timeout=120,
    )
    report = json.loads(result.stdout)
    assert report["requests"] > 100, report
    assert report["server_5xx"] == 0 and report["connection_errors"] == 0, report
    assert report["unexpected"] == 0, report["first_failures"]
    assert report["rss_growth"] < 0.10, report
    assert report["livez_after"] == 200
    assert result.returncode == 0, result.stderr[-2000:]
