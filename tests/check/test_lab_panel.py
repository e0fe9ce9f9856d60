"""nbprod's panel in JupyterLab with real parts: a smoke-built project, a real `jupyter lab`
started with the flags of `make lab` (the panel's server extension, its prebuilt front end,
the project's jupyter/ config folder), real HTTP with the token, and headless Chromium.

The API tests run in order on one project: a task built alone makes what depends on it
outdated; a build of the pipeline brings everything up to date again and registers a
second version, which the comparison page sets against the first."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from labkit import PANEL_FLAGS, jupyter_lab
from projectkit import ROOT, TASKS, build_env, smoke_build, wait_until

pytestmark = pytest.mark.pipeline


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The panel's Lab on a smoke-built project: (project, url, token)."""
    project, home, _ = smoke_build(tmp_path_factory.mktemp("panel"))
    env = dict(build_env(home), JUPYTER_CONFIG_PATH=str(project / "jupyter"))
    scratch = tmp_path_factory.mktemp("panel-lab")
    with jupyter_lab(project, env, scratch, flags=tuple(PANEL_FLAGS)) as (url, token):
        yield project, url, token


def api(lab, method: str, route: str, **kwargs) -> requests.Response:
    _, url, token = lab
    return requests.request(method, f"{url}/nbprod/{route}", timeout=120,
                            headers={"Authorization": f"token {token}"}, **kwargs)


def wait_for_build(lab, timeout: float = 300) -> dict:
    def finished():
        build = api(lab, "GET", "build").json()["build"]
        return build if not build["running"] else None

    return wait_until(finished, timeout, "the build did not finish", interval=0.5)


def statuses(lab) -> dict[str, str]:
    answer = api(lab, "GET", "status")
    assert answer.status_code == 200, answer.text
    return {t["name"]: t["status"] for t in answer.json()["tasks"]}


def test_the_api_answers_only_with_lab_s_token(lab):
    _, url, _ = lab
    assert requests.get(f"{url}/nbprod/status", timeout=30).status_code == 403
    assert requests.get(f"{url}/nbprod/status", params={"token": "wrong"},
                        timeout=30).status_code == 403
    assert requests.post(f"{url}/nbprod/build", json={}, timeout=30).status_code == 403


def test_status_lists_the_tasks_up_to_date_with_their_reports(lab):
    project, _, _ = lab
    answer = api(lab, "GET", "status").json()
    assert [t["name"] for t in answer["tasks"]] == TASKS
    assert {t["status"] for t in answer["tasks"]} == {"up to date"}
    assert all(t["last_run"].endswith("UTC") for t in answer["tasks"])
    train = next(t for t in answer["tasks"] if t["name"] == "train")
    assert train["upstream"] == ["features"] and train["report"].endswith("train.html")
    assert (project / train["report"]).is_file()
    assert answer["index"].endswith("reports/index.html") and (project / answer["index"]).is_file()
    assert answer["build"] is None


def test_one_task_builds_alone_and_what_depends_on_it_is_outdated(lab):
    assert api(lab, "POST", "build", json={"task": "nope"}).status_code == 409
    started = api(lab, "POST", "build", json={"task": "features"})
    assert started.status_code == 200, started.text
    assert started.json()["build"]["command"] == "ploomber task features --force"
    again = api(lab, "POST", "build", json={})
    assert again.status_code == 409 and "a build is running" in again.json()["error"]
    build = wait_for_build(lab)
    assert build["returncode"] == 0, build["output"]
    found = statuses(lab)
    assert found["ingest"] == found["features"] == "up to date", found
    assert {found[t] for t in ("train", "evaluate", "register", "score")} == {"outdated"}


def test_the_pipeline_builds_and_a_second_version_is_compared(lab):
    project, _, _ = lab
    before = api(lab, "GET", "models").json()
    assert before["name"] == "telco_churn" and len(before["versions"]) == 1
    assert api(lab, "POST", "build", json={}).status_code == 200
    build = wait_for_build(lab)
    assert build["returncode"] == 0, build["output"]
    assert set(statuses(lab).values()) == {"up to date"}
    after = api(lab, "GET", "models").json()
    assert len(after["versions"]) == 2
    assert after["metrics"] and after["versions"][0]["metrics"][after["metrics"][0]] is not None
    page = api(lab, "POST", "compare")
    assert page.status_code == 200, page.text
    compare = project / page.json()["page"]
    assert compare.name == "compare.html" and compare.is_file()
    assert after["versions"][0]["version"] in compare.read_text()
    assert api(lab, "GET", "status").json()["compare"] == page.json()["page"]


def test_the_wheel_carries_the_prebuilt_panel_and_its_server_config():
    """pyproject's data-files put the built front end where JupyterLab finds prebuilt
    extensions, and the config that enables the server extension."""
    import json
    import tomllib

    data_files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "data-files"]
    shipped = {dest: sorted(p for pattern in sources for p in ROOT.glob(pattern))
               for dest, sources in data_files.items()}
    package = json.loads(shipped["share/jupyter/labextensions/nbprod"][0].read_text())
    assert package["name"] == "nbprod"
    entry = Path(package["jupyterlab"]["_build"]["load"])
    assert entry.name in {p.name for p in shipped["share/jupyter/labextensions/nbprod/static"]}
    (config,) = shipped["etc/jupyter/jupyter_server_config.d"]
    assert json.loads(config.read_text()) == {
        "ServerApp": {"jpserver_extensions": {"nbprod.pipeline.lab_panel": True}}}
    assert not any("node_modules" in str(p) for paths in shipped.values() for p in paths)


def test_api_build_output_is_kept(lab):
    build = api(lab, "GET", "build").json()["build"]
    assert build["command"] == "ploomber build" and build["finished"] <= time.time()
    assert "register" in build["output"]


def press(page, key_code: int, modifiers: int = 0, key: str = "") -> None:
    """A real key press (DevTools input), as Lab's keyboard shortcuts see one."""
    for kind in ("rawKeyDown", "keyUp"):
        page.call("Input.dispatchKeyEvent", type=kind, windowsVirtualKeyCode=key_code,
                  modifiers=modifiers, key=key)


def run_from_palette(page, text: str) -> str:
    """Open the command palette (Ctrl+Shift+C), type ``text``, click the item naming an
    nbprod command, and answer its text once the panel is there. Tried three times: the
    palette closes when the notebook takes the focus back while it opens (its kernel
    starting)."""
    item = "(() => { const e = [...document.querySelectorAll('.lm-CommandPalette-item')]" \
        ".find(e => e.textContent.includes('nbprod:')); if (!e) return null; " \
        "const r = e.getBoundingClientRect(); " \
        "return [e.textContent, r.x + r.width / 2, r.y + r.height / 2]; })()"
    for _ in range(3):
        press(page, 67, modifiers=2 | 8, key="C")
        page.wait_for("document.activeElement?.classList.contains('lm-CommandPalette-input')")
        # focus again (the notebook may have taken it back); typing replaces an earlier query
        page.evaluate("(e => { e.focus(); e.select(); return 1; })("
                      "document.querySelector('.lm-CommandPalette-input'))")
        page.call("Input.insertText", text=text)
        try:
            label, x, y = page.wait_for(item, 10)
            for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
                page.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left",
                          clickCount=1)
            page.wait_for("!!document.getElementById('nbprod-pipeline')", 10)
            return label
        except AssertionError:
            press(page, 27, key="Escape")
    raise AssertionError(f"the palette did not run an nbprod command for {text!r}")


def mark(selector: str, text: str, cls: str) -> str:
    """JS: give the first ``selector`` element whose text is ``text`` the class ``cls``
    (true when there is one), for a click on it."""
    return (f"(() => {{ const e = [...document.querySelectorAll('{selector}')].find("
            f"e => e.textContent.trim() === '{text}'); if (e) e.classList.add('{cls}'); "
            "return !!e; })()")


def test_the_panel_in_a_real_browser(lab, tmp_path):
    """The command from the palette opens the panel; it lists the tasks with their status,
    a task's Build button runs it to the end, the links open the reports; the notebook's
    toolbar has no Share button; no request leaves the machine."""
    from browser import devtools

    project, url, token = lab
    with devtools(1400, 900, timeout=120) as page:
        page.navigate(f"{url}/lab/tree/notebooks/train.ipynb?token={token}")
        page.wait_for("!!document.querySelector('.jp-NotebookPanel-toolbar .jp-Toolbar-item')", 120)
        page.drain(2)
        assert page.evaluate("!!document.querySelector('.jp-NotebookPanel')")
        assert not page.evaluate("!!document.querySelector('[data-testid=share-btn]')")
        # no "get notified about Jupyter news?" either (jupyter/labconfig: fetchNews off)
        assert not page.evaluate("document.body.textContent.includes('Jupyter news')")
        disabled = page.evaluate("JSON.parse(document.getElementById('jupyter-config-data')"
                                 ".textContent).disabledExtensions")
        assert "ploomber-extension" in disabled

        item = run_from_palette(page, "nbprod")
        assert "pipeline, builds, reports and models" in item
        rows = page.wait_for("document.querySelectorAll('.nbprod-task').length === 6 && "
                             "[...document.querySelectorAll('.nbprod-task')].map("
                             "r => [r.dataset.task, r.dataset.status])", 120)
        assert [name for name, _ in rows] == TASKS
        assert {status for _, status in rows} == {"up to date"}, rows

        page.click(".nbprod-build-task[data-task=evaluate]")
        page.wait_for("document.querySelector('.nbprod-output')?.dataset.state === 'running'", 30)
        page.wait_for("document.querySelector('.nbprod-output')?.dataset.state === 'finished'", 300)
        after = dict(page.wait_for(
            "[...document.querySelectorAll('.nbprod-task')].map(r => [r.dataset.task, r.dataset.status])"))
        assert after["evaluate"] == "up to date" and after["register"] == "outdated", after
        assert "ploomber task evaluate --force: finished" in page.evaluate(
            "document.querySelector('.nbprod-output').textContent")

        index = page.evaluate("document.querySelector('a.nbprod-index').href")
        assert index.startswith(url) and index.endswith("/reports/index.html")
        assert page.evaluate(f"fetch({index!r}).then(r => r.status)") == 200
        page.click(".nbprod-models-button")
        versions = page.wait_for("document.querySelectorAll('.nbprod-version').length")
        assert versions == len(api(lab, "GET", "models").json()["versions"])
        page.drain(1)
        shot = page.screenshot()
        (tmp_path / "lab_panel.png").write_bytes(shot)
        assert shot.startswith(b"\x89PNG") and len(shot) > 20_000
        # the tab bar's "+" opens the launcher, whose "nbprod" card opens the panel
        page.click(".lm-TabBar-addButton:not(.lm-mod-hidden)")
        page.wait_for(mark(".lm-TabBar-tab", "Launcher", "t-launcher"))
        page.click(".t-launcher")
        page.wait_for(mark(".jp-LauncherCard", "nbprod", "t-card"))
        page.wait_for("document.querySelector('.t-card').getBoundingClientRect().width > 0")
        shown = "!document.getElementById('nbprod-pipeline').classList.contains('lm-mod-hidden')"
        assert not page.evaluate(shown)  # the launcher is in front of the panel
        page.click(".t-card")
        page.wait_for(shown, 60)
        outside = [u for u in page.requests
                   if not u.startswith((url, url.replace("http", "ws"), "data:", "blob:"))]
        assert outside == [], outside
