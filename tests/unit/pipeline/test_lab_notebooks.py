"""nbprod.pipeline.lab's notebook edits: the injected cell is added in memory without touching the
other cells, and a save keeps only the source."""

from __future__ import annotations

import copy

from nbprod.pipeline.lab import source_only, with_injected_cell


class Params:
    """What Ploomber's inject_cell reads from a rendered task's params."""

    class Paths(dict):
        def to_json_serializable(self):
            return dict(self)

    def to_dict(self):
        return {"product": self.Paths(nb="/p/reports/train.ipynb"),
                "upstream": self.Paths(features={"train": "/p/data/train.parquet"}), "seed": 7}


def notebook():
    code = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}},
            "cells": [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": "# Train"},
                      {**code, "id": "b", "metadata": {"tags": ["parameters"]},
                       "source": "upstream = ['features']\nproduct = None\nseed = 1"},
                      {**code, "id": "c", "source": "print(seed)"}]}


def test_the_injected_cell_goes_below_the_parameters_cell_and_nothing_else_changes():
    content = notebook()
    injected = with_injected_cell({"name": "train.ipynb", "content": copy.deepcopy(content)},
                                  Params())
    assert [c["id"] for c in injected["cells"][:2]] + [injected["cells"][3]["id"]] == ["a", "b", "c"]
    cell = injected["cells"][2]
    assert cell["metadata"] == {"tags": ["injected-parameters"]}
    assert "seed = 7" in cell["source"] and "/p/data/train.parquet" in cell["source"]
    assert injected["metadata"] == content["metadata"]  # no papermill metadata
    assert [c for i, c in enumerate(injected["cells"]) if i != 2] == content["cells"]


def test_opening_twice_injects_once():
    model = {"name": "train.ipynb", "content": notebook()}
    once = with_injected_cell(model, Params())
    twice = with_injected_cell({"name": "train.ipynb", "content": once}, Params())
    assert len(twice["cells"]) == len(once["cells"]) == 4


def test_saving_keeps_only_the_source():
    content = with_injected_cell({"name": "train.ipynb", "content": notebook()}, Params())
    content["cells"][3].update(execution_count=3, outputs=[
        {"output_type": "stream", "name": "stdout", "text": "7\n"}])
    assert source_only(content) == notebook()
