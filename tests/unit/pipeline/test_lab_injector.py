"""nbprod.pipeline.lab's view of a pipeline: a notebook maps to its rendered task; a pipeline that
does not render injects nothing and is tried again once fixed; an edited notebook is
rendered again."""

from __future__ import annotations

import os

import nbformat

from nbprod.pipeline.lab import Injector

PIPELINE = """tasks:
  - source: nb.ipynb
    product: {nb: out/nb.ipynb}
    params: {seed: 1}
"""


def project(tmp_path):
    cell = nbformat.v4.new_code_cell("upstream = None\nproduct = None\nseed = 0",
                                     metadata={"tags": ["parameters"]})
    nb = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_code_cell("print(seed)")],
                                  metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, tmp_path / "nb.ipynb")
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    return tmp_path


def test_a_notebook_maps_to_its_task_and_other_files_to_none(tmp_path):
    injector = Injector(project(tmp_path))
    task = injector.task_for("nb.ipynb")
    assert task.name == "nb" and task.params["seed"] == 1
    assert str(task.params["product"]["nb"]) == str(tmp_path / "out" / "nb.ipynb")
    assert injector.task_for("other.ipynb") is None


def test_a_notebook_that_breaks_the_render_injects_nothing_and_is_retried_once_fixed(tmp_path):
    root = project(tmp_path)
    nb = nbformat.read(root / "nb.ipynb", as_version=4)
    code = nb.cells.pop()  # Ploomber does not render a notebook that is only its parameters
    nbformat.write(nb, root / "nb.ipynb")
    injector = Injector(root)
    assert injector.task_for("nb.ipynb") is None
    nb.cells.append(code)  # fixed in the notebook; no YAML file changed
    nbformat.write(nb, root / "nb.ipynb")
    assert injector.task_for("nb.ipynb").name == "nb"


def test_a_changed_yaml_file_renders_again(tmp_path):
    root = project(tmp_path)
    injector = Injector(root)
    assert injector.task_for("nb.ipynb").params["seed"] == 1
    (root / "pipeline.yaml").write_text(PIPELINE.replace("seed: 1", "seed: 2"))
    stat = (root / "pipeline.yaml").stat()
    os.utime(root / "pipeline.yaml", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert injector.task_for("nb.ipynb").params["seed"] == 2


def test_a_pipeline_above_the_lab_root_is_never_rendered(tmp_path):
    """A pipeline.yaml planted in a parent of the Lab root (a shared folder) would run its
    env.yaml's Jinja when a notebook is opened: only pipelines inside the root render."""
    root = tmp_path / "lab"
    root.mkdir()
    project(root)
    (root / "pipeline.yaml").unlink()
    (tmp_path / "pipeline.yaml").write_text(PIPELINE.replace("source: nb.ipynb",
                                                             "source: lab/nb.ipynb"))
    assert Injector(tmp_path).task_for("lab/nb.ipynb").name == "nb", "it renders from above"
    assert Injector(root).task_for("nb.ipynb") is None
