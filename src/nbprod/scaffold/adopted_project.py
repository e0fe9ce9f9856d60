"""``nbprod new DIR --notebook NB --data FILE``: the project ``nbprod new`` writes, whose pipeline
runs her notebook instead of nbprod's ingest-to-train notebooks.

The tasks: ``ingest`` (her raw file against ``columns.yaml``, as in every project),
``notebook`` (her cells as she wrote them, the data file's path a parameter, ending with
:func:`nbprod.pipeline.adoption.keep_her_run`), ``train`` (her model behind her package's
``features`` function, parity checked: :func:`nbprod.pipeline.adoption.serve_her_model`),
then nbprod's ``evaluate``, ``register`` and ``score``. Values from her notebook reach the
written files through their serializers (JSON notebooks, YAML, ``repr``).
"""

from __future__ import annotations

import ast
import copy
import json
import logging
import posixpath
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from ..data.files import file_format
from ..errors import ConfigError, NbprodError
from ..model.trust import LIBRARIES, needed
from .adoption import Adoption, _y_test, adopt, output_folders
from .infer import infer_table, read_data
from .names import safe_file_name
from .notebook_params import Parameter, find_parameters
from .notebook_source import Cell
from .notebook_split import Section, split
from .notebook_target import table_of, where_made, with_her_target
from .notebook_tasks import (
    TaskSpec,
    check_kinds,
    her_tasks,
    markdown_cells,
    notebook_json,
    read_expression,
)
from .project import EXECUTABLE, Created, _add_wheel, _wheel_name, project_files, project_name
from .read_columns import declare_read_columns
from .writer import check_destination, git_first_commit, write_tree

__all__ = ["Adopted", "create_adopted_project"]

log = logging.getLogger(__name__)

TRAIN_PRODUCTS = ("model", "test", "train", "schema", "reference")


@dataclass(frozen=True)
class Adopted:
    created: Created
    adoption: Adoption
    #: her tasks, in order
    tasks: list[str]
    #: why her cells were kept as one task, when they were ('' otherwise)
    note: str = ""


def _train_task(package: str, last: str) -> str:
    product = {"nb": "../products/reports/train.ipynb",
               **{key: f"../products/model/{key}" for key in TRAIN_PRODUCTS}}
    return notebook_json([
        {"kind": "markdown", "source": "# Her model, served\n\nHer notebook's model behind her "
         f"feature function (`{package}.features`), aligned to her training columns, checked "
         "against her notebook's own answers on her held-out rows (the build fails, naming the "
         "first differing row and column, unless they agree), then stored for evaluation."},
        {"kind": "code", "tags": ["parameters"], "source":
         f"upstream = [{last!r}]\nproduct = {product!r}\n"
         "resources_ = {'columns': '../columns.yaml'}"},
        {"kind": "code", "source": f"import {package}.features\n"
         "from nbprod.pipeline.adoption import serve_her_model"},
        {"kind": "code", "source": f"print(serve_her_model(upstream[{last!r}], product, "
         f"resources_['columns'], {package}.features.features))"}])


def _parity_test(last: str) -> str:
    """tests/test_parity.py of an adopted project: the registered model of the smoke build
    answers her held-out raw rows as her notebook's model did."""
    heldout = f"products-smoke/notebook/{last}/heldout.parquet"
    return f'''"""Parity: the model the smoke build stored (her feature function, her training columns,
her model) answers her held-out raw rows, fed as the service feeds them, as her notebook's
model answered them in her own task."""

import pandas as pd

from conftest import ROOT
from nbprod.data.columns import ColumnTable
from nbprod.model.artifacts import load_model_file
from nbprod.model.trust import read_trust
from nbprod.pipeline.adoption import check_parity

HELDOUT = {heldout!r}


def test_the_served_model_answers_her_held_out_rows_as_her_notebook(build):
    held = pd.read_parquet(build.path / HELDOUT)
    model = load_model_file(build.path / "products-smoke/model/model.skops",
                            trust=read_trust(ROOT / "trust.yaml"))
    rows = check_parity(model, held, ColumnTable.load(ROOT / "columns.yaml"))
    assert len(rows) == len(held) > 0
'''


def _edit(files: dict[str, str], path: str, old: str, new: str) -> None:
    if old not in files[path]:
        raise NbprodError(f"{path}: {old!r} not found (a bug in nbprod new --notebook)")
    files[path] = files[path].replace(old, new)


def _pipeline(text: str, tasks: list[TaskSpec], data_param: str, original: str) -> str:
    head = text[: text.index("meta:")]
    spec = yaml.safe_load(text)
    by_name = {t["name"]: t for t in spec["tasks"]}
    common = {k: by_name["train"][k] for k in ("executor", "executor_params", "nb_product_key")}
    # local_execution: her cells run in notebooks/, so her relative paths name what they did
    hers = [{"source": f"notebooks/{t.name}.ipynb", "name": t.name, **copy.deepcopy(common),
             "local_execution": True,
             "product": {"nb": f"{{{{products}}}}/reports/{t.name}.ipynb",
                         "nb_html": f"{{{{products}}}}/reports/{t.name}.html",
                         **{k: f"{{{{products}}}}/notebook/{p}" for k, p in t.products.items()}},
             **({"params": {p: "{{raw_data}}" if p == data_param else f"{{{{{p}}}}}"
                            for p in t.params}} if t.params else {})}
            for t in tasks]
    train = {**by_name["train"], "params": {"resources_": {"columns": "{{columns}}"}},
             "product": {**{k: by_name["train"]["product"][k] for k in ("nb", "nb_html")},
                         **{k: by_name["features"]["product"].get(k)
                            or by_name["train"]["product"][k] for k in TRAIN_PRODUCTS}}}
    # the register step's lineage records the sha256 of each resource: her notebook too
    by_name["register"]["params"]["resources_"]["notebook"] = f"{{{{here}}}}/{original}"
    spec["tasks"] = [by_name["ingest"], *hers, train,
                     *(by_name[n] for n in ("evaluate", "register", "score"))]
    return head + yaml.safe_dump(spec, sort_keys=False, width=100)


#: lines of nbprod new's env.yaml that only its own train and features tasks read
_NOT_HERS = ("seed:", "test_size:", "estimator:", "hyperparameters:", "preprocess:", "  ")


def _env(text: str, parameters: list[Parameter]) -> str:
    """env.yaml without nbprod's model parameters, with hers (the seed stays: the smoke
    sample of ingest uses it too)."""
    lines = [line for line in text.splitlines() if not line.startswith(_NOT_HERS)
             or line.startswith("  ") and not _in_hyperparameters(text, line)]
    values = {p.name: p.value for p in parameters}
    values.setdefault("seed", 42)
    example = next(iter(values))
    block = (f"# her notebook's parameters: ploomber build --env--{example} VALUE overrides one\n"
             + yaml.safe_dump(values, sort_keys=False))
    at = next(i for i, line in enumerate(lines) if line.startswith("sample_rows:")) + 1
    lines[at:at] = block.rstrip("\n").splitlines()
    return "\n".join(lines).replace("--env--estimator gradient_boosting",
                                     f"--env--{example} VALUE") + "\n"


def _in_hyperparameters(text: str, line: str) -> bool:
    """Whether an indented line belongs to ``hyperparameters:`` (not to ``gate:``)."""
    block = text[text.index("hyperparameters:"):]
    block = block[:block.index("\npreprocess:")] if "\npreprocess:" in block else block
    return line in block.splitlines()


def pins(cells: list[Cell]) -> list[str]:
    """``dist==version`` of each library her notebook imports, at the installed version; the
    standard library and nbprod's own dependencies' versions come as they are installed."""
    import sys
    from importlib.metadata import packages_distributions, version

    modules = set()
    for cell in cells:
        for node in ast.walk(cell.tree()):
            if isinstance(node, ast.Import):
                modules |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    found = packages_distributions()
    out = set()
    for module in sorted(modules - set(sys.stdlib_module_names)):
        dists = found.get(module)
        if not dists:
            raise ConfigError(f"the notebook imports {module!r}, which no installed "
                              "distribution provides; install it, then adopt again")
        out.add(f"{dists[0]}=={version(dists[0])}")
    return sorted(out, key=str.lower)


def _tasks(adoption: Adoption, package: str, raw_file: str, parameter: str,
           parameters: list[Parameter]) -> tuple[list[TaskSpec], str]:
    """Her tasks (split at her tags or headings when every passed value can travel), and
    a note when they were kept as one."""
    flow = adoption.flow
    needs = [flow.model, flow.X_train, flow.X_test]
    sections = split(adoption.cells, needs)
    note = check_kinds(sections, adoption.run.kinds or {})
    if note or len(sections) == 1:
        sections = [Section("notebook", [c for c in adoption.cells if "skip" not in c.tags])]
    literal = next(n for n in ast.walk(flow.read.node) if isinstance(n, ast.Constant)
                   and n.value == adoption.data_path)
    home = {c.number: s.name for s in sections for c in s.cells}
    swaps: dict[int, list[tuple[ast.Constant, str]]] = {flow.read.cell: [(literal, parameter)]}
    data_line = Parameter(parameter, f"../data/raw/{raw_file}", flow.read.cell, literal)
    per_task: dict[str, list[Parameter]] = {home[flow.read.cell]: [data_line]}
    per_task.setdefault(sections[-1].name, []).append(data_line)
    per_task[sections[-1].name] = list(dict.fromkeys(per_task[sections[-1].name]))
    for p in parameters:
        swaps.setdefault(p.cell, []).append((p.literal, p.name))
        per_task.setdefault(home[p.cell], []).append(p)
    read = read_expression(flow.read.node, literal, parameter)
    keep = ("from nbprod.pipeline.adoption import keep_her_run\n\n"
            f"print(keep_her_run(product, {flow.model}, {read}, {flow.X_train}, {flow.X_test}"
            + (f", target=({adoption.target!r}, {flow.y_train}, {_y_test(flow)})"
               if adoption.run.target else "") + "))")
    title = (f"A task of her notebook {adoption.notebook.name} (sha256 {adoption.sha256[:12]}), "
             "adopted by nbprod new --notebook: her cells as she wrote them; her data path, "
             "split and literal hyper-parameters are parameters (env.yaml).")
    tasks = her_tasks(sections, adoption.run.kinds or {}, adoption.cells,
                      markdown_cells(adoption.notebook), swaps, per_task, keep, package, title)
    return tasks, note


def adopted_files(files: dict[str, str], adoption: Adoption, package: str,
                  raw_file: str) -> tuple[dict[str, str], list[TaskSpec], str]:
    """The files of ``nbprod new`` turned into the files of an adopted project."""
    files = dict(files)
    del files["notebooks/features.ipynb"]
    names = {n.id for c in adoption.cells for n in ast.walk(c.tree()) if isinstance(n, ast.Name)}
    parameter = next(p for p in ("data_file", "data_file_", "nbprod_data_file") if p not in names)
    parameters = find_parameters(adoption.cells, adoption.flow)
    tasks, note = _tasks(adoption, package, raw_file, parameter, parameters)
    for task in tasks:
        files[f"notebooks/{task.name}.ipynb"] = task.notebook
    last = tasks[-1].name
    files["notebooks/train.ipynb"] = _train_task(package, last)
    files["tests/test_parity.py"] = _parity_test(last)
    tops: list[str] = []
    ignored = ["# her notebook's own outputs (remade by every build) and CatBoost's logs\n"
               "catboost_info/\n"]
    for folder in output_folders(adoption.cells, adoption.data_path):
        inside = posixpath.normpath(posixpath.join("notebooks", folder))
        if not inside.startswith("..") and inside not in ("notebooks", "."):
            files.setdefault(f"{inside}/.gitkeep", "")  # her cells write files there
            ignored.append(f"{inside}/*\n!{inside}/.gitkeep\n")  # remade by every build
            tops.append(inside.split("/")[0])
    extra = "".join(f", {json.dumps(t)}" for t in sorted(set(tops)))
    files[".gitignore"] = files[".gitignore"] + "".join(dict.fromkeys(ignored))
    _edit(files, "tests/conftest.py", '"wheels", "original"]', f'"wheels", "original"{extra}]')
    original = f"original/{safe_file_name(adoption.notebook.name, '.ipynb')}"
    files["pipeline.yaml"] = _pipeline(files["pipeline.yaml"], tasks, parameter, original)
    deps = 'dependencies = ["nbprod[pipeline,serve,lab,compile]=='
    line = next(x for x in files["pyproject.toml"].splitlines() if x.startswith(deps))
    pinned = ", ".join(json.dumps(p) for p in pins(adoption.cells))
    files["pyproject.toml"] = files["pyproject.toml"].replace(
        line, line[:-1] + f",\n  # her notebook's imports, at the versions it ran with\n  {pinned}]")
    if adoption.run.target:  # her target is computed by her task: ingest checks the records
        _records_only(files)
    for env in ("env.yaml", "env.smoke.yaml"):
        files[env] = _env(files[env], parameters)
    for rel, text in adoption.package.items():
        if rel != "__init__.py":
            files[f"src/{package}/{rel}"] = text
    _edit(files, "notebooks/evaluate.ipynb", '[\\"features\\", \\"train\\"]', '[\\"train\\"]')
    _edit(files, "notebooks/evaluate.ipynb", 'upstream[\\"features\\"]', 'upstream[\\"train\\"]')
    _edit(files, "notebooks/register.ipynb", '\\"features\\", \\"train\\"',
          f'\\"{last}\\", \\"train\\"')
    _edit(files, "README.md", "ingest -> features -> train",
          f"ingest -> {' -> '.join(t.name for t in tasks)} (her notebook) -> train")
    reports = ", ".join(json.dumps(t.name) for t in tasks)
    _edit(files, "tests/test_build.py", '"features", "train"', f'{reports}, "train"')
    module = adoption.run.models[adoption.flow.model].split(".")[0]
    libraries, types = needed(adoption.run.holds or [])
    # every fitted model of hers may pass between her tasks (saved and loaded back)
    models = {t.split(".")[0] for t in adoption.run.models.values()} & set(LIBRARIES)
    libraries = sorted(({module} & set(LIBRARIES) | models | set(libraries)) - {"sklearn"})
    if libraries:
        _edit(files, "trust.yaml", "libraries: []", f"libraries: {json.dumps(libraries)}")
    if types:
        _edit(files, "trust.yaml", "types: []", f"types: {json.dumps(types)}")
        libraries_of = ", ".join(sorted({t.split(".")[0] for t in types}))
        adoption.notes.append(f"trust.yaml lists the {len(types)} type(s) of other libraries "
                              f"her model holds ({libraries_of}): review them")
    return files, tasks, note


def _records_only(files: dict[str, str]) -> None:
    """The ingest task and the tests of a project whose target her notebook computes: her
    raw file has no target column, so they check the records (every declared column but
    the target)."""
    path = "notebooks/ingest.ipynb"
    _edit(files, path, 'from nbprod import ColumnTable,',
          'from nbprod.data.validation import validate_records\\n",\n    "from nbprod import '
          'ColumnTable,')
    _edit(files, path, "validated = validate(raw,", "validated = validate_records(raw,")
    _edit(files, path, "clean = stratified_sample(clean, table, sample_rows or None, split_seed)",
          "clean = clean.sample(n=min(sample_rows, len(clean)), random_state=split_seed)"
          ".sort_index() if sample_rows else clean")
    _edit(files, path, 'summary({\\"clean\\": clean}, table)', "clean.describe().T")
    for test in ("tests/test_columns.py", "tests/test_service.py"):
        _edit(files, test, "from nbprod import ColumnTable, read_table, validate\n",
              "from nbprod import ColumnTable, read_table\n"
              "# her notebook computes her target: the raw file has no target column\n"
              "from nbprod.data.validation import validate_records as validate\n")
    _edit(files, "tests/test_columns.py", 'declared = list(columns()["columns"])',
          'declared = [c for c in columns()["columns"] if c != columns()["target"]]')
    _edit(files, "tests/test_columns.py",
          'used = {c.get("source", name) for name, c in spec["columns"].items()}',
          'used = {c.get("source", name) for name, c in spec["columns"].items()\n'
          '            if name != spec["target"]}')


def create_adopted_project(dest: str | Path, notebook: str | Path, data: str | Path,
                           model: str | None = None, target: str | None = None,
                           name: str | None = None, wheel: bool = True) -> Adopted:
    """Adopt her notebook (:func:`nbprod.scaffold.adoption.adopt`) and write its project into
    ``dest``, all or nothing."""
    dest, data = Path(dest), Path(data)
    check_destination(dest)
    package = project_name(dest, name)
    adoption = adopt(notebook, data, model, target, package)
    frame = read_data(data)
    computed = adoption.target not in frame.columns
    if computed:  # her notebook computes it: her values, without the columns it is made from
        frame = with_her_target(frame, adoption.target, adoption.run.target,
                                adoption.run.sources)
    classes = adoption.run.classes
    positive = None
    if len(classes) == 2:
        positive = classes[1] if computed else next(
            (raw for raw, label in adoption.run.labels.items() if label == classes[1]), None)
    table = (table_of if computed else infer_table)(frame, adoption.target, positive)
    if computed:
        made = {h: f"her notebook computes the target {adoption.target!r} from it "
                f"({where_made(adoption.cells, adoption.target, h)})"
                for h in adoption.run.sources}
        table = replace(table, dropped={**made, **table.dropped})
    table, kept = declare_read_columns(table, frame, adoption.run.reads or [])
    adoption.notes.extend(kept)
    raw_file = safe_file_name(data.name, "." + file_format(data))
    written, tasks, note = adopted_files(project_files(package, table, raw_file, _wheel_name()),
                                         adoption, package, raw_file)
    files: dict[str, str | Path] = dict(written)
    files[f"data/raw/{raw_file}"] = data
    # her notebook as she gave it: the register step records its sha256 in the lineage
    files[f"original/{safe_file_name(adoption.notebook.name, '.ipynb')}"] = adoption.notebook
    committed = False

    def finish(folder: Path) -> None:
        nonlocal committed
        if wheel:
            _add_wheel(folder)
        committed = git_first_commit(folder, f"nbprod new --notebook {adoption.notebook.name}: "
                                     f"{package}, serving {adoption.flow.model}")

    path = write_tree(dest, files, executable=EXECUTABLE, finish=finish)
    return Adopted(Created(path=path, name=package, table=table, committed=committed,
                           raw_file=raw_file), adoption, [t.name for t in tasks], note)
