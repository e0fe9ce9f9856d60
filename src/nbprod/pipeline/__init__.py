"""The pipeline around Ploomber: its hooks, its reports and what people see of a build.

- :mod:`.registration`: the register step in one call (lineage, the single-record trial of
  the service's path, register, gate);
- :mod:`.hooks`: ``on_render`` (the contract check first), ``on_finish``;
- :mod:`.failure`: ``on_failure``, the failed task remembered;
- :mod:`.reports`, :mod:`.report_index`: each executed notebook as HTML, and the index;
- :mod:`.compare_page`: two model versions on one page, curves overlaid, metrics over time;
- :mod:`.plot`: the DAG and each task's status, offline;
- :mod:`.lab`: the Jupyter server extension that injects a task's parameters on open;
- :mod:`.lab_panel`, :mod:`.lab_build`: the server extension behind JupyterLab's nbprod
  panel (tasks and status, builds, models, the comparison page);
- :mod:`.summary`: what a build produced (``nbprod summary``);
- :mod:`.env_file`: the defaults of ``env.yaml``;
- :mod:`.adoption`: the steps of an adopted notebook's pipeline that are nbprod's: her run
  kept, her model served behind her feature function with its parity checked.

May import every stage before it: the notebook check (:mod:`nbprod.check`), serving,
monitoring, the registry, the model, the data and the floor.
"""
