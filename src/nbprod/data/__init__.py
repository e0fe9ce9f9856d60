"""The data: the declared contract of every column, and the data read, checked and split by it.

- :mod:`.columns`: the column table (``columns.yaml``): kinds, categories, ranges, the target;
- :mod:`.model_kinds`: the target's kind (binary, multiclass, regression), declared in that table;
- :mod:`.files`: reading a CSV or Parquet file;
- :mod:`.cleaning`: her ``clean(df)``, run before validation and in the service, named and loaded;
- :mod:`.validation`: every rule of the table checked at once (pandera), dtypes compacted;
- :mod:`.dataset`: features and the label by kind, the split, samples, the summary;
- :mod:`.splits`: her declared split (a train/test column, a date cut-off, a group column,
  her function);
- :mod:`.split_function`: her own split function, called and its answer checked;
- :mod:`.references`: a function of her package named ``module:function``, imported;
- :mod:`.test_set`: the held-out rows' fingerprint (which rows, no row);
- :mod:`.dates`: ISO dates and timestamps, or dates in a column's declared format, read as
  one instant by one parser, their declared range, and as days for drift;
- :mod:`.frames`: the one frame a model sees, trained or served (the dtypes of each kind);
- :mod:`.schema`: the feature schema a model is served by, and the training data's reference
  statistics;
- :mod:`.drift`: the one binning of a column, and PSI and Jensen-Shannon between two samples;
- :mod:`.token_drift`: a text's words hashed into buckets (no word kept), unseen share and overlap;
- :mod:`.synth`: synthetic rows that satisfy the table (scale tests).

May import: :mod:`nbprod.errors`, :mod:`nbprod.settings`, :mod:`nbprod.compat`.
"""
