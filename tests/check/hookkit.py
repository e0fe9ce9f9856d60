"""Run `nbprod check` and the `on_render` hook on the same project, to compare them."""

from __future__ import annotations

import contextlib
import shutil
import sys
import warnings
from pathlib import Path

from nbprod.check import Finding, check
from nbprod.errors import ContractError
from nbprod.pipeline.hooks import NOT_AT_BUILD, enforce_contract


def copied(src: Path, dest: Path) -> Path:
    """``src`` copied to ``dest`` (out of the repository, so Ploomber finds only its spec)."""
    return Path(shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__")))


def lines(findings: list[Finding]) -> list[str]:
    return [f.format().splitlines()[0] for f in findings]


def check_lines(project: Path) -> list[str]:
    """``nbprod check``'s findings (without the rules the hook leaves to pre-commit)."""
    with contextlib.chdir(project):
        return lines(check(root=project, ignore=NOT_AT_BUILD))


def hook_lines(project: Path) -> list[str]:
    """What the build hook reports: the project's DAG built and rendered by Ploomber in
    this process (as `ploomber build` does before any task runs), then the hook's check."""
    from ploomber.spec import DAGSpec

    before = set(sys.modules)
    sys.path[:0] = [str(project), str(project / "src")]
    try:
        with contextlib.chdir(project), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dag = DAGSpec.find().to_dag()
            dag.render(show_progress=False, force=True)
            try:
                enforce_contract(dag)
            except ContractError as exc:
                return lines(exc.findings)
            return []
    finally:
        sys.path.remove(str(project))
        sys.path.remove(str(project / "src"))
        for name in set(sys.modules) - before:  # the project's own modules
            module_file = getattr(sys.modules[name], "__file__", None) or ""
            if module_file.startswith(str(project)):
                del sys.modules[name]
