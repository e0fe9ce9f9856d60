"""The project's ``env.yaml`` as the command line reads it: a value, the model's name, and that
model's production version (the defaults of ``nbprod models``, ``drift``, ``score``, ...)."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError

ENV_FILE = "env.yaml"


def env_value(key: str, project: str | Path = ".") -> str:
    """``key`` of ``project``'s env.yaml, with ``{{here}}`` resolved to the project folder."""
    import yaml

    env = Path(project) / ENV_FILE
    if env.is_file():
        try:
            data = yaml.safe_load(env.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{env}: not valid YAML: {exc}") from None
        value = data.get(key) if isinstance(data, dict) else None
        if value not in (None, ""):
            return str(value).replace("{{here}}", str(Path(project).resolve()))
    raise ConfigError(f"no {key} in ./{ENV_FILE}; run from the project folder or pass it")


def model_name(project: str | Path = ".") -> str:
    """The project's model name: ``model_name`` in env.yaml."""
    try:
        return env_value("model_name", project)
    except ConfigError:
        raise ConfigError(f"no model name given and no model_name in ./{ENV_FILE}; "
                          "pass --name") from None


def production_tag(name: str | None = None, project: str | Path = ".") -> str:
    """The production version of ``name`` (default: the project's model), or a clear error."""
    from ..registry.lifecycle import production

    name = name or model_name(project)
    model = production(name)
    if model is None:
        raise ConfigError(f"model {name!r} has no production version; promote one "
                          "(nbprod promote TAG) or pass --model TAG")
    return str(model.tag)
