"""The build that JupyterLab's nbprod panel starts: ``ploomber build`` (the whole pipeline) or
``ploomber task NAME --force`` (one task), run in the Lab's root folder as a subprocess,
one at a time, its output kept for the panel to poll (:mod:`.lab_panel`)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError

#: how much of a build's output the panel is sent (its end)
OUTPUT_LIMIT = 20_000
#: what every build started from the Lab has in its environment (no telemetry: no network)
QUIET_ENV = {"BENTOML_DO_NOT_TRACK": "true", "PLOOMBER_STATS_ENABLED": "false"}


def build_command(task: str | None = None) -> list[str]:
    """The Ploomber command that builds the pipeline, or runs ``task`` even if up to date."""
    beside = Path(sys.executable).with_name("ploomber")
    ploomber = str(beside) if beside.is_file() else "ploomber"
    return [ploomber, "build"] if task is None else [ploomber, "task", task, "--force"]


@dataclass
class Build:
    """One build: what ran, its output so far, and how it ended (``returncode`` None while
    it runs)."""

    command: list[str]
    task: str | None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    returncode: int | None = None
    output: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        text = "".join(self.output)
        return {"task": self.task, "command": " ".join(["ploomber", *self.command[1:]]),
                "running": self.returncode is None, "returncode": self.returncode,
                "started": self.started, "finished": self.finished,
                "output": text[-OUTPUT_LIMIT:]}


class BuildRunner:
    """Starts builds in ``root``, one at a time, and keeps the last one."""

    def __init__(self, root: Path):
        self.root = root
        self.last: Build | None = None
        self._lock = threading.Lock()

    def start(self, task: str | None = None) -> Build:
        """Start a build (a :class:`~nbprod.errors.ConfigError` while one runs)."""
        with self._lock:
            if self.last is not None and self.last.returncode is None:
                raise ConfigError(f"a build is running ({' '.join(self.last.command[1:])}); "
                                   "wait for it to finish")
            build = Build(build_command(task), task)
            proc = subprocess.Popen(
                build.command, cwd=self.root, env={**os.environ, **QUIET_ENV},
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True, errors="replace",
            )
            self.last = build
        threading.Thread(target=_follow, args=(proc, build), daemon=True).start()
        return build

    def state(self) -> dict[str, Any] | None:
        return None if self.last is None else self.last.as_json()


def _follow(proc: subprocess.Popen, build: Build) -> None:
    """Collect ``proc``'s output into ``build`` until it exits."""
    assert proc.stdout is not None
    for line in proc.stdout:
        build.output.append(line)
    build.finished = time.time()
    build.returncode = proc.wait()
