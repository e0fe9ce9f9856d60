"""``nbprod new``: a data file and a target column -> a complete project folder.

:func:`project_files` renders the templates (``templates/project``, package data) with the
names of one project; :func:`create_project` infers the column table, renders, adds the
data, the lock file and an nbprod wheel, makes the first git commit and moves the folder
into place, all or nothing (:mod:`nbprod.scaffold.writer`).

Templates are plain copies of a working project in which ``@@key@@`` marks a name; a file
``dot-X`` is written as ``.X`` and a ``.tmpl`` suffix is dropped (so the templates are
neither collected nor linted as the toolkit's own code).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
from dataclasses import dataclass, replace
from importlib import resources
from importlib.abc import Traversable
from importlib.metadata import version
from pathlib import Path

from ..data.files import file_format, sniff_delimiter
from ..errors import ConfigError, NbprodError
from .derived import REASON, derive, load_clean, packaged
from .infer import Inferred, infer_table, read_data
from .kinds import kind_tokens
from .names import identifier, safe_file_name
from .tablefile import render_columns
from .writer import git_first_commit, write_tree

__all__ = ["Created", "create_project", "project_files", "render", "smoke_rows"]

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"@@(\w+)@@")
#: the smoke variant's stratified sample (the whole file when it is not much larger)
SMOKE_ROWS = 600
EXECUTABLE = frozenset({".ci/run"})


@dataclass(frozen=True)
class Created:
    """What ``nbprod new`` wrote."""

    path: Path
    name: str
    table: Inferred
    committed: bool
    #: the data file's name in the project (data/raw/), made safe (:func:`safe_file_name`)
    raw_file: str = ""
    #: a CSV's sniffed delimiter (the pipeline sniffs it again), None for Parquet
    delimiter: str | None = None


def _snake(record: str) -> str:
    """The JSON field of one record, as the service names it: ``Loan`` -> ``loan``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", record).lower()


def render(text: str, tokens: dict[str, str], where: str = "template") -> str:
    """``text`` with every ``@@key@@`` replaced; an unknown key is a template bug."""

    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in tokens:
            raise NbprodError(f"{where}: unknown placeholder @@{key}@@ (a bug in nbprod new)")
        return tokens[key]

    return _TOKEN.sub(one, text)


def _walk(folder: Traversable, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        name = entry.name
        if name == "__pycache__":
            continue
        if name.startswith("dot-"):
            name = "." + name[4:]
        rel = f"{prefix}{name}"
        if entry.is_dir():
            out.update(_walk(entry, rel + "/"))
        else:
            out[rel.removesuffix(".tmpl")] = entry.read_text(encoding="utf-8")
    return out


def templates() -> dict[str, str]:
    """Relative path (with placeholders) -> template text, for every file of a project."""
    return _walk(resources.files(__package__) / "templates" / "project")


def lock_file() -> str:
    """nbprod's own lock file (exact versions tested together), shipped as package data."""
    return (resources.files(__package__) / "templates" / "requirements.lock.txt").read_text()


def smoke_rows(rows: int) -> int:
    """``sample_rows`` of env.smoke.yaml: a stratified sample, or 0 (every row) if small."""
    return SMOKE_ROWS if rows > 2 * SMOKE_ROWS else 0


def tokens_for(name: str, table: Inferred, raw_file: str, wheel: str) -> dict[str, str]:
    tokens = {
        "name": name,
        "title": name.replace("_", " ").capitalize(),
        "model_name": name,
        "target": table.target,
        "positive": str(table.positive),
        "record": table.record,
        "request_key": _snake(table.record),
        "example_fields": ", ".join(f'"{name}": ...' for name in table.features[:3])
        + (", ..." if len(table.features) > 3 else ""),
        "raw_file": raw_file,  # safe_file_name: no quote, brace or newline can reach a file
        "raw_data": f"data/raw/{raw_file}",
        "sample_rows": str(smoke_rows(table.rows)),
        "nbprod_version": version("nbprod"),
        "wheel": wheel,
        **kind_tokens(table),
    }
    # values from the data reach YAML through its serializer: a JSON string is a YAML scalar
    tokens["description"] = json.dumps(f"{tokens['title']}: {tokens['answer']}.")
    return tokens


def project_files(name: str, table: Inferred, raw_file: str, wheel: str) -> dict[str, str]:
    """Every rendered text file of the project (not the data, wheel or lock file)."""
    tokens = tokens_for(name, table, raw_file, wheel)
    # a notebook is JSON: its tokens land inside JSON strings, escaped
    in_json = {k: json.dumps(v)[1:-1] for k, v in tokens.items()}
    files = {
        render(rel, tokens, rel): render(text, in_json if rel.endswith(".ipynb") else tokens, rel)
        for rel, text in templates().items()
    }
    files["columns.yaml"] = render_columns(table, raw_file)
    files["requirements.lock.txt"] = lock_file()
    return files


def project_name(dest: Path, name: str | None) -> str:
    """The project's package name: ``--name``, else the folder's name as an identifier."""
    chosen = name if name is not None else identifier(dest.absolute().name)
    if not chosen.isidentifier() or chosen != identifier(chosen):
        raise ConfigError(f"--name {chosen!r} is not a lower-case Python identifier; "
                          f"try --name {identifier(chosen)}")
    if chosen == "nbprod" or (
        importlib.util.find_spec(chosen) is not None and chosen not in ("tests",)
    ):
        raise ConfigError(f"--name {chosen!r} is already an importable Python module; "
                          "pick another name")
    return chosen


def _wheel_name() -> str:
    return f"wheels/nbprod-{version('nbprod')}-py3-none-any.whl"


def _add_wheel(folder: Path) -> None:
    from ..registry.wheel import build_wheel

    built = build_wheel(folder / "wheels")
    log.info("nbprod wheel: %s", built.name)


def create_project(
    dest: str | Path,
    data: str | Path,
    target: str,
    positive: str | None = None,
    name: str | None = None,
    wheel: bool = True,
    kind: str | None = None,
    clean: str | Path | None = None,
) -> Created:
    """Write the project for ``data`` with ``target`` as the column to predict into ``dest``.

    ``wheel=False`` leaves out the nbprod wheel (the project then installs nbprod from
    wherever pip finds it). ``clean`` is her Python file defining ``clean(df)``: it runs
    before inference, may compute the target (:mod:`nbprod.scaffold.derived`) and becomes
    the project's cleaning step. Raises :class:`~nbprod.errors.NbprodError` subclasses for
    bad input, with nothing written.
    """
    from .writer import check_destination

    dest, data = Path(dest), Path(data)
    check_destination(dest)
    package = project_name(dest, name)
    frame = read_data(data)
    sources: list[str] = []
    if clean is not None:
        frame, sources = derive(frame, load_clean(clean), target, str(clean))
    table = infer_table(frame, target, positive, kind)
    if sources:  # left out: the target is computed from them
        table = replace(table, dropped={**dict.fromkeys(sources, REASON), **table.dropped})
    raw_file = safe_file_name(data.name, "." + file_format(data))
    files: dict[str, str | Path] = dict(project_files(package, table, raw_file, _wheel_name()))
    if clean is not None:  # her file becomes the package's cleaning step
        init = f"src/{package}/__init__.py"
        files[init] = packaged(str(files[init]))
        files[f"src/{package}/cleaning.py"] = Path(clean).read_text(encoding="utf-8")
    files[f"data/raw/{raw_file}"] = data
    committed = False

    def finish(folder: Path) -> None:
        nonlocal committed
        if wheel:
            _add_wheel(folder)
        committed = git_first_commit(folder, f"nbprod new: {package}, predicting {table.target}")

    path = write_tree(dest, files, executable=EXECUTABLE, finish=finish)
    delimiter = None if file_format(data) == "parquet" else sniff_delimiter(data)
    return Created(path=path, name=package, table=table, committed=committed,
                   raw_file=raw_file, delimiter=delimiter)
