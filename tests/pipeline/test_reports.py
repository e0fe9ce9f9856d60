"""The executed reports of a real smoke `ploomber build`: no machine paths, nothing cut off at
the right edge (measured in a real headless Chromium), the model version named, and an
index page linking the six reports and the evaluation figure."""

from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser

import nbformat
import pytest
from browser import FLAGS, ensure_chromium

from nbprod.pipeline.reports import WIDTH
from nbprod.registry.lineage import INJECTED_TAG
from projectkit import BIN, TASKS, bentoml_cli, build_env, smoke_build

pytestmark = pytest.mark.pipeline

#: Counts the <pre> blocks wider than their box once the page has laid out.
MEASURE = """<script>
window.addEventListener('load', () => {
  const cut = [...document.querySelectorAll('pre')].filter(e => e.scrollWidth > e.clientWidth + 1);
  document.body.setAttribute('data-cut', cut.length + ':' + document.querySelectorAll('pre').length);
});
</script>"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    project, home, _ = smoke_build(tmp_path_factory.mktemp("reports"))
    return project, home, project / "products-smoke" / "reports"


def test_no_report_names_the_machine_and_parameters_fit_the_page(built):
    project, _, reports = built
    for task in TASKS:
        for suffix in (".ipynb", ".html"):
            text = (reports / f"{task}{suffix}").read_text()
            assert str(project) not in text, f"{task}{suffix}"
        nb = nbformat.read(reports / f"{task}.ipynb", as_version=4)
        (injected,) = [c for c in nb.cells if INJECTED_TAG in c.metadata.get("tags", [])]
        assert injected.source.startswith("# Parameters (paths relative to this report's folder)")
        assert max(map(len, injected.source.splitlines())) <= WIDTH, task
    train = nbformat.read(reports / "train.ipynb", as_version=4)
    (injected,) = [c for c in train.cells if INJECTED_TAG in c.metadata.get("tags", [])]
    assert "'train': '../data/train.parquet'" in injected.source
    assert "'model': '../model/model.skops'" in injected.source


def test_the_lineage_records_project_relative_paths_and_the_archived_reports(built):
    project, home, reports = built
    registration = json.loads((project / "products-smoke/model/registration.json").read_text())
    meta = bentoml_cli(home, "models", "get", registration["tag"])["metadata"]
    assert meta["parameters"]["ingest"]["resources_"] == {
        "raw_data": "data/raw/telco_churn.csv.gz", "columns": "columns.yaml"}
    assert meta["notebooks"]["train"]["path"] == "products-smoke/reports/train.ipynb"
    # the archived reports are the tidied ones: they match the workspace copies
    lineage = subprocess.run([str(BIN / "nbprod"), "lineage", registration["tag"]], cwd=project,
                             env=build_env(home), capture_output=True, text=True, timeout=120)
    assert lineage.returncode == 0, lineage.stdout + lineage.stderr
    assert "[ok] files/reports/train.ipynb in the model (products-smoke" in lineage.stdout


def test_the_register_report_names_the_model_version_first(built):
    project, _, reports = built
    registration = json.loads((project / "products-smoke/model/registration.json").read_text())
    nb = nbformat.read(reports / "register.ipynb", as_version=4)
    assert nb.cells[0].cell_type == "markdown"
    assert f"**Model version `{registration['tag']}`**: promoted to production" in nb.cells[0].source
    html = (reports / "register.html").read_text()
    assert html.index(registration["tag"]) < html.index("Saves the model to the BentoML")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.images = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self.hrefs.append(attrs["href"])
        elif tag == "img":
            self.images.append(attrs["src"])


def test_the_index_links_the_six_reports_and_the_evaluation_figure(built):
    project, _, reports = built
    index = reports / "index.html"
    page = index.read_text()
    links = Links()
    links.feed(page)
    assert {f"{t}.html" for t in TASKS} <= set(links.hrefs)
    assert {f"{t}.ipynb" for t in TASKS} <= set(links.hrefs)
    assert links.images == ["evaluation.png"]
    for href in links.hrefs + links.images:
        assert (reports / href).is_file(), href  # relative, and every one resolves
    registration = json.loads((project / "products-smoke/model/registration.json").read_text())
    assert f"Model version {registration['tag']}: promoted to production" in page
    assert page.count("ran in this build") == len(TASKS)
    assert not re.search(r"<script|https?://", page)  # self-contained, nothing to download


@pytest.mark.parametrize("task", ["train", "evaluate", "register"])
def test_no_line_is_cut_off_at_the_right_edge_in_a_browser(built, task, tmp_path):
    _, _, reports = built
    page = tmp_path / f"{task}.html"
    page.write_text((reports / f"{task}.html").read_text().replace("</body>", MEASURE + "</body>"))
    dom = subprocess.run(
        [ensure_chromium(), *(f for f in FLAGS if not f.startswith("--remote-debugging")),
         f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=800,1000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120).stdout
    cut, total = map(int, re.search(r'data-cut="(\d+):(\d+)"', dom).groups())
    assert total >= 3 and cut == 0, f"{cut} of {total} <pre> blocks overflow in {task}.html"


def test_ploombers_own_html_conversion_is_replaced_not_doubled(built):
    """The tidy writes the HTML from the tidied notebook; Ploomber's export of the raw one,
    which would cost as much again, is switched off (nbprod.pipeline.reports.take_over_html)."""
    import contextlib

    from ploomber.spec import DAGSpec

    from nbprod.pipeline import reports

    project, _, _ = built
    with contextlib.chdir(project):
        dag = DAGSpec("pipeline.yaml", env={"products": str(project / "scratch")}).to_dag()
    reports.attach(dag)
    reports.attach(dag)  # on_render runs on every render: once is enough
    for name in TASKS:
        converters = dag[name]._converter
        assert [c._exporter for c in converters] == [None, None], name
        assert getattr(dag[name].on_finish, "nbprod_reports", False)
