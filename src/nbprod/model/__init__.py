"""The model: built from the column kinds, fitted, evaluated, saved in a safe format.

- :mod:`.modeling`: preprocessing by column kind and a named estimator, or any class or
  factory with the scikit-learn API;
- :mod:`.dates`: the parts of a date (year, month, day of the week) the preprocessing derives;
- :mod:`.description`: what a fitted model is, for its lineage: classes, parameters, libraries;
- :mod:`.predictions`: the predictions frame of each model kind;
- :mod:`.evaluation`: held-out metrics, permutation importance, training score;
- :mod:`.evaluation_plots`: the evaluation figure of each kind;
- :mod:`.curves`: the evaluation curves as aggregates that hold no row, kept with each version;
- :mod:`.compare_plots`: several versions' curves overlaid, and metrics over time;
- :mod:`.metrics`: which way each metric is better, and which to show;
- :mod:`.artifacts`: the model file (skops: loading runs no code outside the trusted types);
- :mod:`.trust`: which types a model may hold: reviewed lists per library, her packages, the
  project's trust file;
- :mod:`.onnx_model`: a model she exported to ONNX, run by onnxruntime;
- :mod:`.compiling`: every fitted model compiled to ONNX, its parity checked on the held-out
  rows (the fast path the service and batch scoring use where it holds);
- :mod:`.category_codes`: the compiled graph's text categories fed as integer codes;
- :mod:`.adopted`: a notebook's own model served on raw records (her feature function, her
  training columns, her model) and the parity of its answers with her notebook's.

May import: the data stage (:mod:`nbprod.data`) and the floor (errors, settings, compat).
"""
