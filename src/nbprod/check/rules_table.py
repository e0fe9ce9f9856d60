"""The rule registry: one function per rule, registered with :func:`rule`.

A project adds its own rule the same way, in a module of its own, and makes it
known to ``nbprod check`` through the ``nbprod.check`` entry point group::

    # acme/notebook_rules.py
    from nbprod.check import Hit, rule

    @rule("ACME001", "no-print", "no print() in notebooks")
    def no_print(nb):
        for cell, line, text in nb.code_lines():
            if "print(" in text:
                yield Hit(cell, line, "print() in a pipeline notebook", "log or display instead")

    # pyproject.toml
    [project.entry-points."nbprod.check"]
    acme = "acme.notebook_rules"
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from ..errors import ConfigError
from .findings import ERROR, WARNING, Hit

if TYPE_CHECKING:
    from .context import NotebookContext

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "nbprod.check"

RuleFunction = Callable[["NotebookContext"], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    summary: str
    severity: str
    function: RuleFunction
    fixable: bool = False
    needs_notebook: bool = True  # skipped when the file is not a readable notebook
    python_only: bool = False  # skipped on R, Julia, bash... notebooks


RULES: dict[str, Rule] = {}


def rule(
    id: str,
    name: str,
    summary: str,
    severity: str = ERROR,
    fixable: bool = False,
    needs_notebook: bool = True,
    python_only: bool = False,
) -> Callable[[RuleFunction], RuleFunction]:
    """Register the decorated function as rule ``id`` (e.g. ``NB003``)."""
    if severity not in (ERROR, WARNING):
        raise ConfigError(f"rule {id}: severity {severity!r} is not {ERROR!r} or {WARNING!r}")

    def register(function: RuleFunction) -> RuleFunction:
        if id in RULES and RULES[id].function is not function:
            raise ConfigError(f"rule id {id} is already registered by {RULES[id].function}")
        RULES[id] = Rule(id, name, summary, severity, function, fixable, needs_notebook,
                         python_only)
        return function

    return register


def unregister(id: str) -> None:
    RULES.pop(id, None)


def load_plugins() -> None:
    """Import the modules of the ``nbprod.check`` entry points (they register rules)."""
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        log.debug("loading notebook rules from %s", entry.value)
        entry.load()


def select_rules(select: Iterable[str] | None = None, ignore: Iterable[str] = ()) -> list[Rule]:
    """The registered rules, in id order, restricted to ``select`` and minus ``ignore``."""
    chosen = {s.upper() for s in select} if select else set(RULES)
    dropped = {s.upper() for s in ignore}
    unknown = (chosen | dropped) - set(RULES)
    if unknown:
        raise ConfigError(
            f"unknown rule id(s) {sorted(unknown)}; known: {', '.join(sorted(RULES))}"
        )
    return [RULES[i] for i in sorted(chosen - dropped)]
