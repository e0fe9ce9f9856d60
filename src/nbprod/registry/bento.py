"""The bento that serves a given model version: selected if it exists, built if not.

A bento is pinned to one model version (``bentoml build --arg model_tag=name:version``
freezes the tag into it). Promotion and rollback change which model is in production;
``nbprod bento`` then finds the bento holding that version, or builds it, so that serving
the bento always serves production. The bento's name is ``name`` in the project's
``bentofile.yaml``; the bento carries nbprod itself as a wheel (:mod:`nbprod.registry.wheel`,
listed under ``python.wheels``), so a container built from it needs nothing else.

``bentoml build`` runs in a copy of the build context (the bentofile, the files its
``include`` names and its wheels) in a temporary folder without a hidden part, which
BentoML refuses (:func:`nbprod.compat.bentoml.visible_build_context`).
"""

from __future__ import annotations

import glob
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..compat.bentoml import visible_build_context
from ..errors import ConfigError, ModelStoreError
from ..model.trust import ALWAYS, TRUST_FILE, Trust, project_trust
from .wheel import build_wheel

log = logging.getLogger(__name__)

BENTOFILE = "bentofile.yaml"
#: Where ``nbprod bento`` writes the wheel of nbprod that the bentofile lists.
WHEEL_DIR = Path("build") / "wheels"


def read_bentofile(project: str | Path = ".") -> dict[str, Any]:
    """The project's ``bentofile.yaml`` as a dict (clear errors when missing or invalid)."""
    import yaml

    path = Path(project) / BENTOFILE
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; a project needs one to build its bento") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not data.get("name"):
        raise ConfigError(f"{path}: needs a `name` (the bento's name)")
    return data


def bento_name(project: str | Path = ".") -> str:
    return str(read_bentofile(project)["name"])


def find_bento(model_tag: str, service: str):
    """The newest bento called ``service`` that holds exactly ``model_tag``, or None."""
    import bentoml

    try:
        bentos = bentoml.bentos.list(service)
    except bentoml.exceptions.NotFound:
        return None
    holding = [b for b in bentos if model_tag in {str(m.tag) for m in b.info.all_models}]
    return max(holding, key=lambda b: b.info.creation_time) if holding else None


def context_files(project: Path, bentofile: dict[str, Any]) -> list[Path]:
    """The project files ``bentoml build`` reads: its include patterns and wheels."""
    files = {project / BENTOFILE}
    for pattern in bentofile.get("include") or []:
        for match in glob.glob(str(project / pattern), recursive=True):
            if Path(match).is_file():
                files.add(Path(match))
    python = bentofile.get("python") or {}
    for wheel in python.get("wheels") or []:
        files.add(project / wheel)
    for key in ("requirements_txt", "lock_file"):
        if python.get(key):
            files.add(project / python[key])
    missing = sorted(str(f.relative_to(project)) for f in files if not f.is_file())
    if missing:
        raise ConfigError(f"{project / BENTOFILE} names file(s) that do not exist: {missing}")
    return sorted(files)


def packaged(bentofile: dict[str, Any], project: Path, trust: Trust,
             trained_with: dict[str, str], onnx: bool = False) -> dict[str, Any]:
    """``bentofile`` with what the model needs beyond nbprod: the libraries the project's
    trust file turns on, pinned at their installed versions (which must be the ones the
    model was trained with, ``trained_with``), and a wheel of each of the project's own
    packages (written into ``build/wheels``), so the bento serves with nothing else.

    An ONNX model or a compiled graph (``onnx``) adds onnxruntime, which runs it. Only the project's trust file
    chooses what else is added; the store's record of the trained versions can refuse a
    bento, never add to it.
    """
    python = dict(bentofile.get("python") or {})
    packages = list(python.get("packages") or [])
    named = {_requirement_name(p) for p in packages}
    for dist, installed in library_versions(trust, onnx).items():
        trained = trained_with.get(dist)
        if trained is not None and trained != installed:
            raise ModelStoreError(
                f"the model was trained with {dist} {trained}, and this environment has "
                f"{installed}: install {dist}=={trained} (make install) or retrain (make run)"
            )
        if _key(dist) not in named:
            packages.append(f"{dist}=={installed}")
    wheels = list(python.get("wheels") or [])
    for package in trust.packages:
        wheel = build_wheel(project / WHEEL_DIR, _distribution_of(package), package,
                            requirements=False)
        relative = wheel.relative_to(project).as_posix()
        if relative not in wheels:
            wheels.append(relative)
    return {**bentofile, "python": {**python, "packages": packages, "wheels": wheels}}


def library_versions(trust: Trust, onnx: bool = False) -> dict[str, str]:
    """The installed distribution and version of each library the trust file turns on
    (scikit-learn's is pinned in every bentofile already), and onnxruntime for ``onnx``."""
    from importlib.metadata import packages_distributions, version

    found: dict[str, str] = {}
    providers = packages_distributions()
    for library in (*trust.libraries, *(("onnxruntime",) if onnx else ())):
        if library in ALWAYS:
            continue
        dists = providers.get(library)
        if not dists:
            raise ConfigError(f"the model needs {library} ({trust.source or TRUST_FILE}), "
                              "which is not installed here: install it (make install)")
        found.update({dist: version(dist) for dist in dists})
    return found


def _distribution_of(package: str) -> str:
    """The installed distribution providing ``package``; the package's own name when it is
    importable from its source folder only."""
    import importlib.util
    from importlib.metadata import packages_distributions

    dists = packages_distributions().get(package)
    if dists:
        return dists[0]
    if importlib.util.find_spec(package) is None:
        raise ConfigError(f"the project's package {package!r} ({TRUST_FILE}: packages) is not "
                          "installed: install the project (make install)")
    return package


def _requirement_name(requirement: str) -> str:
    import re

    return _key(re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0])


def _key(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def build_bento(model_tag: str, project: str | Path = ".") -> str:
    """Run ``bentoml build --arg model_tag=...`` on ``project``'s context; return the bento tag.

    The bentofile built from is :func:`packaged`'s: the project's, plus the model's
    libraries and the project's own packages.
    """
    import yaml

    from .store import get_model

    project = Path(project).resolve()
    name = bento_name(project)
    build_wheel(project / WHEEL_DIR)
    metadata = get_model(model_tag).info.metadata
    trained_with = (metadata.get("model") or {}).get("libraries") or {}
    # onnxruntime runs an ONNX artifact, and the compiled graph of any other model
    onnx = ((metadata.get("artifact") or {}).get("format") == "onnx"
            or bool((metadata.get("compiled") or {}).get("file")))
    bentofile = packaged(read_bentofile(project), project, project_trust(project), trained_with,
                         onnx)
    bentoml_cli = Path(sys.executable).parent / "bentoml"
    files = context_files(project, bentofile)
    with visible_build_context(project, files) as context:
        (context / BENTOFILE).write_text(yaml.safe_dump(bentofile, sort_keys=False))
        result = subprocess.run(
            [str(bentoml_cli), "build", "--output", "tag", "--arg", f"model_tag={model_tag}",
             "--arg", f"service_name={name}"],
            cwd=context, capture_output=True, text=True, timeout=900,
            env={**os.environ, "BENTOML_DO_NOT_TRACK": "true"},
        )
    tags = [line.split("__tag__:", 1)[1].strip() for line in result.stdout.splitlines()
            if line.startswith("__tag__:")]
    if result.returncode != 0 or not tags:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise ModelStoreError(f"bentoml build for {model_tag} failed: " + " | ".join(tail))
    log.info("built bento %s for %s", tags[0], model_tag)
    return tags[0]


def bento_for(model_tag: str, project: str | Path = ".") -> tuple[str, bool]:
    """The bento tag serving ``model_tag`` and whether it was built just now."""
    found = find_bento(model_tag, bento_name(project))
    if found is not None:
        return str(found.tag), False
    return build_bento(model_tag, project), True
