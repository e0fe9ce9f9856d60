"""What a stopped `nbprod new` leaves, and what a new project keeps in git: a SIGKILL mid-way
left a `.partial` folder (323 MB with a large file) that nothing ever removed; the customer
data is committed by default, and one documented line keeps it out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from datasets import DATASETS

NBPROD = str(Path(sys.executable).parent / "nbprod")


def partials(folder: Path) -> list[Path]:
    return sorted(folder.glob(".credit.*.partial"))


def test_the_folder_of_a_killed_nbprod_new_is_removed_by_the_next_one(tmp_path):
    data = DATASETS["credit"].write(tmp_path)
    where = tmp_path / "projects"
    where.mkdir()
    args = [NBPROD, "new", "credit", "--data", str(data), "--target", "Status"]
    killed = subprocess.Popen(args, cwd=where, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not partials(where) and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    (left,) = partials(where)  # what a killed run leaves behind
    assert not (where / "credit").exists()

    again = subprocess.run(args, cwd=where, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert not left.exists() and partials(where) == []
    assert f"removed {left}, left by an nbprod new that was stopped" in again.stderr
    assert (where / "credit" / "columns.yaml").is_file()


def test_a_running_nbprod_news_folder_is_kept(tmp_path):
    from nbprod.scaffold.writer import remove_stale_partials

    running = tmp_path / f".credit.{os.getpid()}.abc.partial"
    running.mkdir()
    assert remove_stale_partials(tmp_path / "credit") == []
    assert running.is_dir()


def test_one_documented_line_keeps_the_data_out_of_git(tmp_path):
    from nbprod.scaffold.project import create_project

    data = DATASETS["credit"].write(tmp_path)
    created = create_project(tmp_path / "credit", data, "Status", wheel=False)
    root = created.path
    raw = f"data/raw/{created.raw_file}"
    committed = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True,
                               check=True).stdout.split()
    assert raw in committed  # the default: a clean clone runs `make run`
    ignore = root / ".gitignore"
    assert "# data/raw/\n" in ignore.read_text()
    ignore.write_text(ignore.read_text().replace("# data/raw/\n", "data/raw/\n"))
    subprocess.run(["git", "rm", "-r", "--quiet", "--cached", "data/raw"], cwd=root, check=True)
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=root,
                            capture_output=True, text=True, check=True).stdout
    assert raw not in status.replace("D  " + raw, "")  # staged as removed, never untracked
    assert subprocess.run(["git", "check-ignore", "-q", raw], cwd=root).returncode == 0
