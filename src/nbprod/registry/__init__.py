"""The registry and the lifecycle: a fitted model becomes a registered, gated, packaged version.

- :mod:`.store`: the BentoML model store: register, load (sha256-checked), the feature schema;
- :mod:`.lineage`: what a version was made from (parameters, git, data and notebook hashes,
  versions);
- :mod:`.gate`, :mod:`.lifecycle`: the quality gate, stages, promotion and rollback;
- :mod:`.rescoring`: production re-scored on the candidate's test set before the gate;
- :mod:`.storelock`, :mod:`.fingerprint`: one writer of the store at a time, and when it changed;
- :mod:`.compare`: two versions side by side (metrics, lineage, gate) and the timeline;
- :mod:`.trace`: the lineage chain re-checked (``nbprod lineage``);
- :mod:`.bento`, :mod:`.wheel`: the production version packaged as a bento carrying nbprod's
  wheel.

May import: the model and data stages and the floor (errors, settings, compat).
"""
