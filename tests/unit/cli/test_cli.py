import json

import numpy as np
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

from nbprod import register_model
from nbprod.cli import main


def test_summary_of_a_build(model_name, tmp_path):
    model = LogisticRegression().fit(np.array([[0.0], [1.0]]), [0, 1])
    tag = register_model(model_name, model, {"metrics": {"roc_auc": 0.9, "f1": 0.5}})
    products = tmp_path / "products"
    (products / "model").mkdir(parents=True)
    (products / "reports").mkdir()
    (products / "reports" / "train.html").write_text("<html></html>")
    (products / "model" / "registration.json").write_text(json.dumps({"tag": tag}))
    result = CliRunner().invoke(main, ["summary", "--products", str(products)])
    assert result.exit_code == 0, result.output
    assert tag in result.output
    assert "roc_auc=0.9000" in result.output
    assert "train.html" in result.output
    (products / "reports" / "index.html").write_text("<html></html>")
    result = CliRunner().invoke(main, ["summary", "--products", str(products)])
    assert f"reports           {products / 'reports' / 'index.html'} (train.html)" in result.output


def test_errors_are_one_line_and_exit_1(tmp_path):
    result = CliRunner().invoke(main, ["summary", "--products", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "registration.json not found; run the pipeline first" in result.output


def test_debug_shows_the_traceback(tmp_path):
    result = CliRunner().invoke(main, ["--debug", "summary", "--products", str(tmp_path)])
    assert result.exit_code == 1
    assert type(result.exception).__name__ == "NbprodError"


def test_every_command_has_help():
    for args in (["--help"], ["summary", "--help"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0 and "Usage" in result.output


def test_command_lists_give_each_first_sentence_whole():
    """click cuts a command's description at 45 characters with "..."; ours are whole."""
    for args in (["--help"], ["models", "--help"]):
        listing = CliRunner(env={"COLUMNS": "100"}).invoke(main, args).output
        commands = listing.partition("Commands:")[2]
        assert commands and "..." not in commands, listing
    listing = CliRunner(env={"COLUMNS": "100"}).invoke(main, ["--help"]).output
    assert "exit 1 if a file changed." in " ".join(listing.split())


def _commands(group, prefix=()):
    import click

    for name, command in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


def test_every_command_has_help_that_names_its_options():
    """`nbprod CMD --help` works for every command and subcommand, and shows its options."""
    seen = list(_commands(main))
    assert {("new",), ("check",), ("bento",), ("score",), ("synth",), ("models", "list")} <= set(seen)
    for path in seen:
        result = CliRunner().invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage: " in result.output and "--help" in result.output, path
        command = main
        for part in path:
            command = command.commands[part]
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--"):
                    assert opt in result.output, (path, opt)
