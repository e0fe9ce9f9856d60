"""Serving: the registered model answers, one record online or a whole file offline.

- :mod:`.service`: the BentoML service (``bentofile.yaml``'s
  ``service: nbprod.serving.service:ModelService``);
- :mod:`.predictor`: the model behind it, its typed input record, the version header;
- :mod:`.free_fields`: the API fields of the kinds that are text on the wire (dates, free text);
- :mod:`.answers`: the answer of each model kind;
- :mod:`.trial`: the gate's trial of single records through ``/predict``'s path;
- :mod:`.api_page`: the API page at ``/`` and ``/docs``, nothing loaded from outside;
- :mod:`.batcher`: concurrent single records sharing a model call;
- :mod:`.direct_route`: ``/predict`` answered in front of BentoML's router;
- :mod:`.tracing`: which requests get an OpenTelemetry span;
- :mod:`.guard`, :mod:`.admission`, :mod:`.exposure`, :mod:`.worker`: the API key, limits,
  admission by expected wait, the refusal to bind beyond loopback without a key, the worker;
- :mod:`.batch`, :mod:`.batch_output`, :mod:`.dataset_scoring`: a file scored in chunks and
  written as Parquet or CSV, locally or on Dask (``nbprod score``).

May import: the monitoring, registry, model and data stages and the floor (errors,
settings, compat).
"""
