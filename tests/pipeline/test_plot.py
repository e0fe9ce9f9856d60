"""`nbprod plot` (`make plot`): the DAG with each task's status, drawn offline and looked
at in a real headless chromium, which must make no network request for it."""

from __future__ import annotations

import io
import json
import re
import subprocess

import numpy as np
import pytest
from browser import network_requests, visit

from projectkit import BIN, TASKS, build_env, ploomber_build, smoke_build

pytestmark = pytest.mark.pipeline

PROBES = {
    "status": "Object.fromEntries([...document.querySelectorAll('g.task')]"
              ".map(g => [g.dataset.task, g.dataset.status]))",
    "drawn": "[...document.querySelectorAll('g.task rect')]"
             ".every(r => r.getBoundingClientRect().width > 50)",
    "edges": "document.querySelectorAll('path.edge').length",
    "links": "Object.fromEntries([...document.querySelectorAll('g.task')]"
             ".map(g => [g.dataset.task, g.closest('a') && "
             "new URL(g.closest('a').getAttribute('href'), document.baseURI).href]))",
}


def plot(project, home, out):
    result = subprocess.run([str(BIN / "nbprod"), "plot", "--output", str(out)], cwd=project,
                            env=build_env(home), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def break_notebook(path):
    nb = json.loads(path.read_text())
    nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "boom",
                        "metadata": {}, "outputs": [], "source": ["raise RuntimeError('boom')"]})
    path.write_text(json.dumps(nb, indent=1))


def colour_share(png: bytes, hex_colour: str) -> float:
    import matplotlib.image

    pixels = (matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3] * 255).round()
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return float((np.abs(pixels - rgb).max(axis=-1) <= 2).mean())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return smoke_build(tmp_path_factory.mktemp("plot"))


def test_the_picture_shows_up_to_date_outdated_and_failed_offline(built, tmp_path):
    project, home, _ = built
    out = plot(project, home, tmp_path / "fresh.html")
    assert "6 up to date, 0 outdated, 0 failed" in out
    fresh = visit((tmp_path / "fresh.html").as_uri(), PROBES)
    assert fresh.values["status"] == dict.fromkeys(TASKS, "up to date")

    break_notebook(project / "notebooks" / "evaluate.ipynb")
    failed = ploomber_build(project, home)
    assert failed.returncode != 0 and "boom" in failed.stdout + failed.stderr
    out = plot(project, home, tmp_path / "failed.html")
    assert "3 up to date, 2 outdated, 1 failed" in out
    # why each task would run, and when it last ran, as `ploomber status` says
    assert re.search(r"evaluate\s+failed\s+.*: its last run failed", out)
    assert re.search(r"register\s+outdated\s+.*: .*upstream evaluate will run", out)
    assert re.search(r"ingest\s+up to date\s+last run .* UTC\n", out)

    seen = visit((tmp_path / "failed.html").as_uri(), PROBES)
    assert network_requests(seen) == []  # nothing asked of the network
    assert seen.requests == [(tmp_path / "failed.html").as_uri()]
    assert seen.values["status"] == {
        "ingest": "up to date", "features": "up to date", "train": "up to date",
        "evaluate": "failed", "register": "outdated", "score": "outdated",
    }
    assert seen.values["drawn"] is True and seen.values["edges"] >= 5
    # each box links its task's report: the failed run's page for the failed task
    reports = project / "products-smoke" / "reports"
    assert seen.values["links"]["train"] == (reports / "train.html").as_uri()
    assert seen.values["links"]["evaluate"] == (reports / "evaluate.failed.html").as_uri()
    assert "<td>its last run failed; " in (tmp_path / "failed.html").read_text()
    # the pixels on screen: green, amber and red boxes
    for fill in ("#d9f2d9", "#fff3cd", "#f8d7da"):
        assert colour_share(seen.screenshot, fill) > 0.002, fill
    (tmp_path / "failed.png").write_bytes(seen.screenshot)


def test_ploomber_s_own_d3_picture_needs_the_network(built, tmp_path):
    """Why `make plot` no longer uses it: the check above sees a page's CDN requests."""
    project, home, _ = built
    out = tmp_path / "d3.html"
    result = subprocess.run([str(BIN / "ploomber"), "plot", "--backend", "d3", "--output", str(out)],
                            cwd=project, env=build_env(home), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    requests = network_requests(visit(out.as_uri()))
    assert requests and all(u.startswith("https://") for u in requests), requests
