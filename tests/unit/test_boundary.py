"""The toolkit knows nothing of any one project: no import of the reference project's
package, no name of its data set, and the wheel holds nbprod alone."""

import ast
import re
import zipfile
from pathlib import Path

import pytest

import nbprod
from nbprod.registry.wheel import build_wheel

SRC = Path(nbprod.__file__).resolve().parent
#: Words that belong to the reference project (its package, data set, service, fields).
PROJECT_WORDS = re.compile(r"\b(churn|telco|ChurnService|tenure|monthly_charges)\b", re.I)


def toolkit_files() -> list[Path]:
    return sorted(p for p in SRC.rglob("*") if p.is_file() and p.suffix in {".py", ".yaml",
                  ".yml", ".toml", ".ipynb", ".md", ".txt", ".cfg", ".jinja", ".j2"}
                  and "__pycache__" not in p.parts)


def test_no_toolkit_module_imports_the_reference_project():
    for path in (p for p in toolkit_files() if p.suffix == ".py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            assert not [n for n in names if n.split(".")[0] == "churn"], path


@pytest.mark.parametrize("path", toolkit_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_toolkit_file_names_the_reference_project(path):
    hits = [m.group(0) for m in PROJECT_WORDS.finditer(path.read_text())]
    assert not hits, f"{path.relative_to(SRC)} names {sorted(set(hits))}"


def test_the_wheel_holds_only_nbprod(tmp_path):
    wheel = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    data = f"nbprod-{nbprod.__version__}.data"  # the JupyterLab panel and its server config
    assert tops == {"nbprod", f"nbprod-{nbprod.__version__}.dist-info", data}
    assert {n.split("/")[2] for n in names if n.startswith(data)} == {"share", "etc"}
    assert "nbprod/serving/service.py" in names and "nbprod/py.typed" in names
    assert not [n for n in names if n.endswith(".pyc")]
    assert build_wheel(tmp_path / "again").read_bytes() == wheel.read_bytes()  # reproducible
