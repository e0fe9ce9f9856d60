"""The project's own files agree with each other: conda and pip get the same pins."""

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _key(name: str) -> str:
    return name.lower().replace("_", "-")


def requirements() -> list[Requirement]:
    """Every requirement pyproject.toml names: the core, each extra, dev (not nbprod itself)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    return [r for r in map(Requirement, reqs) if _key(r.name) != "nbprod"]


def lock_pins() -> dict[str, str]:
    lines = (ROOT / "requirements.lock.txt").read_text().splitlines()
    return {_key(a): b for a, b in (line.split("==") for line in lines if "==" in line)}


def pyproject_pins() -> dict[str, str]:
    """Each package pyproject.toml names, at the version the lock file pins."""
    lock = lock_pins()
    return {_key(r.name): lock[_key(r.name)] for r in requirements()}


def test_the_lock_pins_every_named_package_within_its_range():
    lock = lock_pins()
    for req in requirements():
        assert _key(req.name) in lock, req.name
        assert req.specifier.contains(lock[_key(req.name)], prereleases=True), (req, lock[_key(req.name)])


def test_the_library_asks_for_ranges_and_the_tools_are_pinned():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [r for r in project["dependencies"] if "==" in r]  # a library: ranges
    assert all("==" in r for r in project["optional-dependencies"]["dev"])


def test_environment_yml_names_the_same_pinned_packages():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_pins = {_key(a): b for a, b in (r.split("==") for r in pip if "==" in r)}
    assert conda_pins == pyproject_pins()
    assert "-e .[all]" in pip and "-e src/churn" in pip
    assert "python=3.11" in env["dependencies"]


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

    pins = lock_pins()
    for name, floor in ADVISORY_FLOORS.items():
        assert Version(version(name)) >= Version(floor), f"{name} {version(name)} < {floor}"
        assert name in pins and Version(pins[name]) >= Version(floor), name
