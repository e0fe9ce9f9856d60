"""The CLI's progress display: shown from the first moment, with rate and time left.

A long command (``nbprod score``) first spends seconds importing, counting rows and
loading the model. :class:`RowsProgress` shows a spinner naming that stage at once,
then a bar of rows done with rows/s and the estimated time left. It draws on stderr and
only on a terminal (piped or captured output stays clean).
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Rows per second, from rich's own moving window of samples."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} rows/s", style="progress.data.speed")


class RowsProgress:
    """``with RowsProgress("scoring") as bar: bar.stage("loading"); bar.start(n); bar.advance(k)``."""

    def __init__(self, what: str, console: Console | None = None) -> None:
        self.what = what
        self.console = console or Console(stderr=True)
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("rows"),
            RateColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            disable=not self.console.is_terminal,
        )
        self._task = self._progress.add_task(f"{what}: starting", total=None)

    def __enter__(self) -> RowsProgress:
        self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.stop()

    def stage(self, text: str) -> None:
        """Name what happens before the first row (the spinner keeps turning)."""
        self._progress.update(self._task, description=f"{self.what}: {text}")
        self._progress.refresh()

    def start(self, total: int | None) -> None:
        """The rows begin: ``total`` of them (None when unknown); the clock restarts."""
        self._progress.reset(self._task, total=total, description=self.what)

    def advance(self, rows: int) -> None:
        self._progress.advance(self._task, rows)
