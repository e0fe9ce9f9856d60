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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..data.files import file_format
from ..errors import ConfigError, NbprodError
from ..model.trust import LIBRARIES
from .adoption import Adoption, adopt
from .infer import infer_table, read_data
from .names import safe_file_name
from .notebook_params import Parameter, find_parameters, with_parameters
from .notebook_source import Cell
from .project import EXECUTABLE, Created, _add_wheel, _wheel_name, project_files, project_name
from .writer import check_destination, git_first_commit, write_tree

__all__ = ["Adopted", "create_adopted_project"]

log = logging.getLogger(__name__)

#: her task's products and their files (products/notebook/)
HER_PRODUCTS = {"her_model": "her_model.skops", "heldout": "heldout.parquet",
                "training_rows": "training_rows.parquet", "model_input": "model_input.parquet"}
TRAIN_PRODUCTS = ("model", "test", "train", "schema", "reference")


@dataclass(frozen=True)
class Adopted:
    created: Created
    adoption: Adoption


def _notebook(cells: list[dict[str, Any]]) -> str:
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook(cells=[
        new_markdown_cell(c["source"]) if c["kind"] == "markdown"
        else new_code_cell(c["source"], metadata={"tags": c["tags"]} if c.get("tags") else {})
        for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nbformat.writes(nb) + "\n"


def _her_task(adoption: Adoption, raw_file: str, parameter: str,
              parameters: list[Parameter]) -> str:
    """notebooks/notebook.ipynb: a parameters cell, her cells (her literals that are
    parameters replaced by their names), the cell keeping her run."""
    import nbformat

    flow = adoption.flow
    literal = next(n for n in ast.walk(flow.read.node) if isinstance(n, ast.Constant)
                   and n.value == adoption.data_path)
    product = {key: f"../products/notebook/{file}" for key, file in HER_PRODUCTS.items()}
    params = [f"upstream = None\nproduct = {product!r}",
              f"{parameter} = {f'../data/raw/{raw_file}'!r}  # her data file (env.yaml: raw_data)"]
    params += [f"{p.name} = {p.value!r}  # cell {p.cell}" for p in parameters]
    cells: list[dict[str, Any]] = [
        {"kind": "markdown", "source": f"# {adoption.notebook.stem}\n\nHer notebook "
         f"({adoption.notebook.name}, sha256 {adoption.sha256[:12]}), adopted by nbprod new "
         "--notebook: her cells as she wrote them; her data file's path, her split and her "
         "model's literal hyper-parameters are parameters (env.yaml)."},
        {"kind": "code", "source": "\n".join(params), "tags": ["parameters"]}]
    original = nbformat.read(str(adoption.notebook), as_version=4)
    code = {c.number: c for c in adoption.cells}
    swaps: dict[int, list[tuple[ast.Constant, str]]] = {flow.read.cell: [(literal, parameter)]}
    for p in parameters:
        swaps.setdefault(p.cell, []).append((p.literal, p.name))
    for number, cell in enumerate(original.cells, 1):
        if cell.cell_type == "markdown":
            cells.append({"kind": "markdown", "source": cell.source})
        elif number in code:
            source = with_parameters(code[number].source, swaps.get(number, []))
            cells.append({"kind": "code", "source": source.rstrip("\n")})
    value = flow.read.node.value if isinstance(flow.read.node, ast.Assign) else None
    if value is None:
        raise NbprodError(f"{flow.read.where}: read the data with an assignment, then adopt")
    read = ast.unparse(_replace(value, literal, parameter))
    cells.append({"kind": "code", "source":
                  "from nbprod.pipeline.adoption import keep_her_run\n\n"
                  f"print(keep_her_run(product, {flow.model}, {read}, {flow.X_train}, "
                  f"{flow.X_test}))"})
    return _notebook(cells)


def _replace(node: ast.expr, literal: ast.Constant, parameter: str) -> ast.expr:
    class Swap(ast.NodeTransformer):
        def visit_Constant(self, found: ast.Constant) -> ast.AST:
            return ast.Name(parameter, ast.Load()) if found.value == literal.value else found

    return Swap().visit(ast.parse(ast.unparse(node), mode="eval")).body


def _train_task(package: str) -> str:
    product = {"nb": "../products/reports/train.ipynb",
               **{key: f"../products/model/{key}" for key in TRAIN_PRODUCTS}}
    return _notebook([
        {"kind": "markdown", "source": "# Her model, served\n\nHer notebook's model behind her "
         f"feature function (`{package}.features`), aligned to her training columns, checked "
         "against her notebook's own answers on her held-out rows (the build fails, naming the "
         "first differing row and column, unless they agree), then stored for evaluation."},
        {"kind": "code", "tags": ["parameters"], "source":
         f"upstream = ['notebook']\nproduct = {product!r}\n"
         "resources_ = {'columns': '../columns.yaml'}"},
        {"kind": "code", "source": f"import {package}.features\n"
         "from nbprod.pipeline.adoption import serve_her_model"},
        {"kind": "code", "source": "print(serve_her_model(upstream['notebook'], product, "
         f"resources_['columns'], {package}.features.features))"}])


def _edit(files: dict[str, str], path: str, old: str, new: str) -> None:
    if old not in files[path]:
        raise NbprodError(f"{path}: {old!r} not found (a bug in nbprod new --notebook)")
    files[path] = files[path].replace(old, new)


def _pipeline(text: str, parameter: str, parameters: list[Parameter]) -> str:
    head = text[: text.index("meta:")]
    spec = yaml.safe_load(text)
    tasks = {t["name"]: t for t in spec["tasks"]}
    common = {k: copy.deepcopy(tasks["train"][k])
              for k in ("executor", "executor_params", "nb_product_key")}
    her = {"source": "notebooks/notebook.ipynb", "name": "notebook", **common,
           "product": {"nb": "{{products}}/reports/notebook.ipynb",
                       "nb_html": "{{products}}/reports/notebook.html",
                       **{k: f"{{{{products}}}}/notebook/{f}" for k, f in HER_PRODUCTS.items()}},
           "params": {parameter: "{{raw_data}}",
                      **{p.name: f"{{{{{p.name}}}}}" for p in parameters}}}
    train = {**tasks["train"], "params": {"resources_": {"columns": "{{columns}}"}},
             "product": {**{k: tasks["train"]["product"][k] for k in ("nb", "nb_html")},
                         **{k: tasks["features"]["product"].get(k) or tasks["train"]["product"][k]
                            for k in TRAIN_PRODUCTS}}}
    spec["tasks"] = [tasks["ingest"], her, train,
                     *(tasks[n] for n in ("evaluate", "register", "score"))]
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


def adopted_files(files: dict[str, str], adoption: Adoption, package: str,
                  raw_file: str) -> dict[str, str]:
    """The files of ``nbprod new`` turned into the files of an adopted project."""
    files = dict(files)
    del files["notebooks/features.ipynb"]
    names = {n.id for c in adoption.cells for n in ast.walk(c.tree()) if isinstance(n, ast.Name)}
    parameter = next(p for p in ("data_file", "data_file_", "nbprod_data_file") if p not in names)
    parameters = find_parameters(adoption.cells, adoption.flow)
    files["notebooks/notebook.ipynb"] = _her_task(adoption, raw_file, parameter, parameters)
    files["notebooks/train.ipynb"] = _train_task(package)
    files["pipeline.yaml"] = _pipeline(files["pipeline.yaml"], parameter, parameters)
    deps = 'dependencies = ["nbprod[pipeline,serve,lab,compile]=='
    line = next(x for x in files["pyproject.toml"].splitlines() if x.startswith(deps))
    pinned = ", ".join(json.dumps(p) for p in pins(adoption.cells))
    files["pyproject.toml"] = files["pyproject.toml"].replace(
        line, line[:-1] + f",\n  # her notebook's imports, at the versions it ran with\n  {pinned}]")
    for env in ("env.yaml", "env.smoke.yaml"):
        files[env] = _env(files[env], parameters)
    for rel, text in adoption.package.items():
        if rel != "__init__.py":
            files[f"src/{package}/{rel}"] = text
    _edit(files, "notebooks/evaluate.ipynb", '[\\"features\\", \\"train\\"]', '[\\"train\\"]')
    _edit(files, "notebooks/evaluate.ipynb", 'upstream[\\"features\\"]', 'upstream[\\"train\\"]')
    _edit(files, "notebooks/register.ipynb", '\\"features\\", \\"train\\"',
          '\\"notebook\\", \\"train\\"')
    _edit(files, "tests/test_build.py", '"features", "train"', '"notebook", "train"')
    module = adoption.run.models[adoption.flow.model].split(".")[0]
    if module in LIBRARIES and module != "sklearn":
        _edit(files, "trust.yaml", "libraries: []", f"libraries: {json.dumps([module])}")
    return files


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
    classes = adoption.run.classes
    positive = None
    if len(classes) == 2:
        positive = next((raw for raw, label in adoption.run.labels.items()
                         if label == classes[1]), None)
    table = infer_table(frame, adoption.target, positive)
    raw_file = safe_file_name(data.name, "." + file_format(data))
    files: dict[str, str | Path] = dict(adopted_files(
        project_files(package, table, raw_file, _wheel_name()), adoption, package, raw_file))
    files[f"data/raw/{raw_file}"] = data
    committed = False

    def finish(folder: Path) -> None:
        nonlocal committed
        if wheel:
            _add_wheel(folder)
        committed = git_first_commit(folder, f"nbprod new --notebook {adoption.notebook.name}: "
                                     f"{package}, serving {adoption.flow.model}")

    path = write_tree(dest, files, executable=EXECUTABLE, finish=finish)
    return Adopted(Created(path=path, name=package, table=table, committed=committed,
                           raw_file=raw_file), adoption)
