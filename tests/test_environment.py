"""The project's own files agree with each other: conda and pip get the same pins."""

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _key(name: str) -> str:
    """A package's normalised name (jupyter_server -> jupyter-server)."""
    return re.sub(r"[-_.]+", "-", name).lower()


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
    "bentoml": "1.4.39",  # CVE-2026-35043, CVE-2026-35044 (1.4.38); CVE-2026-44345/44346 (1.4.39)
    "jupyter-server": "2.20.0",  # CVE-2026-44727
    "jupyterlab": "4.5.7",  # CVE-2026-40171
    "nbconvert": "7.17.0",
}

#: The venv's own tools, upgraded when `make` creates the venv (Python 3.11 bundles
#: setuptools 65.5.0, with CVE-2022-40897, CVE-2024-6345 and CVE-2025-47273).
TOOL_FLOORS = {
    "pip": "25.3",  # CVE-2025-8869
    "setuptools": "78.1.1",  # CVE-2025-47273 (and the two older ones)
}


def test_installed_versions_clear_known_advisories():
    from packaging.version import Version

    pins = lock_pins()
    for name, floor in ADVISORY_FLOORS.items():
        assert Version(version(name)) >= Version(floor), f"{name} {version(name)} < {floor}"
        assert name in pins and Version(pins[name]) >= Version(floor), name


def test_the_venv_tools_are_pinned_clear_of_advisories_and_installed():
    from packaging.version import Version

    pins = lock_pins()
    for name, floor in TOOL_FLOORS.items():
        assert Version(pins[name]) >= Version(floor), f"lock pins {name} {pins[name]} < {floor}"
        assert version(name) == pins[name], f"{name} {version(name)} is not the lock's {pins[name]}"


def test_a_new_venv_gets_the_pinned_pip_and_setuptools(tmp_path):
    """The Makefile's own venv recipe, run for real into a temporary folder."""
    import subprocess
    import sys

    venv = tmp_path / "venv"
    done = subprocess.run(
        ["make", "--no-print-directory", f"{venv}/bin/python", f"VENV={venv}", "INSTALLER=pip",
         f"PYTHON={sys.base_prefix}/bin/python3"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "upgrading pip and setuptools" in done.stdout
    listed = subprocess.run([f"{venv}/bin/python", "-m", "pip", "list", "--format=freeze"],
                            capture_output=True, text=True, check=True).stdout
    installed = dict(line.split("==") for line in listed.splitlines() if "==" in line)
    pins = lock_pins()
    assert {n: installed.get(n) for n in TOOL_FLOORS} == {n: pins[n] for n in TOOL_FLOORS}


def test_make_install_says_what_it_does_with_uv_and_falls_back_to_pip(tmp_path):
    """The install recipe (dry run): uv on the lock file, pip if uv is absent, nothing quiet."""
    import subprocess

    def dry(*args: str) -> str:
        return subprocess.run(["make", "-n", "--no-print-directory", "install",
                               f"VENV={tmp_path}/venv", *args], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout

    recipe = dry()
    install = next(line for line in recipe.splitlines() if "uv pip install" in line)
    assert "uv pip install --compile-bytecode --python" in install
    assert "-c requirements.lock.txt -e '.[all]' -e src/churn" in install
    assert "else" in install and "-m pip install --progress-bar on -c requirements.lock.txt -e '.[all]'" in install
    assert "--quiet" not in install
    assert "with uv" in recipe and f"uv=={lock_pins()['uv']}" in recipe
    assert "with pip" in dry("INSTALLER=pip")


def test_every_pin_of_the_lock_installs_on_every_python_the_project_admits():
    """The lowest Python pyproject.toml admits (3.11.0; Debian 12 ships 3.11.2) can install the
    whole lock: no pinned release asks for a newer Python (soupsieve 4.1.3 asked for 3.11.5)."""
    from importlib.metadata import PackageNotFoundError, metadata

    from packaging.specifiers import SpecifierSet

    admits = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    lowest = min(s.version for s in SpecifierSet(admits) if s.operator == ">=")
    refused = {}
    for name, pinned in lock_pins().items():
        try:
            meta = metadata(name)
        except PackageNotFoundError:
            continue  # not in this environment (an engine's or a platform's package)
        if meta["Version"] != pinned:
            continue
        wants = meta.get("Requires-Python")
        if wants and not SpecifierSet(wants).contains(lowest):
            refused[name] = wants
    assert not refused, f"pins that Python {lowest} cannot install: {refused}"
