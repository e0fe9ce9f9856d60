"""The wheel nbprod writes of itself (for `nbprod new` projects and bentos) carries the
prebuilt JupyterLab panel and the config enabling its server extension, whether nbprod is
installed from a wheel or editable from its source tree, and pip installs them where
JupyterLab and Jupyter server look."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from importlib.metadata import distributions
from pathlib import Path

from nbprod.registry.wheel import _data_files, build_wheel

PANEL = "share/jupyter/labextensions/nbprod"
CONFIG = "etc/jupyter/jupyter_server_config.d/nbprod.json"


def test_the_wheel_of_nbprod_carries_the_panel_and_pip_installs_it(tmp_path):
    wheel = build_wheel(tmp_path / "wheels")
    names = zipfile.ZipFile(wheel).namelist()
    data = sorted(n.split(".data/data/", 1)[1] for n in names if ".data/data/" in n)
    assert f"{PANEL}/package.json" in data and CONFIG in data
    package = json.loads(zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith(f"{PANEL}/package.json"))))
    assert f"{PANEL}/{package['jupyterlab']['_build']['load']}" in data

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # uv, into that venv alone (pip's --prefix would uninstall the running nbprod first)
    subprocess.run([str(Path(sys.executable).with_name("uv")), "pip", "install", "--quiet",
                    "--offline", "--no-deps", "--python", str(venv / "bin" / "python"), str(wheel)],
                   check=True, timeout=120)
    assert json.loads((venv / CONFIG).read_text()) == {
        "ServerApp": {"jpserver_extensions": {"nbprod.pipeline.lab_panel": True}}}
    assert (venv / PANEL / "package.json").read_bytes() == package_bytes(wheel)

    # nbprod installed from that wheel: its data files are found from what it installed
    site = next(venv.glob("lib/python*/site-packages"))
    (installed,) = [d for d in distributions(path=[str(site)]) if d.metadata["Name"] == "nbprod"]
    found = dict(_data_files(installed, site / "nbprod"))
    assert set(found) == set(data)
    assert found[CONFIG].resolve() == (venv / CONFIG).resolve()


def package_bytes(wheel: Path) -> bytes:
    archive = zipfile.ZipFile(wheel)
    return archive.read(next(n for n in archive.namelist() if n.endswith(f"{PANEL}/package.json")))
