"""The toolkit's layout shows the flow (ARCHITECTURE.md): one subpackage per stage, imports
that point only from a later stage to an earlier one, no circle, and modules small enough
to read (one concept per module)."""

import ast
from pathlib import Path

import pytest

import nbprod

SRC = Path(nbprod.__file__).resolve().parent
#: The most lines a module may have; past it, split it by concept.
MAX_LINES = 400

#: The rooms of the toolkit, earliest first: a module may import from its own room and from
#: the rooms before it, never from a later one. The floor (``errors``, ``settings`` and
#: ``compat``) is what every stage may use; it imports nothing of theirs.
ROOMS = ["floor", "data", "model", "registry", "check", "monitoring", "serving", "pipeline",
         "export", "scaffold", "cli"]
FLOOR = {"__init__", "errors", "settings", "compat"}
#: The stages whose docstring names each of their modules; every package says what it may import.
STAGES = ["data", "model", "registry", "monitoring", "serving", "pipeline"]
PACKAGES = [*STAGES, "compat", "check", "export", "scaffold", "cli"]


def modules() -> dict[str, Path]:
    """Every toolkit module by dotted name under nbprod (``data.columns``, ``errors``)."""
    found = {}
    for path in SRC.rglob("*.py"):
        if "__pycache__" in path.parts or "templates" in path.parts:
            continue
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def room(module: str) -> str:
    top = module.split(".")[0]
    return "floor" if top in FLOOR else top


def imports(module: str, source: str, known: dict[str, Path], package: bool = False) -> set[str]:
    """The toolkit modules that ``module`` (of this ``source``; ``package``: an ``__init__``)
    imports anywhere in its body, lazy and type-only imports included."""
    parts = [] if module == "__init__" else module.split(".")
    package_parts = parts if package else parts[:-1]
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                target = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.split(".")[0] == "nbprod":
                target = node.module.split(".")[1:]
            else:
                continue
            if ".".join(target) in known:
                out.add(".".join(target))
            for alias in node.names:  # ``from . import lineage``: the name is a module
                sub = ".".join([*target, alias.name])
                if sub in known:
                    out.add(sub)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top, _, rest = alias.name.partition(".")
                if top == "nbprod" and rest in known:
                    out.add(rest)
    out.discard(module)
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path.read_text(), known, path.name == "__init__.py")
            for name, path in known.items()}


def test_no_toolkit_module_is_over_the_limit():
    sizes = {p.relative_to(SRC).as_posix(): len(p.read_text().splitlines())
             for p in SRC.rglob("*.py") if "__pycache__" not in p.parts}
    assert len(sizes) > 50, "the toolkit's modules were found"
    over = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert not over, f"modules over {MAX_LINES} lines (split them by concept): {over}"


def test_every_module_is_in_a_room():
    """Only the floor lies at the top of the package; everything else is in a stage's room."""
    strays = sorted(m for m in modules() if room(m) not in ROOMS)
    assert not strays, f"modules outside the rooms {ROOMS}: {strays}"
    top = sorted(p.name for p in SRC.glob("*.py"))
    assert top == ["__init__.py", "errors.py", "settings.py"]


def test_imports_point_from_a_later_stage_to_an_earlier_one():
    arrows = graph()
    assert sum(map(len, arrows.values())) > 100, "the imports were read"
    back = sorted(f"{source} -> {target}" for source, targets in arrows.items()
                  for target in targets if ROOMS.index(room(target)) > ROOMS.index(room(source)))
    assert not back, "imports that run back up the flow (ROOMS in this test):\n" + "\n".join(back)


def test_the_rule_sees_an_arrow_that_runs_back():
    """The reader of imports finds a lazy, relative import of a later stage."""
    source = ("from ..data import columns\n"
              "def f():\n    from ..serving.service import ModelService\n")
    found = imports("model.probe", source, modules())
    assert found == {"data", "data.columns", "serving.service"}
    assert ROOMS.index(room("serving.service")) > ROOMS.index(room("model.probe"))


def _cycle(arrows: dict[str, set[str]]) -> list[str]:
    """One circle of imports, or []."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(arrows.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(arrows):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_no_module_imports_form_a_circle():
    # a package's __init__ importing its own modules (check, export, scaffold, cli) is its API,
    # not a circle through the modules that name the package
    arrows = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph().items()}
    assert not (found := _cycle(arrows)), "a circle of imports: " + " -> ".join(found)


def test_the_circle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_says_what_it_may_import(package):
    doc = ast.get_docstring(ast.parse((SRC / package / "__init__.py").read_text())) or ""
    assert "May import" in doc, f"nbprod.{package} does not say what it may import"


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_names_its_modules(stage):
    doc = ast.get_docstring(ast.parse((SRC / stage / "__init__.py").read_text())) or ""
    named = sorted(p.stem for p in (SRC / stage).glob("*.py") if p.stem != "__init__")
    missing = [m for m in named if f":mod:`.{m}`" not in doc]
    assert not missing, f"nbprod.{stage}'s docstring does not name {missing}"
