"""The guard's settings and its open routes."""

from __future__ import annotations

import pytest

from nbprod.errors import ConfigError
from nbprod.guard import GuardSettings, guard_settings, is_open


def test_settings_default_and_from_the_environment():
    assert guard_settings({}) == GuardSettings()
    s = guard_settings({"NBPROD_API_KEY": " k ", "NBPROD_MAX_BODY_BYTES": "10",
                        "NBPROD_MAX_CONCURRENCY": "3", "NBPROD_REQUEST_TIMEOUT": "0.5"})
    assert (s.api_key, s.max_body_bytes, s.max_concurrency, s.timeout) == ("k", 10, 3, 0.5)


@pytest.mark.parametrize("name,value", [("NBPROD_MAX_BODY_BYTES", "1MB"),
                                        ("NBPROD_MAX_CONCURRENCY", "0"),
                                        ("NBPROD_REQUEST_TIMEOUT", "-1")])
def test_a_bad_setting_is_named(name, value):
    with pytest.raises(ConfigError, match=f"\\${name}='{value}'"):
        guard_settings({name: value})


def test_only_health_metrics_and_docs_are_open():
    assert all(is_open(p) for p in ("/livez", "/readyz", "/metrics", "/docs.json",
                                     "/static_content/x.css"))
    assert not any(is_open(p) for p in ("/predict", "/metadata", "/feedback", "/livez/x"))
