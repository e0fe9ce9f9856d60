"""Which address a BentoML service really binds, and the refusal to serve it beyond loopback
without an API key.

``bentoml serve`` takes the bind host from, last one winning: the service's own
``http={"host": ...}``, a ``$BENTOML_CONFIG`` file, ``$BENTOML_CONFIG_OPTIONS``
(``services.NAME.http.host=...``), ``$BENTOML_CONFIG_OVERRIDES`` (JSON), then the command line
(the *last* ``--host``, or ``$BENTOML_HOST``). Reading only the first ``--host`` and
``$BENTOML_HOST`` let a key-less service bind 0.0.0.0 three ways. So:

- in the server process (``bentoml serve``, which imports the service before it binds),
  :func:`bind_address` resolves the configuration as BentoML's ``Service.inject_config``
  does (:func:`configured_host`) and lets the command line override it;
- in a worker (started with ``--fd N``, the socket the server bound), it reads the address
  of that socket itself: whatever path led there, this is the address clients reach.

:func:`check_exposure` raises :class:`~nbprod.errors.ConfigError` for a key-less service on
anything but a loopback address; importing the service then fails, so ``bentoml serve``
exits non-zero with that one line before it binds. The configuration is read through
BentoML 1.4's private ``BentoMLConfiguration``; tests/unit/serving/test_exposure.py checks it against
the pinned BentoML.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from ..compat.bentoml import last_option
from ..errors import ConfigError

log = logging.getLogger(__name__)

KEY_ENV = "NBPROD_API_KEY"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an IP address, or ``localhost``) is reachable only from this machine."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(value: str) -> str:
    """The host of a ``Host`` header: ``localhost:3000`` -> ``localhost``, ``[::1]:80`` -> ``::1``."""
    value = value.strip()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    return value.rpartition(":")[0] if value.count(":") == 1 else value


def socket_host(fd: int) -> str:
    """The host a listening socket (file descriptor ``fd``, not taken over) is bound to."""
    sock = socket.socket(fileno=os.dup(fd))
    try:
        if sock.family == socket.AF_UNIX:
            return "localhost"  # a Unix socket is reachable from this machine only
        return str(sock.getsockname()[0])
    finally:
        sock.close()


def configured_host(service: Any) -> str:
    """The host BentoML's resolved configuration gives ``service`` (before the command line).

    The same merge as ``Service.inject_config``: the service's own config as defaults, then
    ``$BENTOML_CONFIG``, ``$BENTOML_CONFIG_OVERRIDES`` and ``$BENTOML_CONFIG_OPTIONS``.
    Nothing global changes.
    """
    from bentoml._internal.configuration import (
        get_bentoml_config_file_from_env,
        get_bentoml_override_config_from_env,
        get_bentoml_override_config_json_from_env,
    )
    from bentoml._internal.configuration.containers import BentoMLConfiguration

    defaults = {"services": {name: (svc.config or {"workers": 1})
                             for name, svc in service.all_services().items()}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # $BENTOML_CONFIG_OPTIONS
        config = BentoMLConfiguration(
            override_config_file=get_bentoml_config_file_from_env(),
            override_config_values=get_bentoml_override_config_from_env(),
            override_defaults=defaults,
            override_config_json=get_bentoml_override_config_json_from_env(),
            use_version=2,
        ).to_dict()
    http = config["services"][service.name].get("http") or config["api_server"]["http"]
    return str(http["host"])


def bind_address(service: Any, argv: Sequence[str], environ: Mapping[str, str]) -> tuple[str, str]:
    """(host, where it came from) that ``service`` is, or will be, bound to in this process."""
    fd = last_option(argv, "--fd")
    if fd is not None and fd.isdigit():
        return socket_host(int(fd)), f"the worker's listening socket (fd {fd})"
    cli = last_option(argv, "--host")
    if cli:
        return cli, "--host"
    env = environ.get("BENTOML_HOST", "").strip()
    if env:
        return env, "$BENTOML_HOST"
    return configured_host(service), "the BentoML configuration"


def check_exposure(api_key: str, host: str, source: str = "") -> None:
    """Refuse to serve on anything but loopback without an API key."""
    if not api_key and not is_loopback(host):
        where = f" (from {source})" if source else ""
        raise ConfigError(
            f"refusing to serve on {host}{where} without an API key: set ${KEY_ENV} "
            f"(clients then send 'Authorization: Bearer <key>'), or bind to 127.0.0.1"
        )


def refuse_exposed(service: Any, api_key: str, argv: Sequence[str],
                   environ: Mapping[str, str]) -> None:
    """:func:`check_exposure` on the address ``service`` really binds here.

    Runs in the processes that serve: ``bentoml serve`` itself and its workers; a plain
    import (``bentoml build``, a test) resolves nothing.
    """
    serving = "serve" in argv[1:3] or "serve-http" in argv[1:3] or "--fd" in argv
    if not serving:
        return
    host, source = bind_address(service, argv, environ)
    log.debug("service %s binds %s (%s)", service.name, host, source)
    check_exposure(api_key, host, source)
