"""The chain bento -> model -> pipeline run -> notebooks -> data of a registered model, each
link re-checked against the files its lineage recorded (``nbprod lineage``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .lifecycle import stage_of
from .lineage import verify_file
from .store import ARTIFACT, FILES, get_model

#: the statuses of a link whose file no longer matches its lineage: the chain is broken
BROKEN = ("modified", "missing")


def trace(tag: str, root: str | Path = ".") -> list[dict[str, Any]]:
    """The chain bento -> model -> pipeline run -> notebooks -> data for a model or bento tag.

    Each link is a dict with ``level``, ``name``, ``detail`` and ``status`` (``ok``,
    ``modified``, ``missing`` or ``recorded`` for facts that cannot be re-checked).
    Files are looked up relative to ``root``, the project folder.
    """
    links: list[dict[str, Any]] = []
    model_tag = tag
    bento = _find_bento(tag)
    if bento is not None:
        models = [str(m.tag) for m in bento.info.all_models]
        if not models:
            raise ConfigError(f"bento {bento.tag} holds no model")
        model_tag = models[0]
        links.append({"level": "bento", "name": str(bento.tag), "detail": f"holds {', '.join(models)}",
                      "status": "recorded"})
    model = get_model(model_tag)
    meta = model.info.metadata
    artifact = meta.get("artifact", {})
    status = verify_file(artifact.get("file", ARTIFACT), artifact.get("sha256", ""), model.path)
    stage = stage_of(model)
    links.append({"level": "model", "name": str(model.tag),
                  "detail": f"stage {stage}, artifact sha256 {artifact.get('sha256', '?')[:12]}",
                  "status": status})
    git = meta.get("git", {})
    metrics = meta.get("metrics", {})
    links.append({"level": "run", "name": f"git {str(git.get('commit', 'unknown'))[:12]}"
                  f"{' (dirty)' if git.get('dirty') is True else ''}",
                  "detail": ", ".join(f"{k}={metrics[k]:.4f}" for k in ("roc_auc", "pr_auc") if k in metrics),
                  "status": "recorded"})
    for task, info in sorted(meta.get("notebooks", {}).items()):
        links.append(_notebook_link(task, info, Path(model.path), root))
    for name, info in sorted(meta.get("data", {}).items()):
        links.append({"level": "data", "name": name, "detail": info["path"],
                      "status": verify_file(info["path"], info["sha256"], root)})
    return links


def broken(links: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The links of :func:`trace` whose file changed or is gone (none: the chain holds)."""
    return [link for link in links if link["status"] in BROKEN]


def _notebook_link(task: str, info: dict[str, Any], model_dir: Path, root: str | Path) -> dict:
    """An executed notebook: its copy archived in the model must match its hash; the
    workspace copy may since have been rebuilt by a later run, which is reported."""
    archived = model_dir / FILES / "reports" / Path(info["path"]).name
    workspace = verify_file(info["path"], info["sha256"], root)
    if not archived.is_file():  # registered without archived notebooks
        return {"level": "notebook", "name": task, "detail": info["path"], "status": workspace}
    status = verify_file(archived, info["sha256"])
    note = {"ok": "", "modified": "; workspace copy rebuilt since", "missing": "; no workspace copy"}
    detail = f"{archived.relative_to(model_dir)} in the model{note[workspace]} ({info['path']})"
    return {"level": "notebook", "name": task, "detail": detail, "status": status}


def _find_bento(tag: str):
    import bentoml

    try:
        return bentoml.bentos.get(tag)
    except (bentoml.exceptions.NotFound, ValueError):
        return None
