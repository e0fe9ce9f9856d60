"""The project's own files agree with each other: conda and pip get the same pins."""

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + [r for extra in project["optional-dependencies"].values()
                                      for r in extra]
    return dict(r.split("==") for r in reqs)


def test_environment_yml_names_the_same_pinned_packages_as_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_pins = dict(r.split("==") for r in pip if "==" in r)
    assert conda_pins == pyproject_pins()
    assert "-e ." in pip
    assert "python=3.11" in env["dependencies"]


def test_lock_file_agrees_with_the_pins():
    lock = dict(
        line.split("==") for line in (ROOT / "requirements.lock.txt").read_text().splitlines()
        if "==" in line
    )
    for name, pin in pyproject_pins().items():
        assert lock.get(name) == pin or lock.get(name.replace("-", "_")) == pin, name


def test_installed_versions_are_the_pinned_ones():
    for name, pin in pyproject_pins().items():
        assert version(name) == pin, name


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci/run").read_text()
    assert "make test" in readme and re.search(r"^make test$", ci, re.M)


# Lowest versions clear of the security advisories known for this stack; the pins must
# stay at or above them (raise a floor here when a new advisory is published).
ADVISORY_FLOORS = {
    "bentoml": "1.4.37",
    "jupyter-server": "2.18.0",
    "nbconvert": "7.17.0",
}


def test_installed_versions_clear_known_advisories():
    from packaging.version import Version

    pins = pyproject_pins()
    for name, floor in ADVISORY_FLOORS.items():
        assert Version(version(name)) >= Version(floor), f"{name} {version(name)} < {floor}"
        assert name in pins and Version(pins[name]) >= Version(floor), name
