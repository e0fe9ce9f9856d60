"""The Ploomber workarounds (nbprod.compat.ploomber): each bug shown on the pinned versions,
then fixed by its patch. A canary that fails on a new release means the bug is gone."""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from nbprod import compat
from nbprod.compat import ploomber as patches

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("distribution,pinned", [
    ("ploomber", patches.PLOOMBER), ("ploomber-engine", patches.PLOOMBER_ENGINE),
    ("networkx", patches.NETWORKX),
])
def test_the_pinned_versions_are_the_ones_the_patches_were_written_for(distribution, pinned):
    assert compat.installed(distribution) == pinned


SEEN: list[bool] = []


def write_product(product) -> None:
    """A task that notes whether the previous run's metadata is still there while it runs."""
    path = Path(str(product))
    SEEN.append((path.parent / f".{path.name}.metadata").exists())
    path.write_text("done")


def test_a_running_task_keeps_the_previous_runs_metadata_until_invalidated(tmp_path):
    from ploomber import DAG
    from ploomber.executors import Serial
    from ploomber.products import File
    from ploomber.tasks import PythonCallable

    def dag() -> DAG:
        built = DAG(executor=Serial(build_in_subprocess=False))
        PythonCallable(write_product, File(tmp_path / "out.txt"), built, name="out")
        return built

    SEEN.clear()
    dag().build(force=True)
    dag().build(force=True)  # the bug: killed now, the next build takes the old metadata
    assert SEEN == [False, True]
    again = dag()
    again.render(force=True)
    assert patches.invalidate_outdated(again) == ["out"]
    again.build(force=True)
    assert SEEN[-1] is False


def test_an_in_process_notebook_keeps_the_terminals_display_until_set_as_a_kernel(tmp_path):
    from ploomber_engine import execute_notebook

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "import pandas as pd\nprint(pd.get_option('display.max_columns'))")]
    nbformat.write(notebook, tmp_path / "in.ipynb")

    def shown() -> str:
        ran = execute_notebook(tmp_path / "in.ipynb", tmp_path / "out.ipynb", progress_bar=False)
        return ran.cells[0].outputs[0]["text"].strip()

    with pd.option_context("display.max_columns", 0):  # what pandas sets in a terminal
        assert shown() == "0"  # the bug: a Jupyter kernel shows 20
        patches.kernel_like_display()
        assert shown() == "20"


def test_ploomber_plot_reads_the_key_networkx_3_6_renames():
    import networkx as nx
    from ploomber.dag import plot

    graph = nx.DiGraph([("a", "b")])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = nx.node_link_data(graph)
    assert "links" in data and "edges" not in data
    assert any("edges" in str(w.message) for w in caught)  # networkx announces the rename
    assert 'graph["links"]' in inspect.getsource(plot)  # and ploomber reads the old key
    assert patches.check_networkx()


def test_ploomber_lab_extension_is_switched_off_wherever_jupyter_lab_starts():
    # the bug itself (a 500 on every notebook opened) is shown by tests/check/test_lab.py
    from nbprod.pipeline.lab import SERVER_FLAGS

    assert patches.LAB_EXTENSION_OFF in SERVER_FLAGS
    for makefile in (ROOT / "Makefile", ROOT / "src/nbprod/scaffold/templates/project/Makefile"):
        assert patches.LAB_EXTENSION_OFF.split("=", 1)[1] in makefile.read_text(), makefile
