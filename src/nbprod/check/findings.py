"""What a rule reports: a :class:`Finding` at ``path:cell:line``, with a hint to fix it.

Cells count from 1 in notebook order (markdown cells included), lines from 1 inside
the cell, as a person counts them in JupyterLab. A finding about the whole notebook
has no cell; one about a whole cell has no line. In a text notebook (a percent-format
``.py`` task) the finding also carries ``file_line``, the line of the file itself, and
is shown as ``path:file_line`` as an editor or a linter shows it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

ERROR = "error"
WARNING = "warning"

_IGNORE = re.compile(r"#\s*nbprod:\s*ignore(?:\[(?P<ids>[^\]]*)\])?", re.IGNORECASE)


@dataclass(frozen=True)
class Hit:
    """What a rule function yields; the runner adds the rule and the notebook."""

    cell: int | None
    line: int | None
    message: str
    hint: str = ""


@dataclass(frozen=True)
class Finding:
    """One broken rule in one notebook."""

    path: str
    cell: int | None
    line: int | None
    rule: str
    name: str
    severity: str
    message: str
    hint: str = ""
    file_line: int | None = None

    @property
    def location(self) -> str:
        if self.file_line is not None:
            return f"{self.path}:{self.file_line}"
        parts = [self.path] + [str(p) for p in (self.cell, self.line) if p is not None]
        return ":".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format(self) -> str:
        """``path:cell:line RULE message`` and, on the next line, the hint."""
        text = f"{self.location} {self.rule} {self.message}"
        if self.severity != ERROR:
            text = f"{self.location} {self.rule} ({self.severity}) {self.message}"
        return text + (f"\n    hint: {self.hint}" if self.hint else "")


def ignored_rules(line: str) -> set[str] | None:
    """Rule ids a ``# nbprod: ignore[NB006,NB007]`` comment on ``line`` silences.

    Returns None when the line has no such comment and ``{"*"}`` for a bare
    ``# nbprod: ignore`` (every rule).
    """
    match = _IGNORE.search(line)
    if not match:
        return None
    ids = match.group("ids")
    if ids is None:
        return {"*"}
    return {part.strip().upper() for part in ids.split(",") if part.strip()}
