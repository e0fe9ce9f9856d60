"""The toolkit's modules stay small enough to read (ARCHITECTURE.md: one concept per module)."""

from pathlib import Path

import nbprod

SRC = Path(nbprod.__file__).resolve().parent
#: The most lines a module may have; past it, split it by concept.
MAX_LINES = 400


def test_no_toolkit_module_is_over_the_limit():
    sizes = {p.relative_to(SRC).as_posix(): len(p.read_text().splitlines())
             for p in SRC.rglob("*.py") if "__pycache__" not in p.parts}
    assert len(sizes) > 50, "the toolkit's modules were found"
    over = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert not over, f"modules over {MAX_LINES} lines (split them by concept): {over}"
