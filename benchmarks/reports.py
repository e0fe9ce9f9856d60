"""Cost of the executed reports' HTML: Ploomber's own conversion (what a build paid before
nbprod.pipeline.reports) against the tidy that replaces it, on the same notebooks, in one process.

    python benchmarks/reports.py [products/reports]    # after `make run` (or a smoke build)

Alternates, over every executed notebook in the folder, Ploomber's conversion (read,
``nbconvert.export(HTMLExporter, nb)``: a new exporter per notebook) with the tidy (read,
:func:`nbprod.pipeline.reports.tidy_notebook`, write the ``.ipynb``, export the HTML with the
process's one exporter), and prints the median time of each round and their ratio. Nothing is written to the
folder: the tidy writes into a temporary copy.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbconvert
import nbformat

from nbprod.pipeline.reports import html_report, tidy_notebook
from nbprod.registry.lineage import find_project_root

ROUNDS = 5


def main(folder: Path) -> None:
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        sys.exit(f"no executed notebooks in {folder}; run the pipeline first")
    root = find_project_root(folder)
    ploomber, tidy = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(ROUNDS):
            start = time.perf_counter()
            for path in notebooks:
                nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
                nbconvert.export(nbconvert.HTMLExporter, nb)
            ploomber.append(time.perf_counter() - start)
            start = time.perf_counter()
            for path in notebooks:
                nb = tidy_notebook(nbformat.read(path, as_version=4), root, folder.resolve())
                nbformat.write(nb, Path(scratch) / path.name)
                (Path(scratch) / path.with_suffix(".html").name).write_text(html_report(nb))
            tidy.append(time.perf_counter() - start)
    a, b = statistics.median(ploomber), statistics.median(tidy)
    print(f"{len(notebooks)} reports, median of {ROUNDS} rounds")
    print(f"ploomber's html conversion  {a:.3f} s")
    print(f"nbprod.pipeline.reports tidy         {b:.3f} s  ({b / a:.2f}x Ploomber's conversion)")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "products/reports"))
