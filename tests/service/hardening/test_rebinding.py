"""DNS rebinding: without a key the service listens on loopback only, yet it answered any
`Host:`, so a web page whose name was pointed at 127.0.0.1 could read `/metadata` (the model,
its lineage) and post to the API from a visitor's browser. A served worker without a key now
answers only requests addressed to localhost or a loopback address; with a key, any name."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:3000",
                                  "127.0.0.1.attacker.example", "10.0.0.8"])
def test_a_keyless_server_refuses_a_host_that_is_not_loopback(server, customer, host):
    for method, path, body in [("POST", "/metadata", {}), ("GET", "/docs.json", None),
                               ("POST", "/predict", {"customer": customer})]:
        resp = server.request(method, path, json=body, headers={"Host": host})
        assert resp.status_code == 403, (path, resp.text)
        assert "Host header names another machine" in resp.json()["error"]


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "127.0.0.2"])
def test_a_keyless_server_answers_its_loopback_names(server, host):
    port = server.base_url.port
    for value in (host, f"{host}:{port}"):
        resp = server.post("/metadata", json={}, headers={"Host": value})
        assert resp.status_code == 200, (value, resp.text)


def test_with_a_key_any_host_is_answered_to_a_client_that_has_the_key(guarded, auth):
    resp = guarded.post("/metadata", json={}, headers={"Host": "api.example.com", **auth})
    assert resp.status_code == 200, resp.text
    assert guarded.post("/metadata", json={}, headers={"Host": "api.example.com"}).status_code == 401
