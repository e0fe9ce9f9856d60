"""The scaffold: ``nbprod new`` writes a complete project for a data file and a target.

* :mod:`.infer`: data -> the proposed column table (the target, the model kind, dropped);
* :mod:`.derived`: her ``clean(df)`` from ``--clean FILE``, and the target it computes;
* :mod:`.column_rules`: one column -> its kind, categories, range, blanks, or why it is left out;
* :mod:`.date_formats`: which common format a column of text dates is written in, or why
  none is chosen (month first and day first both read it);
* :mod:`.names`: raw headers -> identifiers;
* :mod:`.tablefile`: the table as the commented ``columns.yaml``;
* :mod:`.writer`: a folder written all-or-nothing, with its first git commit;
* :mod:`.project`: the templates rendered for one project, and :func:`create_project`;
* :mod:`.notebook_source`: her notebook's code cells as Python, magics and shell lines out;
* :mod:`.notebook_statements`: her cells as statements, and the names each reads and writes;
* :mod:`.notebook_rules`: which frame statements run on one record, and why the others are
  training's only;
* :mod:`.notebook_flow`: her notebook's data flow (raw frame, split, fit, feature steps);
* :mod:`.notebook_code`: her definitions and feature steps as her package's modules;
* :mod:`.notebook_params`: her data path, split and literal hyper-parameters as parameters;
* :mod:`.notebook_run`: her notebook run once, the served path's parity checked;
* :mod:`.notebook_split`: her cells split into tasks (tags, headings), what flows between;
* :mod:`.notebook_tasks`: her tasks' notebooks (parameters, values in and out, her cells);
* :mod:`.adoption`: read + analyse + run, or a refusal naming the cell and line;
* :mod:`.adopted_project`: the project of an adopted notebook (``nbprod new --notebook``).

May import every stage before it: the data (inference), the model (the estimators), the
registry (nbprod's wheel) and the floor.
"""

from .infer import Inferred, infer_column, infer_table, read_data
from .names import identifier, identifiers
from .project import Created, create_project

__all__ = [
    "Created",
    "Inferred",
    "create_project",
    "identifier",
    "identifiers",
    "infer_column",
    "infer_table",
    "read_data",
]
