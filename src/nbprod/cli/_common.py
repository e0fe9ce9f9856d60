"""What several commands share: the ``--name`` option, env.yaml's defaults, ``--debug``."""

from __future__ import annotations

import click

from ..pipeline.env_file import env_value, model_name, production_tag

__all__ = ["debugging", "env_value", "model_name", "name_option", "production_tag"]

name_option = click.option("--name", help="Model name (default: model_name in ./env.yaml).")


def debugging(ctx: click.Context) -> bool:
    """Whether ``nbprod --debug`` asked for tracebacks instead of one-line errors."""
    return bool(ctx.obj and ctx.obj.get("debug"))
