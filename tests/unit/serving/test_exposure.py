"""The address a service really binds, against the pinned BentoML's configuration."""

from __future__ import annotations

import socket

import bentoml
import pytest

from nbprod.errors import ConfigError
from nbprod.serving.exposure import (
    bind_address,
    check_exposure,
    configured_host,
    is_loopback,
    last_option,
)


@bentoml.service(name="exposed", http={"host": "127.0.0.1", "port": 3000})
class Exposed:
    @bentoml.api
    def ping(self) -> str:
        return "pong"


def test_the_last_option_wins_as_click_reads_it():
    argv = ["bentoml", "serve", "x", "--host", "127.0.0.1", "--host=0.0.0.0"]
    assert last_option(argv, "--host") == "0.0.0.0"
    assert last_option(["bentoml", "serve", "--host", "::", "--host", "::1"], "--host") == "::1"
    assert last_option(["bentoml", "serve"], "--host") is None


def test_loopback_is_any_loopback_address():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.5", "::1", "localhost", "[::1]"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.2", "", "example.org"))


@pytest.mark.parametrize("env", [
    {"BENTOML_CONFIG_OPTIONS": "services.exposed.http.host=0.0.0.0"},
    {"BENTOML_CONFIG_OVERRIDES": '{"services": {"exposed": {"http": {"host": "0.0.0.0"}}}}'},
])
def test_the_configuration_overrides_the_service(monkeypatch, env):
    assert configured_host(Exposed) == "127.0.0.1"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert configured_host(Exposed) == "0.0.0.0"


def test_a_config_file_overrides_the_service(monkeypatch, tmp_path):
    config = tmp_path / "bentoml.yaml"
    config.write_text("services:\n  exposed:\n    http:\n      host: 0.0.0.0\n")
    monkeypatch.setenv("BENTOML_CONFIG", str(config))
    assert configured_host(Exposed) == "0.0.0.0"


def test_the_command_line_overrides_the_configuration(monkeypatch):
    monkeypatch.setenv("BENTOML_CONFIG_OPTIONS", "services.exposed.http.host=0.0.0.0")
    argv = ["bentoml", "serve", "x", "--host", "0.0.0.0", "--host", "127.0.0.1"]
    assert bind_address(Exposed, argv, {}) == ("127.0.0.1", "--host")
    assert bind_address(Exposed, ["bentoml", "serve"], {"BENTOML_HOST": "::"})[0] == "::"
    assert bind_address(Exposed, ["bentoml", "serve"], {})[0] == "0.0.0.0"


def test_a_worker_reads_its_listening_socket():
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        argv = ["worker", "nbprod.serving.service:ModelService", "--fd", str(sock.fileno())]
        host, source = bind_address(Exposed, argv, {"BENTOML_HOST": "127.0.0.1"})
        assert (host, "fd") == ("0.0.0.0", source.split()[-2].strip("("))
        sock.getsockname()  # the socket itself is still open


def test_no_key_is_refused_beyond_loopback_only():
    for host in ("127.0.0.1", "::1", "localhost"):
        check_exposure("", host)
    check_exposure("k", "0.0.0.0")
    with pytest.raises(ConfigError, match=r"refusing to serve on 0.0.0.0 \(from --host\) without"):
        check_exposure("", "0.0.0.0", "--host")


def test_the_prediction_routes_get_no_span_unless_bentoml_exports_them(tmp_path):
    from nbprod.serving.tracing import excluded_from_tracing

    routes = ["/predict", "/predict_batch"]
    assert excluded_from_tracing(routes, {}) == routes
    config = tmp_path / "bentoml.yaml"
    config.write_text("services:\n  churn:\n    workers: 2\n")
    assert excluded_from_tracing(routes, {"BENTOML_CONFIG": str(config)}) == routes
    config.write_text("services:\n  churn:\n    tracing:\n      exporter_type: otlp\n")
    assert excluded_from_tracing(routes, {"BENTOML_CONFIG": str(config)}) == []
    options = {"BENTOML_CONFIG_OPTIONS": "services.churn.tracing.exporter_type=zipkin"}
    assert excluded_from_tracing(routes, options) == []
    assert excluded_from_tracing(routes, {"BENTOML_CONFIG": str(tmp_path / "absent")}) == routes
