"""No key beyond loopback, whichever way BentoML is told the host."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor

import httpx

from projectkit import BIN, free_port

from ..conftest import bentoml_serve

REFUSED = "refusing to serve on 0.0.0.0"


def _serve(project, tmp_path, args: list[str], **env: str) -> tuple[int, str, str]:
    environ = project.env(**env)
    environ.pop("NBPROD_API_KEY", None)
    port = free_port()
    result = subprocess.run(
        [str(BIN / "bentoml"), "serve", "nbprod.serving.service:ModelService", "--port", str(port), *args],
        cwd=project.path, env=environ, capture_output=True, text=True, timeout=180,
    )
    try:  # nothing ever listened there
        answer = str(httpx.post(f"http://127.0.0.1:{port}/metadata", json={}, timeout=2)
                     .status_code)
    except httpx.TransportError:
        answer = "refused"
    return result.returncode, result.stdout + result.stderr, answer


def test_every_way_of_binding_beyond_loopback_without_a_key_is_refused(project, tmp_path):
    config = tmp_path / "bentoml.yaml"
    config.write_text("services:\n  churn:\n    http:\n      host: 0.0.0.0\n")
    cases = {
        "--host 0.0.0.0": (["--host", "0.0.0.0"], {}),
        "--host twice, the last beyond loopback": (["--host", "127.0.0.1", "--host", "0.0.0.0"],
                                                   {}),
        "$BENTOML_HOST": ([], {"BENTOML_HOST": "0.0.0.0"}),
        "$BENTOML_CONFIG_OPTIONS": ([], {"BENTOML_CONFIG_OPTIONS":
                                         "services.churn.http.host=0.0.0.0"}),
        "$BENTOML_CONFIG file": ([], {"BENTOML_CONFIG": str(config)}),
    }
    with ThreadPoolExecutor(2) as pool:
        results = dict(zip(cases, pool.map(lambda c: _serve(project, tmp_path, c[0], **c[1]),
                                           cases.values()), strict=True))
    for case, (code, output, answer) in results.items():
        assert code != 0, (case, output[-2000:])
        assert f"{REFUSED} " in output and "without an API key: set $NBPROD_API_KEY" in output, (
            case, output[-2000:])
        assert answer == "refused", case
    assert "(from the BentoML configuration)" in results["$BENTOML_CONFIG file"][1]
    assert "(from --host)" in results["--host twice, the last beyond loopback"][1]


def test_a_loopback_command_line_wins_over_the_configuration(project):
    # bentoml_serve passes --host 127.0.0.1 last: the server binds loopback, and the worker,
    # which sees the configuration's 0.0.0.0 in its environment, reads its real socket
    env = project.env(BENTOML_CONFIG_OPTIONS="services.churn.http.host=0.0.0.0")
    env.pop("NBPROD_API_KEY", None)
    with bentoml_serve("nbprod.serving.service:ModelService", project.path, env) as client:
        assert client.post("/metadata", json={}).status_code == 200
        assert "Service churn initialized" in client.log.read_text()


def test_a_bento_served_by_tag_beyond_loopback_is_refused_in_one_line(project, bento):
    """`bentoml serve churn:TAG` where a module `churn` is importable (the project's own
    package): the refusal was buried under BentoML's `Attribute ... not found in module`."""
    environ = project.env()
    environ.pop("NBPROD_API_KEY", None)
    result = subprocess.run(
        [str(BIN / "bentoml"), "serve", bento, "--host", "0.0.0.0", "--port", str(free_port())],
        cwd=project.path, env=environ, capture_output=True, text=True, timeout=180)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-2000:]
    assert f"error: {REFUSED} (from --host) without an API key" in output, output[-2000:]
    assert "not found in module" not in output and "Traceback" not in output, output[-2000:]
