"""Speed of ``nbprod check`` against the import of Ploomber, measured in the same run.

    python benchmarks/check.py             # from the project root, in its environment
    python benchmarks/check.py --rounds 5

Writes 250 notebooks (by default) into a temporary folder, generated from the corpus the
tests use: papermill's test notebooks and the percent-format ``.py`` task of a project
written by ``ploomber scaffold`` (both arrive with the pinned dependencies), cycled. Then
times, in alternating rounds (the minimum of each is kept, as the machine is shared):

- ``python -c "import ploomber"`` (the baseline: any Ploomber command costs at least this);
- ``nbprod check FOLDER`` on the 250 notebooks;
- ``nbprod check`` on this project (its pipeline.yaml, read with Ploomber's spec loader).

and prints each as a ratio of the baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def corpus(dest: Path) -> list[Path]:
    """The notebooks the copies are made from: papermill's and a scaffolded .py task."""
    import papermill
    from ploomber_scaffold import scaffold

    with contextlib.chdir(dest), contextlib.redirect_stdout(io.StringIO()):
        scaffold.cli("scaffolded", package=False, conda=False)
    notebooks = sorted((Path(papermill.__file__).parent / "tests" / "notebooks").glob("*.ipynb"))
    return notebooks + [dest / "scaffolded" / "scripts" / "fit.py"]


def generate(count: int, folder: Path, sources: list[Path]) -> None:
    folder.mkdir()
    for index in range(count):
        source = sources[index % len(sources)]
        shutil.copy(source, folder / f"nb{index:03d}_{source.name}")


def wall(cmd: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    took = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1: findings (papermill's notebooks break rules)
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-500:]}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", type=int, default=250)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        generate(args.notebooks, tmp / "notebooks", corpus(tmp))
        commands = {
            "python -c 'import ploomber'": ([str(BIN / "python"), "-c", "import ploomber"], ROOT),
            f"nbprod check ({args.notebooks} notebooks)": (
                [str(BIN / "nbprod"), "check", str(tmp / "notebooks")], ROOT),
            "nbprod check (this project)": ([str(BIN / "nbprod"), "check"], ROOT),
        }
        best = {name: float("inf") for name in commands}
        for _ in range(args.rounds):
            for name, (cmd, cwd) in commands.items():
                best[name] = min(best[name], wall(cmd, cwd))
    baseline = best["python -c 'import ploomber'"]
    for name, seconds in best.items():
        print(f"{name:<36} {seconds:6.2f} s   ratio {seconds / baseline:5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
