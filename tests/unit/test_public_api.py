"""The public API: ``nbprod.__all__``, each module's ``__all__``, and one exception root."""

import ast
import builtins
import importlib
import types
from pathlib import Path

import nbprod
from nbprod import errors

SOURCE = Path(nbprod.__file__).parent
#: built-in exception types; warning categories (``nbprod.compat.CompatWarning``) are not
#: errors and may live where they are issued
BUILTIN_EXCEPTIONS = {name for name, value in vars(builtins).items()
                      if isinstance(value, type) and issubclass(value, BaseException)
                      and not issubclass(value, Warning)}


def test_all_is_complete_and_importable():
    public = {
        name for name in dir(nbprod)
        if not name.startswith("_") and not isinstance(getattr(nbprod, name), types.ModuleType)
    }
    assert set(nbprod.__all__) == public
    for name in nbprod.__all__:
        assert getattr(nbprod, name) is not None


def test_every_error_derives_from_the_one_root():
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), nbprod.NbprodError)


def test_every_error_is_exported_from_the_root():
    defined = {name for name, value in vars(errors).items()
               if isinstance(value, type) and issubclass(value, BaseException)}
    assert defined == set(errors.__all__)
    assert set(errors.__all__) <= set(nbprod.__all__)


def _modules():
    return sorted(p for p in SOURCE.rglob("*.py") if "templates" not in p.parts)


def test_every_module_s_all_names_what_it_defines():
    for path in _modules():
        name = ".".join(path.relative_to(SOURCE.parent).with_suffix("").parts)
        name = name.removesuffix(".__init__")
        tree = ast.parse(path.read_text())
        if not any(isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "__all__"
                                                     for t in n.targets) for n in tree.body):
            continue
        module = importlib.import_module(name)
        missing = [n for n in module.__all__ if not hasattr(module, n)]
        assert not missing, f"{name}.__all__ names {missing}, which it does not define"


def _bases(node: ast.ClassDef) -> list[str]:
    return [ast.unparse(base).rpartition(".")[2] for base in node.bases]


def test_no_module_but_errors_defines_an_exception():
    """Every error the toolkit raises on purpose is in nbprod.errors, under the one root."""
    ours = set(errors.__all__)
    found = []
    for path in _modules():
        if path == SOURCE / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                    b in ours or b in BUILTIN_EXCEPTIONS for b in _bases(node)):
                found.append(f"{path.relative_to(SOURCE.parent)}:{node.lineno} {node.name}")
    assert not found, "exception classes outside nbprod/errors.py:\n" + "\n".join(found)
