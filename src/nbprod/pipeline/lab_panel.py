"""The Jupyter server extension behind JupyterLab's nbprod panel: the pipeline of the Lab's
root folder, its models and its builds, as JSON under ``/nbprod/`` (authenticated as Lab's
own API is: the token or the Lab's cookie and XSRF header).

- ``GET /nbprod/status``: each task with its status (up to date, outdated, failed), why,
  when it last ran and its report (:func:`nbprod.pipeline.plot.load_status`), the report
  index and the comparison page, and the last build;
- ``POST /nbprod/build`` (``{"task": NAME}`` or ``{}`` for the whole pipeline): starts a
  build (:mod:`.lab_build`); 409 while one runs; ``GET /nbprod/build`` polls it;
- ``GET /nbprod/models``: the model's versions, newest first (``nbprod models list``);
- ``POST /nbprod/compare``: writes the comparison page (``nbprod models compare --html``)
  beside the reports and answers its path.

Paths are relative to the root, for Lab's ``/files/`` to open. Enabled by the config file
nbprod's wheel installs (``etc/jupyter/jupyter_server_config.d/nbprod.json``) and by
``make lab``; the front end is the prebuilt JupyterLab extension ``nbprod``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from ..errors import NbprodError
from .lab_build import BuildRunner

log = logging.getLogger(__name__)

PIPELINE = "pipeline.yaml"
ROUTES = ("status", "build", "models", "compare")


def _relative(path: Path | None, root: Path) -> str | None:
    """``path`` relative to ``root`` (for ``/files/``), or None when outside it."""
    if path is None:
        return None
    path = Path(path).resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else None


def pipeline_status(root: Path) -> dict[str, Any]:
    """The tasks of ``root``'s pipeline with their status, and the pages to open."""
    from .plot import load_status
    from .report_index import COMPARE_NAME, INDEX_NAME

    pipeline = root / PIPELINE
    if not pipeline.is_file():
        raise NbprodError(f"no {PIPELINE} in the Lab's root folder {root}; start the Lab "
                          "in the project (make lab)")
    with contextlib.chdir(root):  # as `ploomber build` run from the project renders it
        nodes = load_status(pipeline)
    reports = next((n.report.resolve().parent for n in nodes if n.report is not None), None)
    pages: dict[str, str | None] = {"index": None, "compare": None}
    if reports is not None:
        for key, name in (("index", INDEX_NAME), ("compare", COMPARE_NAME)):
            if (reports / name).is_file():
                pages[key] = _relative(reports / name, root)
    return {
        "tasks": [{"name": n.name, "upstream": list(n.upstream), "status": n.status,
                   "why": n.why, "last_run": n.last_run, "report": _relative(n.report, root)}
                  for n in nodes],
        "reports": _relative(reports, root), **pages,
    }


def model_versions(root: Path) -> dict[str, Any]:
    """The project's model (``model_name`` of env.yaml) and its versions, newest first."""
    from ..model.metrics import table_columns
    from ..registry.lifecycle import stage_of, versions
    from .env_file import model_name

    name = model_name(root)
    found = versions(name)
    columns = table_columns([m.info.metadata for m in found])
    rows = [{"tag": str(m.tag), "version": m.tag.version, "stage": stage_of(m),
             "created": f"{m.info.creation_time:%Y-%m-%d %H:%M:%S}",
             "metrics": {k: m.info.metadata.get("metrics", {}).get(k) for k in columns}}
            for m in reversed(found)]
    return {"name": name, "metrics": columns, "versions": rows}


def write_comparison(root: Path) -> str:
    """Write the candidate-against-production page beside the reports; its path."""
    from ..registry.compare import compare
    from .compare_page import write_page
    from .env_file import model_name
    from .report_index import COMPARE_NAME

    reports = pipeline_status(root)["reports"]
    if reports is None:
        raise NbprodError("no reports yet: build the pipeline first")
    name = model_name(root)
    page = write_page(name, compare(name), root / reports / COMPARE_NAME)
    return _relative(page, root) or str(page)


def _handlers() -> dict[str, type]:
    """The request handlers, one per route (tornado and jupyter_server imported here)."""
    from jupyter_server.base.handlers import APIHandler
    from tornado import web

    class Handler(APIHandler):
        @property
        def root(self) -> Path:
            return Path(self.settings["server_root_dir"]).expanduser().resolve()

        def answer(self, produce, *args) -> None:
            try:
                body = produce(*args)
            except NbprodError as exc:
                self.set_status(409)
                body = {"error": str(exc)}
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(body, default=str))

    class Status(Handler):
        @web.authenticated
        def get(self) -> None:
            self.answer(lambda: {**pipeline_status(self.root), "build": runner(self).state()})

    class Build(Handler):
        @web.authenticated
        def get(self) -> None:
            self.answer(lambda: {"build": runner(self).state()})

        @web.authenticated
        def post(self) -> None:
            task = (self.get_json_body() or {}).get("task")
            self.answer(lambda: {"build": start_build(self.root, runner(self), task).as_json()})

    class Models(Handler):
        @web.authenticated
        def get(self) -> None:
            self.answer(model_versions, self.root)

    class Compare(Handler):
        @web.authenticated
        def post(self) -> None:
            self.answer(lambda: {"page": write_comparison(self.root)})

    return {"status": Status, "build": Build, "models": Models, "compare": Compare}


def runner(handler: Any) -> BuildRunner:
    return handler.settings["nbprod_builds"]


def start_build(root: Path, builds: BuildRunner, task: str | None):
    """Start a build of the pipeline, or of ``task`` when it is one of its tasks."""
    if task is not None:
        names = [t["name"] for t in pipeline_status(root)["tasks"]]
        if task not in names:
            raise NbprodError(f"no task {task!r} in {PIPELINE}; its tasks: {', '.join(names)}")
    return builds.start(task)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "nbprod.pipeline.lab_panel"}]


def _load_jupyter_server_extension(app: Any) -> None:
    from jupyter_server.utils import url_path_join

    settings = app.web_app.settings
    root = Path(settings.get("server_root_dir", os.getcwd())).expanduser().resolve()
    settings["nbprod_builds"] = BuildRunner(root)
    base = settings.get("base_url", "/")
    app.web_app.add_handlers(".*$", [(url_path_join(base, "nbprod", route), handler)
                                     for route, handler in _handlers().items()])
    log.info("nbprod.pipeline.lab_panel: the nbprod panel's API at %snbprod/", base)
