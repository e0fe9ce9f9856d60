"""`nbprod --help` and the start of every command stay light: no pandas, BentoML or
Ploomber until a command needs them. Measured on the real entry
point with Python's own import log (``PYTHONPROFILEIMPORTTIME``)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nbprod.cli import main

NBPROD = Path(sys.executable).with_name("nbprod")
HEAVY = ("pandas", "bentoml", "ploomber", "numpy", "sklearn", "pyarrow", "matplotlib")


def imported_by(*args: str) -> set[str]:
    """Top-level packages imported by `nbprod ARGS` (it must exit 0)."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run([str(NBPROD), *args], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("import time:")]
    assert lines, "no import log: PYTHONPROFILEIMPORTTIME was ignored"
    return {ln.rsplit("|", 1)[1].strip().split(".")[0] for ln in lines[1:]}


def test_help_imports_none_of_the_heavy_packages():
    modules = imported_by("--help")
    assert "click" in modules  # the log is real: the CLI's own framework shows in it
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def _commands(group, prefix=()):
    import click

    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


@pytest.mark.parametrize("command", list(_commands(main)), ids=" ".join)
def test_the_start_of_every_command_is_light(command):
    assert not imported_by(*command, "--help") & set(HEAVY)


def test_the_public_api_is_the_same_and_loaded_on_first_use():
    code = (
        "import sys, nbprod\n"
        "assert 'pandas' not in sys.modules and 'nbprod.registry.store' not in sys.modules\n"
        "from nbprod import NbprodError, register_model\n"
        "assert 'nbprod.registry.store' in sys.modules and callable(register_model)\n"
        "import nbprod.registry.store\n"
        "assert nbprod.register_model is nbprod.registry.store.register_model\n"
        "try:\n"
        "    nbprod.no_such_name\n"
        "except AttributeError as exc:\n"
        "    assert 'no_such_name' in str(exc)\n"
        "else:\n"
        "    raise SystemExit('no AttributeError')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
