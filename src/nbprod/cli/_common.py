"""What several commands share: the ``--name`` option, env.yaml's defaults, ``--debug``."""

from __future__ import annotations

import click

from ..pipeline.env_file import env_value, model_name, production_tag

__all__ = ["Group", "debugging", "env_value", "model_name", "name_option", "production_tag"]


class Group(click.Group):
    """A group whose command list gives each command's whole first sentence, wrapped, where
    click cuts it at 45 characters with "..."."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

name_option = click.option("--name", help="Model name (default: model_name in ./env.yaml).")


def debugging(ctx: click.Context) -> bool:
    """Whether ``nbprod --debug`` asked for tracebacks instead of one-line errors."""
    return bool(ctx.obj and ctx.obj.get("debug"))
