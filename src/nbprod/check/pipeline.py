"""The pipeline's side of the contract, read with Ploomber's own loaders.

Two sources give the same :class:`~nbprod.check.context.Pipeline`: ``pipeline.yaml``
through ``DAGSpec`` (env.yaml placeholders resolved, nothing imported or executed),
for ``nbprod check``; and a rendered ``DAG``, for the ``on_render`` hook, which
thereby sees exactly the parameters of the build that is about to run (including
``--env--name value`` overrides).

Every task kind is a task (notebooks, Python functions, SQL, shell scripts, uploads),
so an ``upstream`` naming any of them is known; only notebook tasks are checked.
``grid:`` tasks are expanded as Ploomber expands them (one task per grid point, with
its own name and parameters); ``extract_upstream: False`` takes the dependencies
from the spec; a factory spec (``location: pkg.pipeline.make``) is read from the DAG
its factory returns, which means importing the project's code, as Ploomber does.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .context import SPECIAL_PARAMETERS, Pipeline, TaskContract
from .reader import NOTEBOOK_SUFFIXES

log = logging.getLogger(__name__)

#: Ploomber task classes by kind (any other class is reported by its own name).
KINDS = {
    "NotebookRunner": "notebook", "ScriptRunner": "notebook",
    "PythonCallable": "function",
    "SQLScript": "sql", "SQLDump": "sql", "SQLTransfer": "sql", "SQLUpload": "sql",
    "PostgresCopyFrom": "sql",
    "ShellScript": "shell",
}
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")


def find_pipeline(start: Path) -> Path | None:
    """The ``pipeline.yaml`` Ploomber would use from ``start`` (searching parents)."""
    from ploomber.util import default

    try:
        return Path(default.entry_point(root_path=str(start))).resolve()
    except Exception:  # ploomber raises several types when there is none
        return None


def load_pipeline(path: Path) -> Pipeline:
    """The tasks of the pipeline at ``path``, env.yaml placeholders resolved.

    Ploomber looks for env.yaml (or ``$PLOOMBER_ENV_FILENAME``) in the working
    directory first; it is read from the pipeline's folder here, as ``ploomber build``
    run from the project root does.
    """
    from ploomber.spec import DAGSpec
    from ploomber.util import default

    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(f"{path}: pipeline file not found")
    with contextlib.chdir(path.parent), _importable(path):
        try:
            spec = DAGSpec(str(path), lazy_import=True)
            env_file = default.path_to_env_from_spec(str(path))
        except Exception as exc:
            raise ConfigError(f"{path.name}: Ploomber cannot load it: {_one_line(exc)}") from None
    env = Path(env_file) if env_file else None
    if "location" in spec.data:
        return _from_factory(spec, path, env)
    raw = _raw_tasks(path)
    meta = spec["meta"]
    tasks: dict[str, TaskContract] = {}
    for index, task in enumerate(spec["tasks"]):
        origins = env_origins(raw[index]) if len(raw) == len(spec["tasks"]) else {}
        for contract in _contracts(task.data, meta, path.parent, origins):
            tasks[contract.name] = contract
    log.debug("pipeline %s: tasks %s", path, sorted(tasks))
    return Pipeline(path=path, tasks=tasks, env_file=env)


def pipeline_from_dag(dag: Any, path: Path | None = None) -> Pipeline:
    """The tasks of a Ploomber ``DAG`` (rendered by a build, or as a factory returns it)."""
    tasks = {}
    for name, task in dag.items():
        kind = KINDS.get(type(task).__name__, type(task).__name__)
        loc = getattr(getattr(task, "source", None), "loc", None)
        source = Path(str(loc)) if loc is not None and kind == "notebook" else None
        if kind == "notebook" and (source is None or source.suffix not in NOTEBOOK_SUFFIXES):
            kind, source = "notebook-other", None
        params = {k: v for k, v in dict(task.params.items()).items()
                  if k not in SPECIAL_PARAMETERS}
        tasks[str(name)] = TaskContract(
            name=str(name),
            source=source,
            params=params,
            product=_product_of(task),
            upstream=frozenset(str(u) for u in task.upstream),
            kind=kind,
            static_analysis=str(getattr(task, "static_analysis", "regular")),
        )
    return Pipeline(path=path, tasks=tasks)


def attach_origins(pipeline: Pipeline, overrides: Mapping[str, str]) -> Pipeline:
    """``pipeline`` with each task's parameter origins read from its spec file and the
    ``--env--name value`` overrides of this command line (for the hints of NB003)."""
    if pipeline.path is None or not pipeline.path.is_file():
        return Pipeline(pipeline.path, pipeline.tasks, pipeline.env_file, dict(overrides))
    by_name = {}
    for raw in _raw_tasks(pipeline.path):
        name = raw.get("name") or default_name(str(raw.get("source", "")))
        by_name[name] = env_origins(raw)
    tasks = {}
    for name, task in pipeline.tasks.items():
        origins = by_name.get(name) or next(
            (o for n, o in by_name.items() if "[[" in n or n.endswith("-")), {})
        tasks[name] = _replace(task, origins=origins)
    return Pipeline(pipeline.path, tasks, pipeline.env_file, dict(overrides))


def cli_overrides(argv: Sequence[str]) -> dict[str, str]:
    """The ``--env--name value`` (or ``--env--name=value``) options of a Ploomber command."""
    out = {}
    args = list(argv)
    for index, arg in enumerate(args):
        if not arg.startswith("--env--"):
            continue
        key, sep, value = arg[len("--env--"):].partition("=")
        if not sep:
            value = args[index + 1] if index + 1 < len(args) else ""
        out[key.replace("--", ".")] = value
    return out


def env_origins(raw_task: Any) -> dict[str, frozenset[str]]:
    """For each parameter of a task as written in pipeline.yaml, the env placeholders
    (``{{threshold}}``) its value is made of."""
    params = raw_task.get("params") if isinstance(raw_task, Mapping) else None
    if not isinstance(params, Mapping):
        return {}
    return {str(k): frozenset(_PLACEHOLDER.findall(str(v))) for k, v in params.items()
            if _PLACEHOLDER.search(str(v))}


def default_name(source: str) -> str:
    """The name Ploomber gives a task without ``name``: the file's stem, the function's name."""
    if any(source.endswith(s) for s in (*NOTEBOOK_SUFFIXES, ".sql", ".sh")) or "/" in source:
        return Path(source).stem
    return source.rsplit(".", 1)[-1]


# --- one task spec -> contracts ---------------------------------------------------------


def _contracts(data: Mapping[str, Any], meta: Mapping[str, Any], folder: Path,
               origins: dict[str, frozenset[str]]) -> Iterator[TaskContract]:
    kind = _kind(data)
    source = data.get("source")
    source_path = None
    if kind == "notebook":
        source_path = Path(str(source))
        if not source_path.is_absolute():
            source_path = _source_root(meta, folder) / source_path
    name = data.get("name") or default_name(str(source))
    upstream = None
    if not meta.get("extract_upstream", True):
        upstream = frozenset(_iterable(data.get("upstream")))
    params = dict(data.get("params") or {})
    product = data.get("product")
    analysis = str(data.get("static_analysis", "regular"))
    if "grid" not in data:
        yield TaskContract(name, source_path, params, _plain(product), upstream, kind, analysis,
                           origins)
        return
    for index, point in enumerate(_grid_points(data["grid"], params, name)):
        if "[[" in name and "]]" in name:
            task_name = _render_brackets(name, point)
        else:
            task_name = f"{name}{index}"
        yield TaskContract(task_name, source_path, point, _plain(product), upstream, kind, analysis,
                           origins)


def _kind(data: Mapping[str, Any]) -> str:
    cls = data.get("class")
    if cls is not None:
        name = cls if isinstance(cls, str) else getattr(cls, "__name__", str(cls))
        return KINDS.get(name.rsplit(".", 1)[-1], name)
    suffix = Path(str(data.get("source"))).suffix
    if suffix in NOTEBOOK_SUFFIXES:
        return "notebook"
    return {".sql": "sql", ".sh": "shell"}.get(suffix, "function")


def _source_root(meta: Mapping[str, Any], folder: Path) -> Path:
    loader = meta.get("source_loader") or {}
    module = loader.get("module") if isinstance(loader, Mapping) else None
    if module:
        with contextlib.suppress(ImportError, ValueError, AttributeError):
            found = importlib.util.find_spec(module)
            if found and found.submodule_search_locations:
                return Path(list(found.submodule_search_locations)[0]) / (loader.get("path") or "")
    return folder


def _grid_points(grid: Any, params: dict[str, Any], task: str) -> list[dict[str, Any]]:
    from ploomber.util import ParamGrid

    try:
        return [dict(p) for p in ParamGrid(grid, params=params or None).product()]
    except Exception as exc:
        raise ConfigError(f"task {task!r}: Ploomber cannot expand its grid: {_one_line(exc)}") from None


def _render_brackets(template: str, values: Mapping[str, Any]) -> str:
    """``train-[[width]]`` with the grid point's values, as Ploomber's namer renders it."""
    return re.sub(r"\[\[\s*(\w+)\s*\]\]", lambda m: str(values.get(m.group(1), "")), template)


@contextlib.contextmanager
def _importable(path: Path) -> Iterator[None]:
    """The project's own package importable while its spec is read, as after ``pip install
    -e .``: the spec's folder, and the ``src`` folder of a packaged layout."""
    folders = [path.parent, path.parent / "src"] + [p for p in path.parents[:3] if p.name == "src"]
    extra = [str(p) for p in folders if p.is_dir() and str(p) not in sys.path]
    sys.path[:0] = extra
    before = set(sys.modules)
    try:
        yield
    finally:
        for entry in extra:
            with contextlib.suppress(ValueError):
                sys.path.remove(entry)
        for name in set(sys.modules) - before:  # the project's modules leave with its paths
            if any(str(getattr(sys.modules[name], "__file__", None) or "").startswith(e)
                   for e in extra):
                del sys.modules[name]


def _from_factory(spec: Any, path: Path, env: Path | None) -> Pipeline:
    with contextlib.chdir(path.parent), _importable(path):
        try:
            dag = spec.to_dag()
        except Exception as exc:
            raise ConfigError(f"{path.name}: the factory {spec.data['location']!r} did not return "
                              f"a pipeline: {_one_line(exc)}") from None
    pipeline = pipeline_from_dag(dag, path=path)
    return Pipeline(path=path, tasks=pipeline.tasks, env_file=env)


def _raw_tasks(path: Path) -> list[Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except Exception:  # DAGSpec read it already; this is only for hints
        return []
    tasks = data.get("tasks") if isinstance(data, Mapping) else None
    return list(tasks) if isinstance(tasks, list) else []


def _product_of(task: Any) -> Any:
    try:
        return _plain(task.product.to_json_serializable())
    except Exception:  # an unrendered placeholder, a product class of a plugin
        return None


def _plain(product: Any) -> dict[str, str] | str | None:
    if isinstance(product, Mapping):
        return {str(k): str(v) for k, v in product.items()}
    if product is None:
        return None
    return str(product)


def _iterable(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _replace(task: TaskContract, **changes: Any) -> TaskContract:
    from dataclasses import replace

    return replace(task, **changes)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


def project_folder(pipeline: Path) -> Path:
    """The project a ``pipeline.yaml`` belongs to: the nearest folder above it (itself
    included) with a ``pyproject.toml``, ``setup.py`` or ``.git`` (a packaged layout keeps
    pipeline.yaml in ``src/PKG/``), else the folder of pipeline.yaml."""
    folder = pipeline.absolute().parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in ("pyproject.toml", "setup.py", ".git")):
            return candidate
    return folder


def products_outside(task: TaskContract, project: Path) -> list[tuple[str, str]]:
    """(key, path) of ``task``'s products that resolve outside ``project``
    (:func:`project_folder`): a build would write there. Paths still holding a placeholder
    are skipped."""
    product = task.product
    paths = product if isinstance(product, dict) else {"": product} if product else {}
    outside = []
    for key, value in paths.items():
        text = str(value).replace("{{here}}", str(project)).replace("{{root}}", str(project))
        if "{{" in text:
            continue
        path = Path(text).expanduser()
        resolved = (path if path.is_absolute() else project / path).resolve()
        if not resolved.is_relative_to(project.resolve()):
            outside.append((key, str(value)))
    return outside
