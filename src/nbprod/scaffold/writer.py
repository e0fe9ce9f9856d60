"""Write a project all-or-nothing: into a temporary folder beside the destination, renamed
into place only when every file (and the first git commit) is there.

A failure part-way leaves nothing behind; an existing, non-empty destination is refused
before anything is written. A killed ``nbprod new`` cannot clean up: its temporary folder
(``.NAME.PID.*.partial``) is removed by the next ``nbprod new`` of that name once process PID
is gone, with a warning saying so.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from ..errors import ConfigError, NbprodError

__all__ = ["check_destination", "git_first_commit", "remove_stale_partials", "write_tree"]

log = logging.getLogger(__name__)

EXECUTABLE = 0o755


def _folder_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def check_destination(dest: Path) -> None:
    """Refuse a destination that is a file or a folder with anything in it."""
    if dest.is_file() or dest.is_symlink():
        raise ConfigError(f"{dest} exists and is a file; give a new folder for the project")
    if dest.is_dir() and any(dest.iterdir()):
        raise ConfigError(f"{dest} exists and is not empty; give a new or empty folder")


def git_first_commit(folder: Path, message: str) -> bool:
    """``git init`` + a first commit of everything in ``folder``; False when git is missing."""
    git = shutil.which("git")
    if git is None:
        log.warning("git not found: %s is not a git repository (lineage will name no commit)",
                    folder)
        return False
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    ident = subprocess.run([git, "config", "user.email"], cwd=folder, capture_output=True,
                           text=True, env=env)
    who = [] if ident.stdout.strip() else ["-c", "user.name=nbprod new",
                                           "-c", "user.email=nbprod-new@localhost"]
    for args in (["init", "--quiet", "--initial-branch=main"], ["add", "--all"],
                 [*who, "commit", "--quiet", "--no-verify", "-m", message]):
        result = subprocess.run([git, *args], cwd=folder, capture_output=True, text=True,
                                env=env)
        if result.returncode != 0:
            raise NbprodError(f"git {args[-1] if args[0] != 'init' else 'init'} failed in "
                              f"{folder}: {result.stderr.strip()}")
    return True


def remove_stale_partials(dest: Path) -> list[Path]:
    """Remove the temporary folders of ``nbprod new`` runs for ``dest`` that were killed (their
    process is gone); a running one's stays. Returns what was removed."""
    pattern = re.compile(re.escape(f".{dest.name}.") + r"(\d+)\..*\.partial")
    removed = []
    for folder in dest.parent.glob(f".{dest.name}.*.partial"):
        found = pattern.fullmatch(folder.name)
        if not found or not folder.is_dir():
            continue
        try:
            os.kill(int(found.group(1)), 0)
            continue  # still running
        except ProcessLookupError:
            pass
        except PermissionError:  # another user's running process
            continue
        shutil.rmtree(folder, ignore_errors=True)
        log.warning("removed %s, left by an nbprod new that was stopped", folder)
        removed.append(folder)
    return removed


def write_tree(
    dest: Path,
    files: Mapping[str, str | bytes | Path],
    executable: frozenset[str] = frozenset(),
    finish: Callable[[Path], None] | None = None,
) -> Path:
    """Write ``files`` (relative path -> text, bytes, or a file to copy) as the folder ``dest``.

    ``finish(folder)`` runs on the complete temporary folder before it is renamed (to add
    generated files, make the first commit). Returns ``dest``.
    """
    dest = Path(dest).absolute()
    check_destination(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(dest)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.{os.getpid()}.", suffix=".partial",
                                 dir=dest.parent))
    try:
        work.chmod(_folder_mode())  # mkdtemp's 0700 -> what mkdir would have made
        for rel, content in files.items():
            path = work / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                shutil.copyfile(content, path)
            elif isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
            if rel in executable:
                path.chmod(EXECUTABLE)
        if finish is not None:
            finish(work)
        check_destination(dest)  # nothing appeared there meanwhile
        if dest.is_dir():
            dest.rmdir()
        work.rename(dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    log.info("wrote %d files to %s", len(files), dest)
    return dest
