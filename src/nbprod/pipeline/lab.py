"""JupyterLab on a pipeline's notebooks: parameters injected in memory, sources saved clean.

A Jupyter server extension (``--ServerApp.jpserver_extensions=nbprod.pipeline.lab=True``, as
``make lab`` starts JupyterLab). It wraps whatever contents manager the server uses
(jupytext's, which opens percent ``.py`` files as notebooks) so that, for a notebook
that is a task of the ``pipeline.yaml`` found at or above its folder:

- opening it adds Ploomber's ``injected-parameters`` cell (the task's ``upstream`` and
  ``product`` paths and parameters, as ``ploomber build`` would pass them) in memory
  only, right below the ``parameters`` cell; the file on disk is not touched;
- saving it writes the source only: the injected cell, outputs and execution counts
  are left out (the executed copy with outputs is the task's product), and the task's
  recorded product metadata is deleted, since cells run in the Lab may have rewritten
  its products; the next ``ploomber build`` runs it again.

So ``nbprod check`` keeps passing and ``git status`` stays clean (the lineage records
``git dirty: false``) unless the code itself changed. Other files pass through as they
are. Ploomber's own extension does the same, but calls the contents manager
synchronously and answers 500 beside jupytext's asynchronous one (``make lab`` switches
it off; ``tests/check/test_lab.py`` shows both).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..compat.ploomber import LAB_EXTENSION_OFF

log = logging.getLogger(__name__)

INJECTED_TAGS = ("injected-parameters", "debugging-settings")

#: The flags `make lab` gives `jupyter lab` besides host, token and root folder.
SERVER_FLAGS = (
    LAB_EXTENSION_OFF,  # Ploomber's own extension answers 500 (nbprod.compat.ploomber)
    "--ServerApp.jpserver_extensions=nbprod.pipeline.lab=True",
    # the nbprod panel's API (nbprod.pipeline.lab_panel); a wheel install also enables it
    "--ServerApp.jpserver_extensions=nbprod.pipeline.lab_panel=True",
    # ploomber-extension's server side: the Share button's deploy API (its front end is
    # disabled by jupyter/labconfig/page_config.json)
    "--ServerApp.jpserver_extensions=ploomber_extension=False",
)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "nbprod.pipeline.lab"}]


def _load_jupyter_server_extension(app: Any) -> None:
    """Swap the server's contents manager for one derived from it (as jupytext does)."""
    if hasattr(app.contents_manager_class, "nbprod_injector"):
        return
    app.contents_manager_class = derive_contents_manager(app.contents_manager_class)
    app.contents_manager = app.contents_manager_class(parent=app, log=app.log)
    app.session_manager.contents_manager = app.contents_manager
    app.web_app.settings["contents_manager"] = app.contents_manager
    log.info("nbprod.pipeline.lab: pipeline notebooks get their parameters injected on open")


async def _resolve(value: Any) -> Any:
    """The result of a base contents manager's call, sync or async."""
    return await value if inspect.isawaitable(value) else value


def derive_contents_manager(base: type) -> type:
    """``base`` with injection on open and a clean source on save (module docstring)."""

    class PipelineContentsManager(base):
        nbprod_injector: Injector | None = None

        @property
        def injector(self) -> Injector:
            if self.nbprod_injector is None:
                self.nbprod_injector = Injector(Path(self.root_dir))
            return self.nbprod_injector

        async def get(self, path, content=True, type=None, format=None, **kwargs):
            model = await _resolve(super().get(path, content=content, type=type,
                                               format=format, **kwargs))
            if content and model.get("type") == "notebook" and model.get("content"):
                task = self.injector.task_for(model["path"])
                if task is not None:
                    model["content"] = with_injected_cell(model, task.params)
            return model

        async def save(self, model, path=""):
            if model.get("type") == "notebook" and model.get("content"):
                task = self.injector.task_for(path.strip("/"))
                if task is not None:
                    model = dict(model, content=source_only(model["content"]))
                    task.forget_products()
            return await _resolve(super().save(model, path))

    return PipelineContentsManager


@dataclass
class LabTask:
    """A notebook task of the rendered pipeline: what to inject, what to forget."""

    name: str
    params: Any
    task: Any

    def forget_products(self) -> None:
        self.task.product.metadata.delete()
        log.info("nbprod.pipeline.lab: %s saved; its products' metadata deleted", self.name)


class Injector:
    """The rendered pipeline of each ``pipeline.yaml`` under a Lab root (never one above
    it); maps a notebook to its task. Rendered again when a ``*.yaml`` file beside the pipeline or a task's
    notebook changes (an edited ``upstream`` changes the task's parameters); a pipeline
    that does not render is tried again at the next open, not remembered."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self._cache: dict[Path, tuple[tuple, dict[Path, LabTask]]] = {}

    def task_for(self, path: str) -> LabTask | None:
        """The task whose source is ``path`` (relative to the root), if any."""
        from ..check.pipeline import find_pipeline

        notebook = (self.root / path).resolve()
        pipeline = find_pipeline(notebook.parent)
        if pipeline is None:
            return None
        if not pipeline.is_relative_to(self.root):
            # rendering runs Jinja in the pipeline's env.yaml: only a pipeline inside the
            # Lab root, which the user opened, is rendered; never one of a parent folder
            log.info("nbprod.pipeline.lab: %s is outside the Lab root %s; not rendered",
                     pipeline, self.root)
            return None
        return self._tasks(pipeline).get(notebook)

    def _tasks(self, pipeline: Path) -> dict[Path, LabTask]:
        cached = self._cache.get(pipeline)
        if cached is not None and cached[0] == _stamp(pipeline, cached[1]):
            return cached[1]
        try:
            tasks = render_notebook_tasks(pipeline)
        except Exception as exc:  # any error of the user's pipeline: Lab must still open
            log.warning("nbprod.pipeline.lab: %s does not render, no parameters injected: %s",
                        pipeline, exc)
            self._cache.pop(pipeline, None)
            return {}
        self._cache[pipeline] = (_stamp(pipeline, tasks), tasks)
        return tasks


def _stamp(pipeline: Path, tasks: dict[Path, LabTask]) -> tuple:
    """What, when changed, makes the rendered pipeline stale: the mtimes of the YAML files
    beside it and of the tasks' notebooks."""
    files = sorted({*pipeline.parent.glob("*.yaml"), *tasks})
    return tuple((str(p), p.stat().st_mtime_ns if p.exists() else None) for p in files)


def render_notebook_tasks(pipeline: Path) -> dict[Path, LabTask]:
    """Each notebook task of ``pipeline``, by its resolved source path, rendered as
    ``ploomber build`` run from the pipeline's folder renders it (raises what Ploomber or
    the pipeline's ``on_render`` hook raises)."""
    from ploomber.spec import DAGSpec
    from ploomber.tasks.notebook import NotebookMixin

    with contextlib.chdir(pipeline.parent):
        dag = DAGSpec(str(pipeline)).to_dag()
        # not force=True: that would mark every task outdated
        dag.render(show_progress=False)
    out = {}
    for name in dag:
        task = dag[name]
        if isinstance(task, NotebookMixin) and task.source.loc is not None:
            source = (pipeline.parent / str(task.source.loc)).resolve()
            out[source] = LabTask(name, task.params, task)
    log.info("nbprod.pipeline.lab: %d notebook task(s) of %s", len(out), pipeline)
    return out


def with_injected_cell(model: dict[str, Any], params: Any) -> dict[str, Any]:
    """The notebook content of ``model`` plus Ploomber's injected cell for ``params``.

    Ploomber's ``inject_cell`` also adds empty tags to every cell and papermill
    metadata; only its injected cell is taken, so saving the notebook back changes
    nothing else.
    """
    from ploomber.sources.notebooksource import inject_cell

    content = source_only(model["content"], strip_outputs=False)
    scratch = copy.deepcopy(dict(model, content=content))
    inject_cell(model=scratch, params=params)
    rendered = scratch["content"]["cells"]
    index = next(i for i, cell in enumerate(rendered) if _is_injected(cell))
    injected = dict(rendered[index])
    injected["metadata"] = {"tags": ["injected-parameters"]}
    cells = list(content["cells"])
    cells.insert(index, injected)
    return dict(content, cells=cells)


def source_only(content: dict[str, Any], strip_outputs: bool = True) -> dict[str, Any]:
    """A notebook's content without injected cells (and, by default, without outputs
    and execution counts): what a source notebook of the pipeline holds."""
    cells = []
    for cell in content.get("cells", []):
        if _is_injected(cell):
            continue
        if strip_outputs and cell.get("cell_type") == "code":
            cell = dict(cell, outputs=[], execution_count=None)
        cells.append(cell)
    return dict(content, cells=cells)


def _is_injected(cell: dict[str, Any]) -> bool:
    return any(tag in INJECTED_TAGS for tag in cell.get("metadata", {}).get("tags", []))
