"""Monitoring: what the service saw, compared with what the model was trained on.

- :mod:`.monitor`: the per-request monitor the service calls (log, drift, live accuracy);
- :mod:`.config`: its settings from the environment;
- :mod:`.prediction_log`: the request log on disk, with rotation;
- :mod:`.window_drift`: sliding-window drift gauges;
- :mod:`.live_scores`, :mod:`.sibling_predictions`: ``/feedback`` labels matched to
  predictions, across workers;
- :mod:`.instruments`: the Prometheus instruments;
- :mod:`.drift_report`: the offline drift report of a request log (``nbprod drift``).

Requests flow from serving to monitoring, but the imports go the other way: the service
calls the monitor, and the monitor knows nothing of HTTP or BentoML.

May import: the registry, model and data stages and the floor (errors, settings, compat).
"""
